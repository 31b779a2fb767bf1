// Watch over real HTTP/2 sockets: every event type, resume without gap or
// duplicate, RESET when history is lost, and a subscriber that stops reading.
import { status as GrpcStatus } from "@grpc/grpc-js";
import { DiscoveryService, EventType, HealthStatus, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { RawWatchStream } from "../helpers/raw-watch-stream";
import { ManualClock } from "../helpers/manual-clock";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { WatchState } from "../helpers/watch-state";

const M = DiscoveryService.method;

describe("Watch over gRPC", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  let clock: ManualClock;

  async function start(options: Parameters<typeof startTestServer>[0] = {}) {
    clock = new ManualClock(Date.now());
    server = await startTestServer({ clock, ...options });
    client = new GrpcTestClient(DiscoveryService, server.target);
  }
  afterEach(async () => {
    client.close();
    await server.close();
  });

  const register = (id: string, overrides: Record<string, unknown> = {}) =>
    client.unary(M.register, { serviceName: "users", instanceId: id, host: "10.0.0.1", port: 8080, ...overrides });
  const watch = (request: { serviceNames?: string[]; sinceRevision?: bigint } = {}) =>
    new StreamReader<WatchEvent>(client.serverStream(M.watch, request));
  const type = (e: WatchEvent) => EventType[e.type];

  test("streams a snapshot, SYNCED, then every kind of change with its revision", async () => {
    await start();
    await register("a");
    const reader = watch({ serviceNames: ["users"] });
    const [snapshot, synced] = await reader.take(2);
    expect(type(snapshot!)).toBe("SNAPSHOT");
    expect(snapshot!.instance?.instanceId).toBe("a");
    expect(type(synced!)).toBe("SYNCED");
    expect(synced!.revision).toBe(BigInt(server.store.revision));

    await register("b", { ttl: { seconds: 5n } }); // REGISTERED
    await register("b", { ttl: { seconds: 5n }, port: 9090 }); // UPDATED
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "b", loadPercentage: 0.85 }); // LOAD_CRITICAL
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "b", loadPercentage: 0.75 }); // within hysteresis: nothing
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "b", loadPercentage: 0.6 }); // LOAD_NORMAL
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "b", status: HealthStatus.UNHEALTHY }); // HEALTH_CHANGED
    await client.unary(M.unregister, { serviceName: "users", instanceId: "a" }); // UNREGISTERED
    clock.advance(5_000); // b's lease runs out: EXPIRED, fired by the server's own timer
    const events = await reader.take(7);
    expect(events.map(type)).toEqual(["REGISTERED", "UPDATED", "LOAD_CRITICAL", "LOAD_NORMAL", "HEALTH_CHANGED", "UNREGISTERED", "EXPIRED"]);
    expect(events[2]!.instance).toMatchObject({ criticalLoad: true, loadPercentage: 0.85 });
    expect(events[4]).toMatchObject({ previousStatus: HealthStatus.HEALTHY, instance: { status: HealthStatus.UNHEALTHY } });
    expect(events[6]!.instance?.instanceId).toBe("b");
    for (let i = 1; i < events.length; i++) expect(events[i]!.revision).toBe(events[i - 1]!.revision + 1n);
    expect(events.every((e) => e.occurredAt !== undefined)).toBe(true);
  });

  test("an expired lease is reported within a second of its deadline", async () => {
    await start();
    await register("a", { ttl: { seconds: 1n } });
    const reader = watch();
    await reader.take(2);
    clock.advance(1_000);
    const started = Date.now();
    const expired = await reader.next(1_000);
    expect(type(expired)).toBe("EXPIRED");
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(client.unary(M.heartbeat, { serviceName: "users", instanceId: "a" })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });

  test("filters by service; an empty list watches all", async () => {
    await start();
    const users = watch({ serviceNames: ["users"] });
    const all = watch();
    await users.take(1);
    await all.take(1);
    await client.unary(M.register, { serviceName: "orders", instanceId: "o", host: "h", port: 1 });
    await register("u");
    expect((await users.next()).instance?.instanceId).toBe("u");
    expect((await all.take(2)).map((e) => e.instance?.instanceId)).toEqual(["o", "u"]);
  });

  test("a reconnecting watcher resumes from its last revision with no gap and no duplicate", async () => {
    await start();
    const first = watch();
    await first.next(); // SYNCED of an empty registry
    await register("a");
    await register("b");
    const seen = await first.take(2);
    client.close(); // the gateway loses its connection...
    client = new GrpcTestClient(DiscoveryService, server.target);
    await register("c"); // ...while changes go on
    await client.unary(M.unregister, { serviceName: "users", instanceId: "a" });
    const resumed = watch({ sinceRevision: seen[1]!.revision });
    const replay = await resumed.take(3);
    expect(replay.map((e) => `${type(e)}:${e.instance?.instanceId ?? ""}`)).toEqual(["REGISTERED:c", "UNREGISTERED:a", "SYNCED:"]);
    expect(replay[0]!.revision).toBe(seen[1]!.revision + 1n);
    await register("d");
    expect((await resumed.next()).instance?.instanceId).toBe("d");
  });

  test("a revision the server cannot replay gets RESET, a fresh snapshot and SYNCED, never an error", async () => {
    await start({ limits: { historySize: 3 } });
    for (const id of ["a", "b", "c", "d", "e"]) await register(id);
    const tooOld = BigInt(server.store.revision - 4);
    for (const [since, reason] of [
      [tooOld, "history-compacted"],
      [1n, "revision-unknown"],
      [BigInt(server.store.revision + 100), "revision-from-future"],
    ] as const) {
      const reader = watch({ sinceRevision: since });
      const events = await reader.take(7);
      expect(events.map(type)).toEqual(["RESET", "SNAPSHOT", "SNAPSHOT", "SNAPSHOT", "SNAPSHOT", "SNAPSHOT", "SYNCED"]);
      expect(events[0]!.reason).toBe(reason);
    }
  });

  test("a subscriber that stops reading is reset and converges, in bounded memory, without slowing others", async () => {
    const queueLimit = 10;
    await start({ watchQueueLimit: queueLimit });
    const slowStream = new RawWatchStream(server.target, {}); // connects, then never reads
    const fast = watch();
    await fast.next();
    const fastState = new WatchState();
    // ~32 KB per event: a few fill the stalled peer's HTTP/2 window and socket
    // buffers, then queueLimit more fill its queue. Register until the hub drops it
    // (about 13 events here), then twice the limit more: had anything queued for it
    // again, it would overflow a second time. (A fixed 500 took 11-20 s under load.)
    const metadata = Object.fromEntries(Array.from({ length: 64 }, (_, k) => [`k${k}`, "x".repeat(500)]));
    let maxPending = 0;
    let registered = 0;
    const addOne = async () => {
      await register(`i${registered++}`, { metadata });
      maxPending = Math.max(maxPending, pendingOfWatchers(server));
      fastState.apply(await fast.next()); // the fast reader keeps up, event by event
    };
    while (server.hub.slowResets === 0) {
      if (registered === 500) throw new Error("500 events of 32 KB never overflowed the stalled subscriber");
      await addOne();
    }
    for (let i = 0; i < 2 * queueLimit; i++) await addOne();
    expect(fastState.instances.size).toBe(registered);
    expect(maxPending).toBeLessThanOrEqual(queueLimit); // the backlog never grew past WATCH_QUEUE_LIMIT
    expect(server.hub.slowResets).toBe(1); // dropped once, and nothing queued for it since

    const slow = new StreamReader<WatchEvent>(slowStream);
    const slowState = new WatchState();
    slowStream.resume();
    // It reads what was in flight, then RESET and a full snapshot, then SYNCED.
    for (;;) {
      const event = await slow.next();
      slowState.apply(event);
      if (event.type === EventType.SYNCED && slowState.resets > 0) break;
    }
    expect(slowState.resets).toBe(1);
    const truth = server.store.snapshot().instances.map((i) => `${i.serviceName}/${i.instanceId}`);
    expect([...slowState.instances.keys()].sort()).toEqual(truth.sort());
    await client.unary(M.unregister, { serviceName: "users", instanceId: "i0" });
    slowState.apply(await slow.next());
    expect(slowState.instances.size).toBe(registered - 1);
    slowStream.close();
  });

  test("DISCOVERY_MAX_WATCHERS bounds streams with RESOURCE_EXHAUSTED; a bad service name is INVALID_ARGUMENT", async () => {
    await start({ maxWatchers: 2 });
    const a = watch();
    const b = watch();
    await a.next();
    await b.next();
    const third = watch();
    expect(await third.finished()).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
    const bad = watch({ serviceNames: ["no spaces allowed"] });
    const error = await bad.finished();
    expect(error).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
    expect(error?.details).toMatch(/^service_names/);
  });
});

/** The largest backlog any subscriber holds right now, read from the hub's internals. */
function pendingOfWatchers(server: TestServer): number {
  const hub = server.hub as unknown as { everything: Set<{ pending: number }> };
  let max = 0;
  for (const sub of hub.everything) max = Math.max(max, sub.pending);
  return max;
}
