// HTTP/1.1 on the same port: the Connect protocol (JSON and binary), gRPC-Web,
// and plain JSON POSTs exactly as curl sends them.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { DiscoveryService, EventType } from "../../gen/discovery/v1/discovery_pb";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

describe("HTTP/1.1 clients", () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.close();
  });

  const connectClient = (useBinaryFormat: boolean) =>
    createClient(DiscoveryService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1", useBinaryFormat }));

  test.each([
    ["JSON", false],
    ["binary", true],
  ])("a Connect client (%s) registers, heartbeats, lists and unregisters", async (_name, binary) => {
    const client = connectClient(binary);
    const { instance, heartbeatInterval } = await client.register({ serviceName: "web", host: "10.0.0.9", port: 80, loadPercentage: 0.4 });
    expect(heartbeatInterval?.seconds).toBe(10n);
    const beat = await client.heartbeat({ serviceName: "web", instanceId: instance!.instanceId, loadPercentage: 0.9 });
    expect(beat.instance?.criticalLoad).toBe(true);
    expect((await client.listHealthy({ serviceName: "web", excludeCriticalLoad: true })).instances).toHaveLength(0);
    expect((await client.listInstances({ serviceName: "web" })).instances).toHaveLength(1);
    expect((await client.listServices({})).services[0]).toMatchObject({ serviceName: "web", criticalLoadCount: 1 });
    await client.unregister({ serviceName: "web", instanceId: instance!.instanceId });
    const missing = await client.unregister({ serviceName: "web", instanceId: instance!.instanceId }).catch((e: unknown) => e);
    expect(ConnectError.from(missing).code).toBe(Code.NotFound);
  });

  test("a Connect client gets INVALID_ARGUMENT naming the field", async () => {
    const error = await connectClient(false)
      .register({ serviceName: "web", host: "h", port: 70000 })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: "port: must be from 1 to 65535" });
  });

  test("Watch streams over the Connect protocol on HTTP/1.1", async () => {
    const client = connectClient(false);
    const controller = new AbortController();
    const stream = client.watch({ serviceNames: ["web"] }, { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value?.type).toBe(EventType.SYNCED);
    await client.register({ serviceName: "web", instanceId: "w1", host: "h", port: 1 });
    const event = (await stream.next()).value;
    expect(event).toMatchObject({ type: EventType.REGISTERED, instance: { instanceId: "w1" } });
    controller.abort();
    await expect(stream.next()).rejects.toBeDefined();
    await waitFor(() => server.hub.watcherCount === 0); // the server let go of the subscription
  });

  test("a gRPC-Web client works on the same port", async () => {
    const client = createClient(DiscoveryService, createGrpcWebTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    await client.register({ serviceName: "browser", instanceId: "b1", host: "h", port: 1 });
    expect((await client.listHealthy({ serviceName: "browser" })).instances[0]?.instanceId).toBe("b1");
  });

  test("plain JSON POSTs work as curl sends them", async () => {
    const post = (method: string, body: unknown) =>
      fetch(`${server.baseUrl}/discovery.v1.DiscoveryService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const registered = await post("Register", { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 8080, ttl: "15s" });
    expect(registered.status).toBe(200);
    expect(await registered.json()).toMatchObject({ instance: { instanceId: "u1", status: "HEALTH_STATUS_HEALTHY", ttl: "15s" }, heartbeatInterval: "5s" });
    const listed = await post("ListHealthy", { serviceName: "users" });
    const body = (await listed.json()) as { instances: unknown[]; revision: string };
    expect(body.instances).toHaveLength(1);
    expect(body.revision).toBe(String(server.store.revision));
    const bad = await post("Register", { serviceName: "users", host: "h", port: 1, loadPercentage: 2 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: "invalid_argument", message: "load_percentage: must be a finite number from 0 to 1" });
  });

  test("unknown paths are 404", async () => {
    expect((await fetch(`${server.baseUrl}/nope`)).status).toBe(404);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
