// SERVICE_DISCOVERY_SECRET: writes need the bearer token; reads stay open.
import { status as GrpcStatus } from "@grpc/grpc-js";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const M = DiscoveryService.method;
const SECRET = "s3cret-token";

describe("bearer-token auth", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  beforeAll(async () => {
    server = await startTestServer({ secret: SECRET });
    client = new GrpcTestClient(DiscoveryService, server.target);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  const request = { serviceName: "users", instanceId: "u1", host: "h", port: 1 };
  const bearer = (token: string) => ({ metadata: { authorization: `Bearer ${token}` } });

  test.each([
    ["no authorization header", {}],
    ["a wrong token", bearer("wrong")],
    ["a token that is a prefix of the secret", bearer(SECRET.slice(0, -1))],
    ["another scheme", { metadata: { authorization: `Basic ${SECRET}` } }],
  ])("Register with %s is UNAUTHENTICATED and changes nothing", async (_name, options) => {
    await expect(client.unary(M.register, request, options)).rejects.toMatchObject({ code: GrpcStatus.UNAUTHENTICATED });
    expect(server.store.instanceCount).toBe(0);
  });

  test("writes with the secret succeed; heartbeat and unregister need it too; reads stay open", async () => {
    await client.unary(M.register, request, bearer(SECRET));
    await expect(client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1" })).rejects.toMatchObject({
      code: GrpcStatus.UNAUTHENTICATED,
    });
    await expect(client.unary(M.unregister, { serviceName: "users", instanceId: "u1" })).rejects.toMatchObject({
      code: GrpcStatus.UNAUTHENTICATED,
    });
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1" }, bearer(SECRET));
    expect((await client.unary(M.listHealthy, { serviceName: "users" })).instances).toHaveLength(1);
    expect((await client.unary(M.listServices, {})).services).toHaveLength(1);
    await client.unary(M.unregister, { serviceName: "users", instanceId: "u1" }, bearer(SECRET));
  });

  test("over HTTP/1.1 JSON the same rule holds", async () => {
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.baseUrl}/discovery.v1.DiscoveryService/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const denied = await post("Register", { serviceName: "web", host: "h", port: 1 });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ code: "unauthenticated" });
    const allowed = await post("Register", { serviceName: "web", host: "h", port: 1 }, { authorization: `Bearer ${SECRET}` });
    expect(allowed.status).toBe(200);
  });
});
