// Active health checks end to end: the real server (manual clock, probe
// schedules held by the test) probing real HTTP, TCP and gRPC servers on
// 127.0.0.1, driven through CheckNow exactly as an operator would.
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb";
import { DiscoveryService, EventType, HealthStatus, ProbeOutcome, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { ManualClock } from "../helpers/manual-clock";
import { ManualScheduler } from "../helpers/manual-scheduler";
import { closedPort, GrpcHealthTarget, HttpTarget, TcpTarget } from "../helpers/probe-targets";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const M = DiscoveryService.method;
const ms = (n: number) => ({ seconds: BigInt(Math.floor(n / 1000)), nanos: (n % 1000) * 1_000_000 });

describe("active health checks over gRPC", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  let clock: ManualClock;
  let scheduler: ManualScheduler;
  let http: HttpTarget;

  beforeEach(async () => {
    clock = new ManualClock();
    scheduler = new ManualScheduler();
    server = await startTestServer({ clock, probeScheduler: scheduler });
    client = new GrpcTestClient(DiscoveryService, server.target);
    http = await HttpTarget.start();
  });
  afterEach(async () => {
    client.close();
    await server.close();
    await http.close();
  });

  const register = (instanceId: string, extra: Record<string, unknown>) =>
    client.unary(M.register, { serviceName: "users", instanceId, host: "127.0.0.1", port: http.port, ...extra });
  const checkNow = (instanceId = "u1") => client.unary(M.checkNow, { serviceName: "users", instanceId });
  const statusOf = async (instanceId = "u1") =>
    (await client.unary(M.listInstances, { serviceName: "users" })).instances.find((i) => i.instanceId === instanceId)?.status;
  const healthyIds = async () => (await client.unary(M.listHealthy, { serviceName: "users" })).instances.map((i) => i.instanceId);
  async function failure(call: Promise<unknown>): Promise<{ code: number; details: string }> {
    try {
      await call;
    } catch (error) {
      return { code: (error as ServiceError).code, details: (error as ServiceError).details };
    }
    throw new Error("call succeeded");
  }

  test("health_endpoint alone: an HTTP GET with the defaults; UNKNOWN and unlisted until 2 passes, HEALTH_CHANGED from UNKNOWN", async () => {
    const watch = new StreamReader<WatchEvent>(client.serverStream(M.watch, { serviceNames: ["users"] }));
    await watch.take(1); // SYNCED of the empty snapshot
    const { instance } = await register("u1", { healthEndpoint: "/healthz" });
    expect(instance?.status).toBe(HealthStatus.UNKNOWN);
    expect(instance?.healthCheck).toMatchObject({
      probe: { case: "http", value: { path: "/healthz", expectedStatusMin: 200, expectedStatusMax: 399 } },
      interval: { seconds: 30n },
      timeout: { seconds: 5n },
      healthyThreshold: 2,
      unhealthyThreshold: 3,
    });
    expect(await healthyIds()).toEqual([]);
    const first = await checkNow();
    expect(first.result?.outcome).toBe(ProbeOutcome.PASS);
    expect(first.instance?.status).toBe(HealthStatus.UNKNOWN);
    const second = await checkNow();
    expect(second.instance?.status).toBe(HealthStatus.HEALTHY);
    expect(http.paths).toEqual(["/healthz", "/healthz"]);
    expect(await healthyIds()).toEqual(["u1"]);
    const [registered, changed] = await watch.take(2);
    expect(registered?.type).toBe(EventType.REGISTERED);
    expect(changed).toMatchObject({ type: EventType.HEALTH_CHANGED, previousStatus: HealthStatus.UNKNOWN, instance: { status: HealthStatus.HEALTHY } });
  });

  test("3 consecutive HTTP 503s make it UNHEALTHY, 2 passes make it HEALTHY again, each reason kept", async () => {
    await register("u1", { healthEndpoint: "/health" });
    await checkNow();
    await checkNow();
    http.answer = { ...http.answer, status: 503 };
    const results = [await checkNow(), await checkNow()];
    expect(results.map((r) => r.instance?.status)).toEqual([HealthStatus.HEALTHY, HealthStatus.HEALTHY]);
    const third = await checkNow();
    expect(third.result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "HTTP 503" });
    expect(third.instance?.status).toBe(HealthStatus.UNHEALTHY);
    expect(await healthyIds()).toEqual([]);
    http.answer = { ...http.answer, status: 200 };
    expect((await checkNow()).instance?.status).toBe(HealthStatus.UNHEALTHY);
    expect((await checkNow()).instance?.status).toBe(HealthStatus.HEALTHY);
  });

  test("a JSON body that says degraded or unhealthy counts as such; its load_percentage raises LOAD_CRITICAL; bad JSON fails", async () => {
    await register("u1", { healthCheck: { probe: { case: "http", value: { path: "/status" } }, healthyThreshold: 1, unhealthyThreshold: 1 } });
    http.json({ status: "degraded", load_percentage: 0.95 });
    const degraded = await checkNow();
    expect(degraded.result).toMatchObject({ outcome: ProbeOutcome.DEGRADED, loadPercentage: 0.95, error: "reported degraded" });
    expect(degraded.instance).toMatchObject({ status: HealthStatus.DEGRADED, criticalLoad: true, loadPercentage: 0.95 });
    expect(await healthyIds()).toEqual(["u1"]);
    http.json({ status: "healthy", load_percentage: 0.3 });
    expect((await checkNow()).instance).toMatchObject({ status: HealthStatus.HEALTHY, criticalLoad: false });
    http.json({ status: "unhealthy" });
    expect((await checkNow()).result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "reported unhealthy" });
    http.json("{not json");
    const bad = await checkNow();
    expect(bad.result?.error).toMatch(/^bad JSON: /);
    const types = (await client.unary(M.getHealthHistory, { serviceName: "users", instanceId: "u1" })).results.map((r) => r.outcome);
    expect(types).toEqual([ProbeOutcome.DEGRADED, ProbeOutcome.PASS, ProbeOutcome.FAIL, ProbeOutcome.FAIL]);
  });

  test("a passing probe slower than degraded_latency makes it DEGRADED; one past the timeout fails with 'timeout after'", async () => {
    await register("u1", {
      healthCheck: { probe: { case: "http", value: { path: "/h" } }, healthyThreshold: 1, degradedLatency: ms(60), timeout: ms(300) },
    });
    http.answer = { ...http.answer, delayMs: 120 };
    const slow = await checkNow();
    expect(slow.result).toMatchObject({ outcome: ProbeOutcome.DEGRADED, error: "slower than 60ms" });
    expect(slow.instance?.status).toBe(HealthStatus.DEGRADED);
    http.answer = { ...http.answer, delayMs: 0 };
    expect((await checkNow()).instance?.status).toBe(HealthStatus.HEALTHY);
    http.answer = { ...http.answer, delayMs: 2_000 };
    const started = Date.now();
    const timedOut = await checkNow();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(timedOut.result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "timeout after 300ms" });
  });

  test("custom headers are sent, the accepted status range is honoured, keep-alive reuses one connection", async () => {
    await register("u1", {
      healthCheck: { probe: { case: "http", value: { path: "/h", expectedStatusMin: 200, expectedStatusMax: 204, headers: { "x-probe": "yes" } } } },
    });
    for (let i = 0; i < 4; i++) expect((await checkNow()).result?.outcome).toBe(ProbeOutcome.PASS);
    expect(http.headers[0]?.["x-probe"]).toBe("yes");
    expect(http.connections).toBe(1);
    http.answer = { ...http.answer, status: 301 };
    expect((await checkNow()).result?.error).toBe("HTTP 301");
  });

  test("a refused connection fails with 'connection refused'", async () => {
    const port = await closedPort();
    await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "127.0.0.1", port, healthEndpoint: "/h" });
    expect((await checkNow()).result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "connection refused" });
  });

  test("TCP: passes while the port accepts, fails refused once it closes, recovers when it listens again", async () => {
    const tcp = await TcpTarget.start();
    await client.unary(M.register, {
      serviceName: "users",
      instanceId: "u1",
      host: "127.0.0.1",
      port: tcp.port,
      healthCheck: { probe: { case: "tcp", value: {} }, healthyThreshold: 1, unhealthyThreshold: 1 },
    });
    expect((await checkNow()).instance?.status).toBe(HealthStatus.HEALTHY);
    expect(tcp.accepted).toBe(1);
    await tcp.close();
    const down = await checkNow();
    expect(down.result?.error).toBe("connection refused");
    expect(down.instance?.status).toBe(HealthStatus.UNHEALTHY);
    const again = await TcpTarget.start(tcp.port);
    expect((await checkNow()).instance?.status).toBe(HealthStatus.HEALTHY);
    await again.close();
  });

  test("gRPC: grpc.health.v1 Check of the named service; NOT_SERVING fails; one channel per target, closed when unused", async () => {
    const grpcTarget = await GrpcHealthTarget.start();
    try {
      grpcTarget.statuses.set("orders.v1", HealthCheckResponse_ServingStatus.SERVING);
      const registerGrpc = (instanceId: string) =>
        client.unary(M.register, {
          serviceName: "users",
          instanceId,
          host: "127.0.0.1",
          port: grpcTarget.port,
          healthCheck: { probe: { case: "grpc", value: { service: "orders.v1" } }, healthyThreshold: 1, unhealthyThreshold: 1 },
        });
      await registerGrpc("u1");
      await registerGrpc("u2");
      expect(server.prober?.stats.grpcChannels).toBe(1);
      expect((await checkNow("u1")).instance?.status).toBe(HealthStatus.HEALTHY);
      expect((await checkNow("u2")).instance?.status).toBe(HealthStatus.HEALTHY);
      grpcTarget.statuses.set("orders.v1", HealthCheckResponse_ServingStatus.NOT_SERVING);
      expect((await checkNow("u1")).result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "gRPC health NOT_SERVING" });
      grpcTarget.statuses.delete("orders.v1");
      expect((await checkNow("u1")).result?.error).toBe("gRPC NOT_FOUND: unknown service");
      grpcTarget.statuses.set("orders.v1", HealthCheckResponse_ServingStatus.SERVING);
      expect((await checkNow("u1")).instance?.status).toBe(HealthStatus.HEALTHY);
      expect(grpcTarget.checks).toBe(5);
      await client.unary(M.unregister, { serviceName: "users", instanceId: "u1" });
      expect(server.prober?.stats.grpcChannels).toBe(1);
      await client.unary(M.unregister, { serviceName: "users", instanceId: "u2" });
      expect(server.prober?.stats.grpcChannels).toBe(0);
    } finally {
      await grpcTarget.close();
    }
  });

  test("GetHealthHistory: results oldest first with time, outcome, latency, load and error; the average and uptime", async () => {
    await register("u1", { healthEndpoint: "/h" });
    http.json({ load_percentage: 0.25 });
    await checkNow();
    clock.advance(1_000);
    http.answer = { ...http.answer, status: 500 };
    await checkNow();
    clock.advance(1_000);
    http.json({});
    await checkNow();
    const history = await client.unary(M.getHealthHistory, { serviceName: "users", instanceId: "u1" });
    expect(history.results.map((r) => [Number(r.time?.seconds) * 1000 - clock.now() + 2_000, r.outcome, r.loadPercentage, r.error])).toEqual([
      [0, ProbeOutcome.PASS, 0.25, ""],
      [1_000, ProbeOutcome.FAIL, undefined, "HTTP 500"],
      [2_000, ProbeOutcome.PASS, undefined, ""],
    ]);
    expect(history.results.every((r) => r.latency !== undefined)).toBe(true);
    expect(history.uptime).toBeCloseTo(2 / 3);
    expect(history.latencyAverage).toBeDefined();
    const [instance] = (await client.unary(M.listInstances, { serviceName: "users" })).instances;
    expect(instance?.uptime).toBeCloseTo(2 / 3);
    expect(instance?.lastHealthCheck?.seconds).toBe(BigInt(Math.floor(clock.now() / 1000)));
    expect(instance?.latency).toBeDefined();
    const metrics = await server.metrics.register.metrics();
    expect(metrics).toMatch(/discovery_probes_total\{outcome="pass"\} 2/);
    expect(metrics).toMatch(/discovery_probes_total\{outcome="fail"\} 1/);
  });

  test("ListServices counts the instances in each status", async () => {
    const one = { probe: { case: "http", value: { path: "/h" } }, healthyThreshold: 1, unhealthyThreshold: 1 };
    for (const id of ["a", "b", "c", "d"]) await register(id, { healthCheck: one });
    await register("e", {});
    await checkNow("a");
    http.json({ status: "degraded" });
    await checkNow("b");
    http.answer = { ...http.answer, status: 503 };
    await checkNow("c");
    const [summary] = (await client.unary(M.listServices, {})).services;
    expect(summary).toMatchObject({ instanceCount: 5, healthyCount: 3, unknownCount: 1, degradedCount: 1, unhealthyCount: 1 });
  });

  test("a passing probe renews the lease of an instance that never heartbeats; one that stops answering expires", async () => {
    await register("u1", { healthEndpoint: "/h", ttl: { seconds: 10n } });
    for (let i = 0; i < 3; i++) {
      clock.advance(8_000);
      await checkNow();
      expect(await server.registry.expireDue()).toBe(0);
    }
    http.answer = { ...http.answer, status: 503 };
    clock.advance(8_000);
    await checkNow();
    clock.advance(2_001);
    expect(await server.registry.expireDue()).toBe(1);
    expect((await failure(checkNow())).code).toBe(GrpcStatus.NOT_FOUND);
  });

  test("Heartbeat's self-reported UNHEALTHY wins over passing probes until the instance reports HEALTHY", async () => {
    await register("u1", { healthEndpoint: "/h" });
    await checkNow();
    await checkNow();
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", status: HealthStatus.UNHEALTHY });
    expect((await checkNow()).instance?.status).toBe(HealthStatus.UNHEALTHY);
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", status: HealthStatus.HEALTHY });
    expect(await statusOf()).toBe(HealthStatus.HEALTHY);
  });

  test("errors: a bad check names its field; CheckNow of an unknown instance is NOT_FOUND, of one without a check FAILED_PRECONDITION", async () => {
    const bad = await failure(register("u1", { healthCheck: { probe: { case: "http", value: { path: "/h" } }, interval: ms(100) } }));
    expect(bad).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: "health_check.interval: must be from 1s to 1h" });
    expect((await client.unary(M.listServices, {})).services).toEqual([]);
    expect((await failure(checkNow("nobody"))).code).toBe(GrpcStatus.NOT_FOUND);
    await register("plain", {});
    expect(await failure(checkNow("plain"))).toEqual({ code: GrpcStatus.FAILED_PRECONDITION, details: "instance plain of service users has no health check" });
  });
});
