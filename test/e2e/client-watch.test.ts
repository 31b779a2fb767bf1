// The SDK's watch() and healthyView() across real network failures: a TCP proxy
// between client and registry is cut while the registry keeps changing.
import { EventType, HealthStatus, type Instance, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { healthyView, RECONNECT_RESET_REASON, watch } from "../../src/client";
import type { RegisterInput } from "../../src/core/types";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait-for";
import { WatchState } from "../helpers/watch-state";

const FAST = { initialMs: 20, maxMs: 100 };

function instance(id: string, overrides: Partial<RegisterInput> = {}): RegisterInput {
  return { serviceName: "users", instanceId: id, host: "127.0.0.1", port: 9000, healthEndpoint: "", metadata: {}, ttlMs: 60_000, load: undefined, ...overrides };
}

const registryState = (server: TestServer) =>
  server.store.snapshot(new Set(["users"])).instances.map((i) => `${i.instanceId}@${i.port}:${i.status}`).sort();
const clientState = (state: WatchState) =>
  [...state.instances.values()].map((i) => `${i.instanceId}@${i.port}:${HealthStatus[i.status]!.toLowerCase()}`).sort();

describe("client watch()", () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let stop: AbortController;

  beforeEach(async () => {
    server = await startTestServer();
    proxy = await startTcpProxy(server.port);
    stop = new AbortController();
  });

  afterEach(async () => {
    stop.abort();
    await proxy.close();
    await server.close();
  });

  /** Consumes watch() into a WatchState, recording every event. */
  function follow(onEvent: (event: WatchEvent) => void = () => {}) {
    const state = new WatchState();
    const seen: WatchEvent[] = [];
    let disconnects = 0;
    const done = (async () => {
      for await (const event of watch({ url: proxy.url, services: ["users"], signal: stop.signal, backoff: FAST, onDisconnect: () => disconnects++ })) {
        seen.push(event);
        state.apply(event);
        onEvent(event);
      }
    })();
    return { state, seen, done, disconnects: () => disconnects };
  }

  test("resumes from the last revision across a forced disconnect, without a gap or a duplicate", async () => {
    await server.registry.register(instance("a"));
    await server.registry.register(instance("b"));
    const { state, seen, disconnects } = follow();
    await waitFor(() => state.synced, 3000, "synced");
    await server.registry.register(instance("c"));
    await waitFor(() => state.instances.size === 3, 3000, "c seen");

    proxy.cutAll();
    // Changes while the client is cut off: it must get each of them exactly once.
    await server.registry.setStatus("users", "a", "unhealthy");
    await server.registry.unregister("users", "b");
    await server.registry.register(instance("d", { port: 9100 }));
    await server.registry.register(instance("c", { port: 9200 }));
    await waitFor(() => clientState(state).join() === registryState(server).join() && disconnects() > 0, 5000, "caught up");

    const changes = seen.filter((e) => e.type !== EventType.SNAPSHOT && e.type !== EventType.SYNCED).map((e) => Number(e.revision));
    const expected = [];
    for (let r = Number(seen.find((e) => e.type === EventType.SYNCED)!.revision) + 1; r <= server.store.revision; r++) expected.push(r);
    expect(changes).toEqual(expected);
    expect(seen.some((e) => e.type === EventType.RESET)).toBe(false);
  });

  test("passes the server's RESET through after a registry restart; the state then equals the new registry's", async () => {
    await server.registry.register(instance("old"));
    const { state, seen } = follow();
    await waitFor(() => state.synced && state.instances.size === 1, 3000, "synced");

    const port = server.port;
    await server.close();
    server = await startTestServer({ port });
    await server.registry.register(instance("new"));
    await waitFor(() => seen.some((e) => e.type === EventType.RESET) && state.synced, 5000, "reset and resynced");
    expect(seen.find((e) => e.type === EventType.RESET)!.reason).toBe("revision-unknown");
    expect(clientState(state)).toEqual(registryState(server));
  });

  test("a link that breaks in the middle of a snapshot makes watch() send its own RESET before the fresh one", async () => {
    // A snapshot of ~800 KB, far more than the HTTP/2 window and buffers hold when
    // the first SNAPSHOT is read, so the cut lands mid-snapshot. Few large instances
    // rather than many small ones: the time goes per event (5000 took 8 s under load).
    const INSTANCES = 500;
    const metadata = Object.fromEntries(Array.from({ length: 4 }, (_, k) => [`pad${k}`, "x".repeat(400)]));
    for (let i = 0; i < INSTANCES; i++) await server.registry.register(instance(`i${i}`, { metadata }));
    let cut = false;
    const { state, seen } = follow((event) => {
      if (!cut && event.type === EventType.SNAPSHOT) {
        cut = true;
        proxy.cutAll();
      }
    });
    await waitFor(() => state.synced, 8000, "synced");
    const reset = seen.findIndex((e) => e.type === EventType.RESET);
    expect(seen[reset]?.reason).toBe(RECONNECT_RESET_REASON);
    expect(seen.findIndex((e) => e.type === EventType.SYNCED)).toBeGreaterThan(reset);
    expect(state.instances.size).toBe(INSTANCES);
  });
});

