// How the prober schedules and runs probes, with the schedules held by the test:
// first probes spread over the interval, the next one an interval later, never
// two at once for one instance, a global bound on probes in flight, and an
// instance that leaves stops being probed at once.
import { DiscoveryService, ProbeOutcome } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient } from "../helpers/grpc-client";
import { ManualClock } from "../helpers/manual-clock";
import { ManualScheduler } from "../helpers/manual-scheduler";
import { HttpTarget, InFlightMeter } from "../helpers/probe-targets";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const M = DiscoveryService.method;

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("prober scheduling", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  let scheduler: ManualScheduler;
  let http: HttpTarget;

  const start = async (probeConcurrency?: number) => {
    scheduler = new ManualScheduler();
    server = await startTestServer({ clock: new ManualClock(), probeScheduler: scheduler, probeConcurrency });
    client = new GrpcTestClient(DiscoveryService, server.target);
  };
  beforeEach(async () => {
    http = await HttpTarget.start();
  });
  afterEach(async () => {
    client.close();
    await server.close();
    await http.close();
  });
  const register = (instanceId: string) =>
    client.unary(M.register, {
      serviceName: "users",
      instanceId,
      host: "127.0.0.1",
      port: http.port,
      healthCheck: { probe: { case: "http", value: { path: "/h" } }, interval: { seconds: 10n } },
    });

  test("first probes are spread over the interval; after a probe the next is due an interval later", async () => {
    await start();
    for (let i = 0; i < 50; i++) await register(`u${i}`);
    const delays = scheduler.pending().map((t) => t.delayMs);
    expect(delays).toHaveLength(50);
    expect(delays.every((d) => d >= 0 && d < 10_000)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(40);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(5_000);
    expect(scheduler.fireAll()).toBe(50);
    await until(() => scheduler.pending().length === 50);
    expect(http.requests).toBe(50);
    expect(server.prober?.stats.completed).toBe(50);
    const next = scheduler.pending().map((t) => t.delayMs);
    expect(next.every((d) => d > 9_000 && d <= 10_000)).toBe(true);
  });

  test("never two probes of one instance at once: CheckNow during a scheduled probe joins it", async () => {
    await start();
    await register("u1");
    http.answer = { ...http.answer, delayMs: 150 };
    scheduler.fireAll();
    await until(() => http.inFlight === 1);
    const [a, b] = await Promise.all([
      client.unary(M.checkNow, { serviceName: "users", instanceId: "u1" }),
      client.unary(M.checkNow, { serviceName: "users", instanceId: "u1" }),
    ]);
    expect(http.requests).toBe(1);
    expect(http.maxInFlight).toBe(1);
    expect(a.result?.time).toEqual(b.result?.time);
    expect(a.result?.outcome).toBe(ProbeOutcome.PASS);
  });

  test("probes in flight stay within the global concurrency bound", async () => {
    await start(3);
    // Six addresses, two instances each: per address at most 2 connections, so only the global bound holds it to 3.
    const meter = new InFlightMeter();
    const targets = await Promise.all(Array.from({ length: 6 }, () => HttpTarget.start(meter)));
    try {
      for (const [i, target] of targets.entries()) {
        target.answer = { ...target.answer, delayMs: 40 };
        for (const n of [0, 1]) {
          await client.unary(M.register, { serviceName: "users", instanceId: `u${i}-${n}`, host: "127.0.0.1", port: target.port, healthEndpoint: "/h" });
        }
      }
      scheduler.fireAll();
      await until(() => server.prober?.stats.completed === 12);
      expect(targets.reduce((sum, t) => sum + t.requests, 0)).toBe(12);
      expect(meter.max).toBe(3);
    } finally {
      await Promise.all(targets.map((t) => t.close()));
    }
  });

  test("an instance that leaves is not probed again and its probe in flight is cut at once", async () => {
    await start();
    await register("u1");
    http.answer = { ...http.answer, delayMs: 10_000 };
    scheduler.fireAll();
    await until(() => http.inFlight === 1);
    const started = Date.now();
    await client.unary(M.unregister, { serviceName: "users", instanceId: "u1" });
    await until(() => http.aborted === 1);
    expect(Date.now() - started).toBeLessThan(1_000);
    await until(() => server.prober?.stats.active === 0);
    expect(scheduler.pending()).toEqual([]);
    expect(server.prober?.stats.targets).toBe(0);
  });

  test("re-registering at another address restarts the schedule there; without a check there is none", async () => {
    await start();
    await register("u1");
    expect(scheduler.pending()).toHaveLength(1);
    const other = await HttpTarget.start();
    try {
      await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "127.0.0.1", port: other.port, healthEndpoint: "/x" });
      expect(scheduler.pending()).toHaveLength(1);
      scheduler.fireAll();
      await until(() => other.requests === 1);
      expect(http.requests).toBe(0);
      await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "127.0.0.1", port: other.port });
      expect(scheduler.pending()).toHaveLength(0);
      expect(server.prober?.stats.targets).toBe(0);
    } finally {
      await other.close();
    }
  });
});
