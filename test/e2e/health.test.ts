// grpc.health.v1 on the registry's port, as the protocol specifies.
import { status as GrpcStatus } from "@grpc/grpc-js";
import { DiscoveryService, HealthStatus } from "../../gen/discovery/v1/discovery_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving, type HealthCheckResponse } from "../../gen/grpc/health/v1/health_pb";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

describe("grpc.health.v1", () => {
  let server: TestServer;
  let health: GrpcTestClient<typeof Health>;
  let discovery: GrpcTestClient<typeof DiscoveryService>;
  beforeEach(async () => {
    server = await startTestServer();
    health = new GrpcTestClient(Health, server.target);
    discovery = new GrpcTestClient(DiscoveryService, server.target);
  });
  afterEach(async () => {
    health.close();
    discovery.close();
    await server.close();
  });

  const check = (service: string) => health.unary(Health.method.check, { service });
  const watch = (service: string) => new StreamReader<HealthCheckResponse>(health.serverStream(Health.method.watch, { service }));
  const register = (id: string) =>
    discovery.unary(DiscoveryService.method.register, { serviceName: "users", instanceId: id, host: "h", port: 1 });
  const setStatus = (id: string, status: HealthStatus) =>
    discovery.unary(DiscoveryService.method.heartbeat, { serviceName: "users", instanceId: id, status });

  test("Check: the server and the API are SERVING; unknown names are NOT_FOUND", async () => {
    expect((await check("")).status).toBe(Serving.SERVING);
    expect((await check("discovery.v1.DiscoveryService")).status).toBe(Serving.SERVING);
    await expect(check("users")).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });

  test("Check: a registered service is SERVING with a healthy instance, NOT_SERVING with none", async () => {
    await register("a");
    expect((await check("users")).status).toBe(Serving.SERVING);
    await setStatus("a", HealthStatus.UNHEALTHY);
    expect((await check("users")).status).toBe(Serving.NOT_SERVING);
    await setStatus("a", HealthStatus.DEGRADED);
    expect((await check("users")).status).toBe(Serving.SERVING);
  });

  test("Watch: an unknown name gets SERVICE_UNKNOWN and stays open until the service appears, then each change", async () => {
    const reader = watch("users");
    expect((await reader.next()).status).toBe(Serving.SERVICE_UNKNOWN);
    await register("a");
    expect((await reader.next()).status).toBe(Serving.SERVING);
    await register("b"); // still SERVING: nothing is sent
    await setStatus("a", HealthStatus.UNHEALTHY);
    await setStatus("b", HealthStatus.UNHEALTHY);
    expect((await reader.next()).status).toBe(Serving.NOT_SERVING);
    await discovery.unary(DiscoveryService.method.unregister, { serviceName: "users", instanceId: "a" });
    await discovery.unary(DiscoveryService.method.unregister, { serviceName: "users", instanceId: "b" });
    expect((await reader.next()).status).toBe(Serving.SERVICE_UNKNOWN);
    expect(reader.pending).toHaveLength(0);
  });

  test("List names the server, the API and every registered service", async () => {
    await register("a");
    const { statuses } = await health.unary(Health.method.list, {});
    expect(Object.fromEntries(Object.entries(statuses).map(([k, v]) => [k, v.status]))).toEqual({
      "": Serving.SERVING,
      "discovery.v1.DiscoveryService": Serving.SERVING,
      users: Serving.SERVING,
    });
  });

  test("Watch of the server turns NOT_SERVING at shutdown", async () => {
    const reader = watch("");
    expect((await reader.next()).status).toBe(Serving.SERVING);
    const closing = server.close();
    expect((await reader.next()).status).toBe(Serving.NOT_SERVING);
    await closing;
  });
});
