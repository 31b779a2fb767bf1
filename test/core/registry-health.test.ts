// The registry's side of active health checks, with a manual clock: checks
// resolved and validated at Register, statuses moved by recorded probes, leases
// renewed by passing ones, probe loads feeding critical-load detection.
import { DiscoveryError } from "../../src/core/errors";
import type { Registry } from "../../src/core/registry";
import type { RegistryStore } from "../../src/core/store";
import type { HealthCheckInput, RegistryEvent } from "../../src/core/types";
import type { ManualClock } from "../helpers/manual-clock";
import { input } from "./registry-contract";
import { STORES_UNDER_TEST, useRegistry } from "./stores-under-test";

const check = (overrides: Partial<HealthCheckInput> = {}): HealthCheckInput => ({
  probe: { t: "tcp" },
  intervalMs: undefined,
  timeoutMs: undefined,
  healthyThreshold: 0,
  unhealthyThreshold: 0,
  degradedLatencyMs: undefined,
  ...overrides,
});

async function messageOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DiscoveryError) return `${error.reason}: ${error.message}`;
    throw error;
  }
  return "no error";
}

for (const subject of STORES_UNDER_TEST) describe(`registry with active health checks (${subject.name} store)`, () => {
  let clock: ManualClock;
  let registry: Registry;
  let store: RegistryStore;
  let events: RegistryEvent[];
  const { fixture, test } = useRegistry(subject, { healthCheckIntervalMs: 30_000, healthCheckTimeoutMs: 5_000 });
  beforeEach(() => {
    ({ clock, registry, store, events } = fixture());
  });
  const probe = (ok: boolean, extra: Record<string, unknown> = {}) =>
    registry.recordProbe("users", "u1", ok ? { ok: true, latencyMs: 3, ...extra } : { ok: false, latencyMs: 3, error: "connection refused" });

  test("health_endpoint alone means an HTTP GET of it with the server's defaults", async () => {
    const { instance } = await registry.register(input({ healthEndpoint: "/healthz" }));
    expect(instance.status).toBe("unknown");
    expect(instance.healthCheck).toEqual({
      probe: { t: "http", path: "/healthz", expectedStatusMin: 200, expectedStatusMax: 399, headers: {} },
      intervalMs: 30_000,
      timeoutMs: 5_000,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      degradedLatencyMs: undefined,
    });
  });

  test("an instance without a check starts healthy and has no history", async () => {
    expect((await registry.register(input())).instance.status).toBe("healthy");
    expect(registry.healthHistory("users", "u1")).toEqual({ results: [], latencyAverageMs: undefined, uptime: 0 });
    expect(await messageOf(() => probe(true))).toMatch(/^failed-precondition: .*has no health check/);
  });

  const badChecks: [HealthCheckInput, string][] = [
    [check({ probe: undefined }), "health_check: needs one of http, tcp or grpc"],
    [check({ intervalMs: 500 }), "health_check.interval: must be from 1s to 1h"],
    [check({ intervalMs: 2_000, timeoutMs: 3_000 }), "health_check.timeout: must not exceed the interval"],
    [check({ timeoutMs: 0 }), "health_check.timeout: must be from 1ms to 60s"],
    [check({ healthyThreshold: 101 }), "health_check.healthy_threshold: must be from 1 to 100"],
    [check({ unhealthyThreshold: 1.5 }), "health_check.unhealthy_threshold: must be from 1 to 100"],
    [check({ degradedLatencyMs: 5_000 }), "health_check.degraded_latency: must be more than 0 and shorter than the timeout"],
    [check({ probe: { t: "http", path: "health", expectedStatusMin: 0, expectedStatusMax: 0, headers: {} } }), "health_check.http.path: must be a path starting with '/'"],
    [check({ probe: { t: "http", path: "", expectedStatusMin: 0, expectedStatusMax: 0, headers: {} } }), "health_check.http.path: is required"],
    [check({ probe: { t: "http", path: "/h", expectedStatusMin: 300, expectedStatusMax: 200, headers: {} } }), "health_check.http.expected_status_max: must be from expected_status_min to 599"],
    [check({ probe: { t: "http", path: "/h", expectedStatusMin: 0, expectedStatusMax: 0, headers: { "bad name": "x" } } }), 'health_check.http.headers["bad name"]: name must be an HTTP token'],
    [check({ probe: { t: "http", path: "/h", expectedStatusMin: 0, expectedStatusMax: 0, headers: { host: "x" } } }), 'health_check.http.headers["host"]: is set by the prober'],
    [check({ probe: { t: "http", path: "/h", expectedStatusMin: 0, expectedStatusMax: 0, headers: { x: "a\r\nb" } } }), 'health_check.http.headers["x"]: value must not contain CR, LF or NUL'],
  ];
  for (const [index, [healthCheck, message]] of badChecks.entries()) test(`a bad health check is refused with its field named, and nothing is registered (${index})`, async () => {
    expect(await messageOf(() => registry.register(input({ healthCheck })))).toContain(`invalid-argument: ${message}`);
    expect(store.instanceCount).toBe(0);
    expect(events).toEqual([]);
  });

  test("an interval shorter than the default timeout shortens the timeout to the interval", async () => {
    const { instance } = await registry.register(input({ healthCheck: check({ intervalMs: 2_000 }) }));
    expect(instance.healthCheck).toMatchObject({ intervalMs: 2_000, timeoutMs: 2_000 });
  });

  test("probes move the status with HEALTH_CHANGED events and fill last check, latency and uptime", async () => {
    await registry.register(input({ healthCheck: check() }));
    await probe(true);
    expect(store.get("users", "u1")).toMatchObject({ status: "unknown", lastHealthCheck: clock.now(), latencyMs: 3, uptime: 1 });
    await probe(true);
    await probe(false);
    await probe(false);
    await probe(false);
    const changes = events.filter((e) => e.type === "health-changed").map((e) => `${e.previousStatus}->${e.instance.status}`);
    expect(changes).toEqual(["unknown->healthy", "healthy->unhealthy"]);
    expect(store.get("users", "u1")?.uptime).toBeCloseTo(0.4);
    expect(store.summaryOf("users")).toMatchObject({ healthyCount: 0, unhealthyCount: 1, unknownCount: 0 });
  });

  test("a passing probe renews the lease; a failing one does not", async () => {
    await registry.register(input({ ttlMs: 10_000, healthCheck: check() }));
    clock.advance(9_000);
    await probe(true);
    clock.advance(9_000);
    expect(await registry.expireDue()).toBe(0);
    await probe(false);
    clock.advance(1_001);
    expect(await registry.expireDue()).toBe(1);
    expect(events.at(-1)?.type).toBe("expired");
  });

  test("a load in a probe answer feeds critical-load detection like a heartbeat's", async () => {
    await registry.register(input({ healthCheck: check() }));
    await probe(true, { load: 0.9 });
    expect(store.get("users", "u1")).toMatchObject({ load: 0.9, critical: true });
    expect(events.map((e) => e.type)).toContain("load-critical");
  });

  test("with a check, a self-reported UNHEALTHY wins over passing probes until it reports HEALTHY", async () => {
    await registry.register(input({ healthCheck: check() }));
    await probe(true);
    await probe(true);
    await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "unhealthy" });
    await probe(true);
    expect(store.get("users", "u1")?.status).toBe("unhealthy");
    await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "healthy" });
    expect(store.get("users", "u1")?.status).toBe("healthy");
  });

  test("a draining instance keeps its status and drain deadline while probes are still recorded; ListServices counts it", async () => {
    await registry.register(input({ ttlMs: 60_000, healthCheck: check() }));
    await probe(true);
    await probe(true);
    await registry.unregister("users", "u1", 5_000);
    await probe(true);
    await probe(false);
    expect(store.get("users", "u1")?.status).toBe("draining");
    expect(registry.healthHistory("users", "u1").results).toHaveLength(4);
    expect(store.summaryOf("users")).toMatchObject({ drainingCount: 1, healthyCount: 0 });
    clock.advance(5_001);
    expect(await registry.expireDue()).toBe(1);
    expect(events.at(-1)?.type).toBe("unregistered");
  });

  test("a probe is a fresher verdict than a lost keep-alive stream", async () => {
    await registry.register(input({ healthCheck: check() }));
    await probe(true);
    await probe(true);
    const stream = {};
    await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined }, stream);
    await registry.markKeepAliveLost("users", "u1", stream);
    expect(store.get("users", "u1")?.status).toBe("unhealthy");
    await probe(true);
    expect(store.get("users", "u1")).toMatchObject({ status: "healthy", keepAliveLost: undefined });
  });

  test("a self-reported HEALTHY does not make an instance with too few passing probes healthy", async () => {
    await registry.register(input({ healthCheck: check() }));
    await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "healthy" });
    expect(store.get("users", "u1")?.status).toBe("unknown");
  });

  test("re-registering with another check starts its history over and keeps the status; dropping the check makes it healthy", async () => {
    await registry.register(input({ healthCheck: check() }));
    await probe(true);
    await probe(true);
    await registry.register(input({ healthCheck: check({ intervalMs: 10_000 }) }));
    expect(store.get("users", "u1")).toMatchObject({ status: "healthy", uptime: 0, lastHealthCheck: undefined });
    expect(registry.healthHistory("users", "u1").results).toEqual([]);
    await probe(false);
    await probe(false);
    await probe(false);
    await registry.register(input());
    expect(store.get("users", "u1")).toMatchObject({ status: "healthy", healthCheck: undefined });
  });
});
