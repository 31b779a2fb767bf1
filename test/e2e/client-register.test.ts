// The SDK's register(): keep-alive streams, crash detection, re-registration,
// draining close and the HTTP/1.1 fallback, against real servers and processes.
import * as net from "node:net";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import type { RegistryEvent } from "../../src/core/types";
import { register, type DiscoveryConnection } from "../../src/client";
import { spawnNodeFixture, type Child } from "../helpers/child-process";
import { rpcCount } from "../helpers/prometheus-text";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { waitFor } from "../helpers/wait-for";

const FAST = { initialMs: 20, maxMs: 200 };

/** A connection to `server` whose calls pass through `interceptor` (to hold back or act on an answer). */
function interceptedConnection(server: TestServer, interceptor: Interceptor, protocol: "grpc" | "connect" = "grpc"): DiscoveryConnection {
  const sessions = new Http2SessionManager(server.baseUrl);
  const interceptors = [interceptor];
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ baseUrl: server.baseUrl, sessionManager: sessions, interceptors })
      : createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1", interceptors });
  return {
    client: createClient(DiscoveryService, transport),
    supportsKeepAlive: protocol === "grpc",
    url: server.baseUrl,
    addresses: 1,
    failover: () => {},
    close: () => sessions.abort(),
  };
}