describe("client healthyView()", () => {
  let server: TestServer;
  let proxy: TcpProxy;

  beforeEach(async () => {
    server = await startTestServer();
    proxy = await startTcpProxy(server.port);
  });

  afterEach(async () => {
    await proxy.close();
    await server.close();
  });

  const ids = (instances: readonly Instance[]) => instances.map((i) => i.instanceId);

  test("holds the serving instances, tells each change, and keeps the last set while the registry is unreachable", async () => {
    for (const id of ["a", "b", "c"]) await server.registry.register(instance(id));
    const view = healthyView("users", { url: proxy.url, backoff: FAST });
    const changes: string[][] = [];
    view.onChange((instances) => changes.push(ids(instances)));
    try {
      await view.ready();
      expect(ids(view.instances)).toEqual(["a", "b", "c"]);

      await server.registry.setStatus("users", "b", "unhealthy");
      await waitFor(() => ids(view.instances).join() === "a,c", 2000, "b left out");
      await server.registry.unregister("users", "c", 10_000); // draining is not serving
      await waitFor(() => ids(view.instances).join() === "a", 2000, "c left out");
      expect(changes).toEqual([["a", "b", "c"], ["a", "c"], ["a"]]);

      proxy.cutAll();
      await proxy.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(ids(view.instances)).toEqual(["a"]);
    } finally {
      view.close();
    }
  });

  test("a listener that throws neither stops the view nor the other listeners; the error goes to the logger", async () => {
    const logged: { message: string; err: unknown }[] = [];
    const log = (object: object, message: string) => logged.push({ message, err: (object as { err?: unknown }).err });
    const logger = { debug: log, info: log, warn: log, error: log };
    const view = healthyView("users", { url: server.baseUrl, backoff: FAST, logger });
    const thrown = new Error("listener bug");
    const seenByThrower: string[][] = [];
    const seenByOther: string[][] = [];
    view.onChange((instances) => {
      seenByThrower.push(ids(instances));
      if (seenByThrower.length === 1) throw thrown;
    });
    view.onChange((instances) => seenByOther.push(ids(instances)));
    try {
      await view.ready();
      await server.registry.register(instance("a"));
      await waitFor(() => seenByThrower.length === 1, 2000, "the first change");
      await server.registry.register(instance("b"));
      await waitFor(() => ids(view.instances).join() === "a,b", 2000, "b seen after the listener threw");
      expect(seenByThrower).toEqual([["a"], ["a", "b"]]);
      expect(seenByOther).toEqual([["a"], ["a", "b"]]);
      expect(logged).toEqual([{ message: "healthy view listener threw", err: thrown }]);
    } finally {
      view.close();
    }
  });

  test("avoidCriticalLoad leaves critical instances out while others remain, and keeps them all when none does", async () => {
    for (const id of ["a", "b"]) await server.registry.register(instance(id));
    const view = healthyView("users", { url: server.baseUrl, avoidCriticalLoad: true, backoff: FAST });
    try {
      await view.ready();
      await server.registry.heartbeat({ serviceName: "users", instanceId: "a", load: 0.95 });
      await waitFor(() => ids(view.instances).join() === "b", 2000, "a left out");
      await server.registry.heartbeat({ serviceName: "users", instanceId: "b", load: 0.95 });
      await waitFor(() => ids(view.instances).join() === "a,b", 2000, "both back");
      await server.registry.heartbeat({ serviceName: "users", instanceId: "a", load: 0.1 });
      await waitFor(() => ids(view.instances).join() === "a", 2000, "only a");
    } finally {
      view.close();
    }
  });
});
