// The probe rules without a socket or a timer: judging, thresholds, degraded
// latency, the moving average, the bounded history and uptime, and how a
// self-reported status combines with probes.
import { HealthTracker, judgeProbe, LATENCY_EWMA_ALPHA, type ProbeObservation } from "../../src/core/health-state";
import type { HealthCheckSpec } from "../../src/core/types";

const spec: HealthCheckSpec = {
  probe: { t: "tcp" },
  intervalMs: 10_000,
  timeoutMs: 1_000,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  degradedLatencyMs: 200,
};
const pass = (latencyMs = 10): ProbeObservation => ({ ok: true, latencyMs });
const fail = (error = "connection refused"): ProbeObservation => ({ ok: false, latencyMs: 1, error });

function feed(tracker: HealthTracker, ...observations: ProbeObservation[]): string[] {
  return observations.map((o, i) => {
    tracker.record(judgeProbe(o, tracker.spec, i));
    return tracker.status;
  });
}

describe("judgeProbe", () => {
  test("a fast answer passes; one slower than degraded_latency is degraded; failures keep their reason", () => {
    expect(judgeProbe(pass(50), spec, 1)).toEqual({ time: 1, outcome: "pass", latencyMs: 50, load: undefined, error: "" });
    expect(judgeProbe(pass(250), spec, 1)).toMatchObject({ outcome: "degraded", error: "slower than 200ms" });
    expect(judgeProbe(fail("HTTP 503"), spec, 1)).toMatchObject({ outcome: "fail", error: "HTTP 503" });
  });

  test("a body that says unhealthy fails, degraded degrades, and an out-of-range load fails", () => {
    expect(judgeProbe({ ok: true, latencyMs: 5, reportedStatus: "unhealthy" }, spec, 1)).toMatchObject({ outcome: "fail", error: "reported unhealthy" });
    expect(judgeProbe({ ok: true, latencyMs: 5, reportedStatus: "degraded", load: 0.4 }, spec, 1)).toMatchObject({ outcome: "degraded", load: 0.4 });
    expect(judgeProbe({ ok: true, latencyMs: 5, load: 1.5 }, spec, 1)).toMatchObject({ outcome: "fail", error: "load_percentage 1.5 is not a number from 0 to 1" });
  });
});

describe("HealthTracker", () => {
  test("starts unknown and needs healthy_threshold passes in a row to be healthy", () => {
    const tracker = new HealthTracker(spec, 10);
    expect(tracker.status).toBe("unknown");
    expect(feed(tracker, pass(), fail(), pass(), pass())).toEqual(["unknown", "unknown", "unknown", "healthy"]);
  });

  test("unhealthy_threshold consecutive failures make it unhealthy; a pass in between resets the count", () => {
    const tracker = new HealthTracker(spec, 10, "healthy");
    expect(feed(tracker, fail(), fail(), pass(), fail(), fail(), fail())).toEqual(["healthy", "healthy", "healthy", "healthy", "healthy", "unhealthy"]);
    expect(feed(tracker, pass(), pass())).toEqual(["unhealthy", "healthy"]);
  });

  test("a serving instance follows each passing probe: slow makes it degraded, fast makes it healthy again", () => {
    const tracker = new HealthTracker(spec, 10, "healthy");
    expect(feed(tracker, pass(300), pass(20))).toEqual(["degraded", "healthy"]);
  });

  test("an unknown instance whose passes are slow becomes degraded, not healthy", () => {
    const tracker = new HealthTracker(spec, 10);
    expect(feed(tracker, pass(300), pass(300))).toEqual(["unknown", "degraded"]);
  });

  test("the latency average moves by the EWMA weight and ignores failures", () => {
    const tracker = new HealthTracker(spec, 10);
    feed(tracker, pass(100), fail(), pass(200));
    expect(tracker.latencyAverageMs).toBeCloseTo(100 + LATENCY_EWMA_ALPHA * 100);
  });

  test("the history is bounded, oldest first, and uptime is the share of passes in it", () => {
    const tracker = new HealthTracker(spec, 4);
    expect(tracker.uptime).toBe(0);
    feed(tracker, fail(), fail(), pass(), pass(), pass(), fail());
    const history = tracker.history();
    expect(history.map((r) => r.time)).toEqual([2, 3, 4, 5]);
    expect(history.map((r) => r.outcome)).toEqual(["pass", "pass", "pass", "fail"]);
    expect(tracker.uptime).toBe(0.75);
  });

  test("a self-reported UNHEALTHY wins over passing probes until the instance reports HEALTHY", () => {
    const tracker = new HealthTracker(spec, 10, "healthy");
    tracker.report("unhealthy");
    expect(feed(tracker, pass(), pass())).toEqual(["unhealthy", "unhealthy"]);
    tracker.report("healthy");
    expect(tracker.status).toBe("healthy");
    tracker.report("degraded");
    expect(tracker.status).toBe("degraded");
    // Probes saying worse still win over a milder self-report.
    feed(tracker, fail(), fail(), fail());
    expect(tracker.status).toBe("unhealthy");
  });
});
