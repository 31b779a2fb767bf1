// The pure rules of active health checking: how one probe's observation is
// judged, how consecutive results move an instance between statuses, the latency
// moving average, and a bounded history from which uptime is computed.
import type { HealthCheckSpec, HealthStatus, ReportedStatus } from "./types";

/** What one probe concluded. */
export type ProbeOutcome = "pass" | "degraded" | "fail";

export type { ReportedStatus };

/** What a probe saw on the wire, before the check's rules judge it. */
export type ProbeObservation =
  | { readonly ok: true; readonly latencyMs: number; readonly reportedStatus?: ReportedStatus; readonly load?: number }
  | { readonly ok: false; readonly latencyMs: number; readonly error: string };

/** One judged probe, as kept in the history. */
export interface ProbeResult {
  readonly time: number;
  readonly outcome: ProbeOutcome;
  readonly latencyMs: number;
  /** The load the answer reported, if any. */
  readonly load: number | undefined;
  /** Why it failed or degraded ("" for a plain pass). */
  readonly error: string;
}

/** Weight of the newest passing latency in the moving average. */
export const LATENCY_EWMA_ALPHA = 0.3;

/** Judges an observation by the check's rules (self-reported status, degraded latency, load range). */
export function judgeProbe(observation: ProbeObservation, spec: HealthCheckSpec, time: number): ProbeResult {
  const latencyMs = observation.latencyMs;
  if (!observation.ok) return { time, outcome: "fail", latencyMs, load: undefined, error: observation.error };
  const load = observation.load;
  if (load !== undefined && (!Number.isFinite(load) || load < 0 || load > 1)) {
    return { time, outcome: "fail", latencyMs, load: undefined, error: `load_percentage ${load} is not a number from 0 to 1` };
  }
  if (observation.reportedStatus === "unhealthy") return { time, outcome: "fail", latencyMs, load, error: "reported unhealthy" };
  if (observation.reportedStatus === "degraded") return { time, outcome: "degraded", latencyMs, load, error: "reported degraded" };
  if (spec.degradedLatencyMs !== undefined && latencyMs > spec.degradedLatencyMs) {
    return { time, outcome: "degraded", latencyMs, load, error: `slower than ${formatMs(spec.degradedLatencyMs)}` };
  }
  return { time, outcome: "pass", latencyMs, load, error: "" };
}

/** "5s", "1.5s" or "250ms": durations as failure reasons show them. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${Number(ms.toFixed(3))}ms`;
}

// Worse statuses rank higher. "unknown" ranks above "degraded": an instance with
// too few passing probes is not served, whatever it says about itself.
// "draining" never comes from probes or reports; the registry keeps it apart.
const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unknown: 2, unhealthy: 3, draining: 4 };

/**
 * One instance's probe state. Probes own the status; a status the instance
 * reports about itself (heartbeat) can only make it worse, until the instance
 * reports HEALTHY again, which withdraws its complaint.
 */
export class HealthTracker {
  private probeStatus: HealthStatus = "unknown";
  private reported: ReportedStatus | undefined;
  private passes = 0;
  private failures = 0;
  private ewma: number | undefined;
  // Grown as results arrive (an instance that was never probed holds no slots),
  // then reused as a ring of `capacity`.
  private readonly ring: ProbeResult[] = [];
  private readonly capacity: number;
  private next = 0;
  private size = 0;
  private passing = 0;

  /** @param initial the status to start from: "unknown" for a new instance, the current one when a check changes. */
  constructor(
    readonly spec: HealthCheckSpec,
    historySize: number,
    initial: HealthStatus = "unknown",
  ) {
    this.probeStatus = initial;
    this.capacity = Math.max(1, historySize);
  }

  /** The status the instance should have now. */
  get status(): HealthStatus {
    const reported = this.reported;
    if (reported === undefined || RANK[reported] <= RANK[this.probeStatus]) return this.probeStatus;
    return reported;
  }

  /** Moving average of passing probes' latency (undefined before the first pass). */
  get latencyAverageMs(): number | undefined {
    return this.ewma;
  }

  /** Share of passing (pass or degraded) probes in the retained history; 0 before the first. */
  get uptime(): number {
    return this.size === 0 ? 0 : this.passing / this.size;
  }

  /** Applies one judged probe: counters, thresholds, average and history. */
  record(result: ProbeResult): void {
    const passed = result.outcome !== "fail";
    this.remember(result, passed);
    if (!passed) {
      this.failures++;
      this.passes = 0;
      if (this.failures >= this.spec.unhealthyThreshold) this.probeStatus = "unhealthy";
      return;
    }
    this.failures = 0;
    this.passes++;
    this.ewma = this.ewma === undefined ? result.latencyMs : this.ewma + LATENCY_EWMA_ALPHA * (result.latencyMs - this.ewma);
    const serving = this.probeStatus === "healthy" || this.probeStatus === "degraded";
    // A serving instance follows each passing probe at once (slow → degraded, fast → healthy);
    // an unknown or unhealthy one needs healthyThreshold passes in a row first.
    if (serving || this.passes >= this.spec.healthyThreshold) {
      this.probeStatus = result.outcome === "degraded" ? "degraded" : "healthy";
    }
  }

  /** A status the instance reports about itself; HEALTHY withdraws an earlier complaint. */
  report(status: ReportedStatus): void {
    this.reported = status === "healthy" ? undefined : status;
  }

  /** The retained results, oldest first. */
  history(): ProbeResult[] {
    const out: ProbeResult[] = [];
    const capacity = this.capacity;
    const start = (this.next - this.size + capacity) % capacity;
    for (let i = 0; i < this.size; i++) out.push(this.ring[(start + i) % capacity]!);
    return out;
  }

  private remember(result: ProbeResult, passed: boolean): void {
    const capacity = this.capacity;
    if (this.size === capacity) {
      if (this.ring[this.next]!.outcome !== "fail") this.passing--;
    } else {
      this.size++;
    }
    this.ring[this.next] = result;
    this.next = (this.next + 1) % capacity;
    if (passed) this.passing++;
  }
}

/** True when two checks probe the same way with the same rules. */
export function sameHealthCheck(a: HealthCheckSpec | undefined, b: HealthCheckSpec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (
    a.intervalMs !== b.intervalMs ||
    a.timeoutMs !== b.timeoutMs ||
    a.healthyThreshold !== b.healthyThreshold ||
    a.unhealthyThreshold !== b.unhealthyThreshold ||
    a.degradedLatencyMs !== b.degradedLatencyMs ||
    a.probe.t !== b.probe.t
  ) {
    return false;
  }
  const p = a.probe;
  const q = b.probe;
  if (p.t === "grpc" && q.t === "grpc") return p.service === q.service;
  if (p.t === "redis" && q.t === "redis") return p.passwordRef === q.passwordRef && p.username === q.username;
  if (p.t === "postgres" && q.t === "postgres") return p.user === q.user && p.database === q.database;
  if (p.t === "exec" && q.t === "exec") return p.name === q.name;
  if (p.t === "http" && q.t === "http") {
    if (p.path !== q.path || p.expectedStatusMin !== q.expectedStatusMin || p.expectedStatusMax !== q.expectedStatusMax) return false;
    const keys = Object.keys(p.headers);
    return keys.length === Object.keys(q.headers).length && keys.every((k) => p.headers[k] === q.headers[k]);
  }
  return true;
}
