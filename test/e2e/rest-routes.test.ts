// The seeds' REST routes on the one port: the same handlers as the RPCs, so the
// same validation, auth and errors, as HTTP statuses with snake_case JSON.
import * as net from "node:net";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const SECRET = "rest-secret";
const auth = { authorization: `Bearer ${SECRET}` };

describe("REST routes", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ secret: SECRET, probing: false });
  });
  afterAll(() => server.close());
  afterEach(async () => {
    for (const instance of server.store.snapshot().instances) await server.registry.unregister(instance.serviceName, instance.instanceId);
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(server.baseUrl + path, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const register = (body: Record<string, unknown>) => call("POST", "/v1/discovery/register", body, auth);

  test("register, heartbeat with load, list and unregister round-trip in snake_case", async () => {
    const registered = await register({ service_name: "orders", instance_id: "o-1", host: "10.0.0.5", port: 8080, metadata: { version: "1.0.0" }, load_percentage: 0.2 });
    expect(registered.status).toBe(200);
    expect(registered.body.instance).toMatchObject({ service_name: "orders", instance_id: "o-1", host: "10.0.0.5", port: 8080, status: "healthy", load_percentage: 0.2, critical_load: false, metadata: { version: "1.0.0" } });
    expect(registered.body.heartbeat_interval).toMatch(/s$/);

    const beat = await call("POST", "/v1/discovery/heartbeat", { service_name: "orders", instance_id: "o-1", load_percentage: 0.95 }, auth);
    expect(beat.status).toBe(200);
    expect(beat.body.instance).toMatchObject({ load_percentage: 0.95, critical_load: true });

    for (const path of ["/v1/discovery/services/orders", "/services/orders", "/v1/discovery/services/orders/healthy"]) {
      const listed = await call("GET", path);
      expect(listed).toMatchObject({ status: 200, body: { service_name: "orders", count: 1, instances: [{ instance_id: "o-1", status: "healthy", critical_load: true }] } });
    }
    expect((await call("GET", "/v1/discovery/services/orders/healthy?exclude_critical_load=true")).body).toMatchObject({ count: 0, instances: [] });
    expect((await call("GET", "/v1/discovery/services")).body.services).toEqual([
      expect.objectContaining({ service_name: "orders", instance_count: 1, healthy_count: 1, critical_load_count: 1, average_load: 0.95 }),
    ]);
    expect((await call("GET", "/status")).body).toMatchObject({ status: "ok", service_count: 1, instance_count: 1, healthy_count: 1, critical_load_count: 1 });

    const removed = await call("DELETE", "/v1/discovery/unregister/orders/o-1", undefined, auth);
    expect(removed).toEqual({ status: 200, body: { service_name: "orders", instance_id: "o-1", unregistered: true } });
    expect(server.store.instanceCount).toBe(0);
  });

  test("writes without the token are 401 and change nothing; reads stay open", async () => {
    expect(await call("POST", "/v1/discovery/register", { service_name: "a", host: "h", port: 1 })).toMatchObject({ status: 401, body: { code: "unauthenticated" } });
    expect(await call("POST", "/v1/discovery/register", { service_name: "a", host: "h", port: 1 }, { authorization: "Bearer wrong" })).toMatchObject({ status: 401 });
    expect(server.store.instanceCount).toBe(0);
    await register({ service_name: "a", instance_id: "a-1", host: "h", port: 1 });
    expect(await call("POST", "/v1/discovery/heartbeat", { service_name: "a", instance_id: "a-1" })).toMatchObject({ status: 401 });
    expect(await call("DELETE", "/v1/discovery/unregister/a/a-1")).toMatchObject({ status: 401 });
    expect(server.store.instanceCount).toBe(1);
    expect((await call("GET", "/v1/discovery/services/a")).status).toBe(200);
  });

  test("an unknown instance is 404 on heartbeat and unregister", async () => {
    expect(await call("POST", "/v1/discovery/heartbeat", { service_name: "nope", instance_id: "x" }, auth)).toMatchObject({ status: 404, body: { code: "not_found" } });
    expect(await call("DELETE", "/v1/discovery/unregister/nope/x", undefined, auth)).toMatchObject({ status: 404, body: { code: "not_found" } });
  });

  test.each([
    ["a port out of range", { service_name: "a", host: "h", port: 70000 }, "port"],
    ["a load above 1", { service_name: "a", host: "h", port: 1, load_percentage: 1.5 }, "load_percentage"],
    ["a missing service name", { host: "h", port: 1 }, "service_name"],
    ["a port that is not a number", { service_name: "a", host: "h", port: "eighty" }, "port"],
    ["an unknown field", { service_name: "a", host: "h", port: 1, base_url: "http://x" }, "base_url"],
    ["metadata that is not an object", { service_name: "a", host: "h", port: 1, metadata: [1] }, "metadata"],
    ["a body that is not an object", [1, 2], "body"],
    ["a body that is not JSON", "{not json", "body"],
  ])("register with %s is 400 naming the field and changes nothing", async (_name, body, field) => {
    const answer = await register(body as Record<string, unknown>);
    expect(answer).toMatchObject({ status: 400, body: { code: "invalid_argument", field } });
    expect(answer.body.message).toContain(field);
    expect(server.store.instanceCount).toBe(0);
  });

  test("a body over REST_MAX_BODY_BYTES is 413 and the server keeps serving", async () => {
    const answer = await register({ service_name: "a", host: "h", port: 1, metadata: { big: "x".repeat(70_000) } });
    expect(answer).toMatchObject({ status: 413, body: { field: "body" } });
    expect((await call("GET", "/health")).status).toBe(200);
  });

  test("a wrong method is 405 with Allow; an unknown path falls through to 404", async () => {
    const wrong = await fetch(server.baseUrl + "/v1/discovery/register");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect((await fetch(server.baseUrl + "/v1/discovery/nothing")).status).toBe(404);
  });

  test("a client that sends half a body and leaves does not disturb the server", async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(server.port, "127.0.0.1", () => {
        socket.write(`POST /v1/discovery/register HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"service_name":`);
        setImmediate(() => (socket.destroy(), resolve()));
      });
    });
    expect((await call("GET", "/health")).body).toEqual({ status: "healthy" });
  });

  test("GET /health is the registry's own health; /openapi.json describes every route", async () => {
    expect(await call("GET", "/health")).toEqual({ status: 200, body: { status: "healthy" } });
    const doc = (await call("GET", "/openapi.json")).body as { openapi: string; paths: Record<string, object> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/health",
        "/services/{service_name}",
        "/status",
        "/v1/discovery/heartbeat",
        "/v1/discovery/register",
        "/v1/discovery/services",
        "/v1/discovery/services/{service_name}",
        "/v1/discovery/services/{service_name}/healthy",
        "/v1/discovery/unregister/{service_name}/{instance_id}",
      ].sort(),
    );
  });

  test("a health check is given in the same snake_case JSON; a bad nested value is 400 naming it", async () => {
    const answer = await register({ service_name: "db", instance_id: "db-1", host: "127.0.0.1", port: 5432, health_check: { tcp: {}, interval: "10s", unhealthy_threshold: 2 } });
    expect(answer).toMatchObject({ status: 200, body: { instance: { status: "unknown", health_check: { tcp: {}, interval: "10s", unhealthy_threshold: 2 } } } });
    const bad = await register({ service_name: "db", instance_id: "db-2", host: "127.0.0.1", port: 5432, health_check: { tcp: {}, interval: "ten seconds" } });
    expect(bad).toMatchObject({ status: 400, body: { code: "invalid_argument", field: "health_check.interval" } });
    expect(bad.body.message).toMatch(/^health_check.interval: cannot be read: .*"ten seconds"/);
    const unknown = await register({ service_name: "db", instance_id: "db-2", host: "127.0.0.1", port: 5432, health_check: { tcp: {}, every: "10s" } });
    expect(unknown).toMatchObject({ status: 400, body: { field: "health_check.every" } });
    expect(server.store.get("db", "db-2")).toBeUndefined();
  });

  test("heartbeat accepts a self-reported status in the short form", async () => {
    await register({ service_name: "s", instance_id: "s-1", host: "h", port: 1 });
    const beat = await call("POST", "/v1/discovery/heartbeat", { service_name: "s", instance_id: "s-1", status: "degraded" }, auth);
    expect(beat).toMatchObject({ status: 200, body: { instance: { status: "degraded" } } });
  });
});