describe("client register()", () => {
  let server: TestServer;
  let events: (RegistryEvent & { at: number })[];
  const children: Child[] = [];

  const listen = (s: TestServer) => s.store.onEvent((e) => events.push({ ...e, at: Date.now() }));
  const statusEvents = (id: string) =>
    events.filter((e) => e.instance.instanceId === id && e.type !== "load-critical" && e.type !== "load-normal").map((e) => (e.type === "health-changed" ? `->${e.instance.status}` : e.type));

  beforeEach(async () => {
    events = [];
    server = await startTestServer();
    listen(server);
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
    await server.close();
  });

  test("a SIGKILLed client's instance turns UNHEALTHY within a second, through its broken keep-alive stream, and keeps its lease", async () => {
    const child = spawnNodeFixture("sdk-client.js", { REGISTRY_URL: server.baseUrl, INSTANCE_ID: "killed-1", TTL_MS: "30000" });
    children.push(child);
    expect(await child.waitForLine(/^registered/)).toBe("registered killed-1 keep-alive");
    // Let a heartbeat travel on the stream, so the server knows the stream keeps it alive.
    await waitFor(() => server.store.get("users", "killed-1"));
    await new Promise((resolve) => setTimeout(resolve, 200));

    const killedAt = Date.now();
    child.kill("SIGKILL");
    const marked = await waitFor(() => events.find((e) => e.type === "health-changed" && e.instance.status === "unhealthy"), 3000, "UNHEALTHY");
    expect(marked.at - killedAt).toBeLessThan(1000);
    expect(server.store.get("users", "killed-1")?.status).toBe("unhealthy");
    expect(statusEvents("killed-1")).toEqual(["registered", "->unhealthy"]);
  });

  test("sends the caller's load and registers again by itself when the registry forgets the instance", async () => {
    let load = 0.2;
    const registration = await register({
      url: server.baseUrl, service: "users", instanceId: "u1", host: "127.0.0.1", port: 9001,
      ttlMs: 1500, drainMs: 0, load: () => load, backoff: FAST,
    });
    try {
      expect(registration.mode).toBe("keep-alive");
      expect(server.store.get("users", "u1")?.load).toBe(0.2);
      load = 0.9;
      await waitFor(() => server.store.get("users", "u1")?.critical, 3000, "critical load");

      await server.registry.unregister("users", "u1");
      await waitFor(() => server.store.get("users", "u1"), 3000, "re-registered");
      expect(statusEvents("u1")).toEqual(["registered", "unregistered", "registered"]);
    } finally {
      await registration.close();
    }
  });

  test("when the registry forgets the instance and refuses its Register, the SDK backs off instead of looping", async () => {
    const metadata: Record<string, string> = { version: "1" };
    const registration = await register({
      url: server.baseUrl, service: "users", instanceId: "refused", host: "127.0.0.1", port: 9008,
      ttlMs: 1500, drainMs: 0, metadata, backoff: FAST,
    });
    try {
      // The application's metadata grew past what the registry accepts (512 bytes a value), so
      // a Register now gets INVALID_ARGUMENT; and the registry forgets the instance, so heartbeats get NOT_FOUND.
      metadata.build = "x".repeat(600);
      await server.registry.unregister("users", "refused");
      const refused = () => rpcCount(server.baseUrl, "Register", "INVALID_ARGUMENT");
      await waitFor(async () => (await refused()) >= 1, 3000, "a refused re-registration");
      const before = await refused();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const inOneSecond = (await refused()) - before;
      // FAST waits up to 200 ms (100 on average) between tries: about ten a second, never hundreds.
      expect(inOneSecond).toBeGreaterThanOrEqual(2);
      expect(inOneSecond).toBeLessThanOrEqual(30);
      expect(server.store.get("users", "refused")).toBeUndefined();
    } finally {
      await registration.close();
    }
  });

  test("survives a registry restart: the instance comes back without the caller doing anything", async () => {
    const port = server.port;
    const registration = await register({
      url: server.baseUrl, service: "users", instanceId: "survivor", host: "127.0.0.1", port: 9002,
      ttlMs: 1500, drainMs: 0, backoff: FAST,
    });
    try {
      await server.close();
      server = await startTestServer({ port });
      listen(server);
      await waitFor(() => server.store.get("users", "survivor"), 5000, "registered on the new registry");
      expect(server.store.get("users", "survivor")).toMatchObject({ port: 9002, status: "healthy" });
    } finally {
      await registration.close();
    }
  });

  test("close() drains: DRAINING at once, removed as UNREGISTERED when the period ends, nothing marked UNHEALTHY", async () => {
    const registration = await register({
      url: server.baseUrl, service: "users", instanceId: "leaver", host: "127.0.0.1", port: 9003, drainMs: 300, backoff: FAST,
    });
    const started = Date.now();
    const closed = registration.close();
    await waitFor(() => server.store.get("users", "leaver")?.status === "draining", 1000, "draining");
    expect(Date.now() - started).toBeLessThan(300);
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await waitFor(() => server.store.get("users", "leaver") === undefined, 1000, "removed");
    expect(statusEvents("leaver")).toEqual(["registered", "->draining", "unregistered"]);
  });

  test.each(["grpc", "connect"] as const)("close() never brings the instance back: no heartbeat or re-Register follows its Unregister (%s)", async (protocol) => {
    // The Unregister's answer comes back slowly (the registry has removed the instance at once, drain 0):
    // a heartbeat loop still running meanwhile would get NOT_FOUND and register the instance again.
    const slowUnregisterAnswer: Interceptor = (next) => async (request) => {
      const response = await next(request);
      if (request.method.name === "Unregister") await new Promise((resolve) => setTimeout(resolve, 1200));
      return response;
    };
    const connection = interceptedConnection(server, slowUnregisterAnswer, protocol);
    try {
      // TTL 1 s: a heartbeat every 333 ms, so several would fall inside the slow answer.
      const registration = await register({
        url: server.baseUrl, connection, service: "users", instanceId: "closer", host: "127.0.0.1", port: 9009, ttlMs: 1000, drainMs: 0, backoff: FAST,
      });
      expect(registration.mode).toBe(protocol === "grpc" ? "keep-alive" : "unary");
      const beat = () => server.store.get("users", "closer")!;
      await waitFor(() => beat().lastHeartbeat > beat().registeredAt, 2000, "a heartbeat");
      await registration.close();
      expect(server.store.get("users", "closer")).toBeUndefined();
      expect(statusEvents("closer")).toEqual(["registered", "unregistered"]);
      expect(await rpcCount(server.baseUrl, protocol === "grpc" ? "KeepAlive" : "Heartbeat", "NOT_FOUND")).toBe(0);
    } finally {
      connection.close();
    }
  });

  test("a signal aborted as the Register is answered rejects register() with an AbortError and takes the instance back out", async () => {
    const controller = new AbortController();
    const abortOnAnswer: Interceptor = (next) => async (request) => {
      const response = await next(request);
      if (request.method.name === "Register") controller.abort();
      return response;
    };
    const connection = interceptedConnection(server, abortOnAnswer);
    try {
      await expect(
        register({
          url: server.baseUrl, connection, service: "users", instanceId: "just-in-time", host: "127.0.0.1", port: 9010, drainMs: 0, signal: controller.signal,
        }),
      ).rejects.toMatchObject({ name: "AbortError" });
      expect(server.store.get("users", "just-in-time")).toBeUndefined();
      expect(statusEvents("just-in-time")).toEqual(["registered", "unregistered"]);
    } finally {
      connection.close();
    }
  });

  test("aborting the caller's signal closes the registration", async () => {
    const controller = new AbortController();
    await register({
      url: server.baseUrl, service: "users", instanceId: "aborted", host: "127.0.0.1", port: 9004, drainMs: 0, signal: controller.signal,
    });
    controller.abort();
    await waitFor(() => server.store.get("users", "aborted") === undefined, 2000, "unregistered");
    expect(statusEvents("aborted")).toEqual(["registered", "unregistered"]);
  });

  test("aborting while the registry is unreachable rejects register() with an AbortError and stops retrying", async () => {
    // A listener that hangs up on every connection: a registry that cannot be reached, whose attempts we can count.
    const acceptedFrom: number[] = []; // the client port of each connection accepted
    const markers = new Set<number>();
    const dead = net.createServer((socket) => {
      acceptedFrom.push(socket.remotePort!);
      socket.destroy();
    });
    const attempts = () => acceptedFrom.filter((from) => !markers.has(from)).length;
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const port = (dead.address() as net.AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    // Attempts that reached the listener before now. An attempt the abort caught
    // mid-connect is accepted after register() has already rejected, so a count
    // read at once can miss it (2, then 3 a moment later). The listener accepts in
    // arrival order: once a marker connection of ours is accepted, every attempt
    // that connected before it has been counted.
    const attemptsBeforeNow = async () => {
      const marker = net.connect(port, "127.0.0.1").on("error", () => {});
      await new Promise((resolve) => marker.once("connect", resolve));
      markers.add(marker.localPort!);
      await waitFor(() => acceptedFrom.includes(marker.localPort!), 3000, "the marker connection accepted");
      marker.destroy();
      return attempts();
    };
    const controller = new AbortController();
    try {
      const registering = register({
        url, service: "users", instanceId: "unreachable", host: "127.0.0.1", port: 9006, signal: controller.signal, backoff: FAST,
      });
      const outcome = registering.then(() => "registered", (error: Error) => error);
      await waitFor(() => attempts() >= 2, 3000, "register retrying");
      const abortedAt = Date.now();
      controller.abort();
      const error = await Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve("still pending"), 2000))]);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe("AbortError");
      expect(Date.now() - abortedAt).toBeLessThan(500);
      // FAST retries at least every 200 ms: a loop still running would knock again within this window.
      const seen = await attemptsBeforeNow();
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(attempts()).toBe(seen);
    } finally {
      await new Promise((resolve) => dead.close(resolve));
    }
  });

  test("a process whose register() was aborted with no registry listening gets an AbortError at once and exits by itself", async () => {
    const child = spawnNodeFixture("sdk-register-abort.js", { REGISTRY_URL: "http://127.0.0.1:1", ABORT_AFTER_MS: "200" });
    children.push(child);
    // The budget is the child's start (seconds on a loaded 2-core machine) plus the 200 ms; the child measures the abort itself.
    const line = await child.waitForLine(/^(rejected|registered)/, 15_000);
    const [, name, afterAbortMs] = line.split(" ");
    expect(name).toBe("AbortError");
    expect(Number(afterAbortMs)).toBeLessThan(500);
    const exitedIn = await Promise.race([child.exited, new Promise((resolve) => setTimeout(() => resolve("still running"), 2000))]);
    expect(exitedIn).toBe(0);
  }, 60_000);

  test("a signal aborted before the call rejects at once, without registering", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      register({ url: server.baseUrl, service: "users", instanceId: "never", host: "127.0.0.1", port: 9007, signal: controller.signal }),
    ).rejects.toMatchObject({ name: "AbortError" });
    expect(server.store.get("users", "never")).toBeUndefined();
    expect(events).toEqual([]);
  });

  test("over HTTP/1.1 (Connect protocol) it falls back to unary heartbeats", async () => {
    const registration = await register({
      url: server.baseUrl, protocol: "connect", service: "users", instanceId: "h1", host: "127.0.0.1", port: 9005,
      ttlMs: 1500, drainMs: 0, load: () => 0.5, backoff: FAST,
    });
    try {
      expect(registration.mode).toBe("unary");
      const first = server.store.get("users", "h1")!.lastHeartbeat;
      await waitFor(() => server.store.get("users", "h1")!.lastHeartbeat > first, 2000, "a unary heartbeat");
    } finally {
      await registration.close();
    }
    expect(server.store.get("users", "h1")).toBeUndefined();
  });

  test("refuses bad options with the server's INVALID_ARGUMENT instead of retrying", async () => {
    await expect(
      register({ url: server.baseUrl, service: "no spaces", host: "127.0.0.1", port: 1, backoff: FAST }),
    ).rejects.toThrow(/service_name/);
  });

  test("SIGTERM: the exit hook drains and unregisters before the process exits", async () => {
    const child = spawnNodeFixture("sdk-client.js", { REGISTRY_URL: server.baseUrl, INSTANCE_ID: "term-1", DRAIN_MS: "200" });
    children.push(child);
    await child.waitForLine(/^registered/);
    child.kill("SIGTERM");
    expect(await child.exited).toBe("SIGTERM");
    await waitFor(() => server.store.get("users", "term-1") === undefined, 2000, "removed");
    expect(statusEvents("term-1")).toEqual(["registered", "->draining", "unregistered"]);
  });
});
