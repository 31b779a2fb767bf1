// Every unary RPC over real HTTP/2 sockets with a grpc-js client, as polyglot services call them.
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { DiscoveryService, HealthStatus } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const M = DiscoveryService.method;

describe("DiscoveryService over gRPC (grpc-js client)", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;

  beforeEach(async () => {
    server = await startTestServer({ limits: { maxInstances: 5 } });
    client = new GrpcTestClient(DiscoveryService, server.target);
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  const register = (overrides: Record<string, unknown> = {}) =>
    client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 8080, ...overrides });

  async function code(call: Promise<unknown>): Promise<{ code: number; details: string }> {
    try {
      await call;
    } catch (error) {
      const e = error as ServiceError;
      return { code: e.code, details: e.details };
    }
    throw new Error("call succeeded");
  }

  test("Register returns the instance and a heartbeat interval of a third of the TTL", async () => {
    const response = await register({ ttl: { seconds: 12n }, metadata: { zone: "eu-1" }, loadPercentage: 0.25 });
    expect(response.instance).toMatchObject({
      serviceName: "users",
      instanceId: "u1",
      host: "10.0.0.1",
      port: 8080,
      healthEndpoint: "",
      metadata: { zone: "eu-1" },
      status: HealthStatus.HEALTHY,
      loadPercentage: 0.25,
      criticalLoad: false,
    });
    expect(response.instance?.ttl?.seconds).toBe(12n);
    expect(response.heartbeatInterval?.seconds).toBe(4n);
    expect(response.instance?.registeredAt).toBeDefined();
  });

  test("Register without an instance id assigns a UUID; registering again is an idempotent upsert", async () => {
    const first = await register({ instanceId: "" });
    expect(first.instance?.instanceId).toMatch(/^[0-9a-f-]{36}$/);
    await register();
    await register({ port: 9090 });
    const listed = await client.unary(M.listInstances, { serviceName: "users" });
    expect(listed.instances.map((i) => `${i.instanceId}:${i.port}`).sort()).toEqual([`${first.instance?.instanceId}:8080`, "u1:9090"]);
  });

  test("Heartbeat renews, reports load and a self-reported status; unknown is NOT_FOUND", async () => {
    await register();
    const beat = await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", loadPercentage: 0.9 });
    expect(beat.instance).toMatchObject({ loadPercentage: 0.9, criticalLoad: true });
    const kept = await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1" });
    expect(kept.instance?.loadPercentage).toBe(0.9);
    const degraded = await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", status: HealthStatus.DEGRADED });
    expect(degraded.instance?.status).toBe(HealthStatus.DEGRADED);
    const missing = await code(client.unary(M.heartbeat, { serviceName: "users", instanceId: "ghost" }));
    expect(missing.code).toBe(GrpcStatus.NOT_FOUND);
    expect(missing.details).toContain("ghost");
  });

  test("Unregister removes the instance; a second time is NOT_FOUND", async () => {
    await register();
    await client.unary(M.unregister, { serviceName: "users", instanceId: "u1" });
    expect((await client.unary(M.listInstances, { serviceName: "users" })).instances).toHaveLength(0);
    expect((await code(client.unary(M.unregister, { serviceName: "users", instanceId: "u1" }))).code).toBe(GrpcStatus.NOT_FOUND);
  });

  test("ListHealthy returns HEALTHY and DEGRADED instances and can leave out critical load", async () => {
    await register({ instanceId: "ok" });
    await register({ instanceId: "slow" });
    await register({ instanceId: "down" });
    await register({ instanceId: "hot", loadPercentage: 0.95 });
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "slow", status: HealthStatus.DEGRADED });
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "down", status: HealthStatus.UNHEALTHY });
    const healthy = await client.unary(M.listHealthy, { serviceName: "users" });
    expect(healthy.instances.map((i) => i.instanceId).sort()).toEqual(["hot", "ok", "slow"]);
    const calm = await client.unary(M.listHealthy, { serviceName: "users", excludeCriticalLoad: true });
    expect(calm.instances.map((i) => i.instanceId).sort()).toEqual(["ok", "slow"]);
    expect(calm.revision).toBe(BigInt(server.store.revision));
    const all = await client.unary(M.listInstances, { serviceName: "users" });
    expect(all.instances).toHaveLength(4);
    expect((await client.unary(M.listHealthy, { serviceName: "nobody" })).instances).toHaveLength(0);
  });

  test("list answers reflect heartbeats (the cache is keyed by every change of the service)", async () => {
    await register();
    const before = await client.unary(M.listHealthy, { serviceName: "users" });
    const again = await client.unary(M.listHealthy, { serviceName: "users" });
    expect(again).toEqual(before);
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", loadPercentage: 0.5 });
    const after = await client.unary(M.listHealthy, { serviceName: "users" });
    expect(after.instances[0]?.loadPercentage).toBe(0.5);
  });

  test("ListServices summarises each service", async () => {
    await register({ instanceId: "a", loadPercentage: 0.2 });
    await register({ instanceId: "b", loadPercentage: 0.9 });
    await register({ serviceName: "orders", instanceId: "o" });
    await client.unary(M.heartbeat, { serviceName: "orders", instanceId: "o", status: HealthStatus.UNHEALTHY });
    const { services, revision } = await client.unary(M.listServices, {});
    expect(revision).toBe(BigInt(server.store.revision));
    const rounded = services.map((s) => ({ ...s, averageLoad: Math.round(s.averageLoad * 100) }));
    expect(rounded).toEqual([
      expect.objectContaining({ serviceName: "orders", instanceCount: 1, healthyCount: 0, criticalLoadCount: 0, averageLoad: 0 }),
      expect.objectContaining({ serviceName: "users", instanceCount: 2, healthyCount: 2, criticalLoadCount: 1, averageLoad: 55 }),
    ]);
  });

  test("DISCOVERY_MAX_INSTANCES bounds the registry with RESOURCE_EXHAUSTED", async () => {
    for (let i = 0; i < 5; i++) await register({ instanceId: `i${i}` });
    const full = await code(register({ instanceId: "one-too-many" }));
    expect(full.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(full.details).toContain("DISCOVERY_MAX_INSTANCES");
  });

  describe("bad input is INVALID_ARGUMENT naming the field, and changes nothing", () => {
    const long = (n: number) => "a".repeat(n);
    const cases: [string, Record<string, unknown>, string][] = [
      ["empty service_name", { serviceName: "" }, "service_name"],
      ["service_name too long", { serviceName: long(64) }, "service_name"],
      ["service_name with a space", { serviceName: "my service" }, "service_name"],
      ["service_name starting with '-'", { serviceName: "-users" }, "service_name"],
      ["instance_id too long", { instanceId: long(129) }, "instance_id"],
      ["instance_id with '/'", { instanceId: "a/b" }, "instance_id"],
      ["empty host", { host: "" }, "host"],
      ["host too long", { host: long(254) }, "host"],
      ["port 0", { port: 0 }, "port"],
      ["port 65536", { port: 65536 }, "port"],
      ["65 metadata entries", { metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) }, "metadata"],
      ["metadata key too long", { metadata: { [long(64)]: "v" } }, "metadata"],
      ["metadata value over 512 bytes", { metadata: { k: "é".repeat(257) } }, "metadata"],
      ["ttl under 1 s", { ttl: { seconds: 0n, nanos: 500_000_000 } }, "ttl"],
      ["ttl over 1 h", { ttl: { seconds: 3601n } }, "ttl"],
      ["load_percentage above 1", { loadPercentage: 1.5 }, "load_percentage"],
      ["load_percentage below 0", { loadPercentage: -0.1 }, "load_percentage"],
      ["load_percentage NaN", { loadPercentage: Number.NaN }, "load_percentage"],
      ["load_percentage infinite", { loadPercentage: Number.POSITIVE_INFINITY }, "load_percentage"],
    ];
    test.each(cases)("Register with %s", async (_name, overrides, field) => {
      const revision = server.store.revision;
      const error = await code(register(overrides));
      expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.details.startsWith(`${field}`)).toBe(true);
      expect(server.store.revision).toBe(revision);
      expect(server.store.instanceCount).toBe(0);
    });

    test("Heartbeat with a bad load or an UNKNOWN status keeps the instance as it was", async () => {
      await register({ loadPercentage: 0.3 });
      const badLoad = await code(client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", loadPercentage: 2 }));
      expect(badLoad).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
      expect(badLoad.details).toMatch(/^load_percentage/);
      const badStatus = await code(client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", status: HealthStatus.UNKNOWN }));
      expect(badStatus.details).toMatch(/^status/);
      expect(server.store.get("users", "u1")).toMatchObject({ load: 0.3, status: "healthy" });
    });

    test("missing instance_id on Heartbeat and Unregister, bad names on reads", async () => {
      expect((await code(client.unary(M.heartbeat, { serviceName: "users" }))).details).toMatch(/^instance_id/);
      expect((await code(client.unary(M.unregister, { serviceName: "users" }))).details).toMatch(/^instance_id/);
      expect((await code(client.unary(M.listHealthy, { serviceName: "" }))).details).toMatch(/^service_name/);
      expect((await code(client.unary(M.listInstances, { serviceName: "bad name" }))).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    });
  });
});
