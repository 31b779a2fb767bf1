import { DiscoveryError } from "../../src/core/errors";
import { Registry } from "../../src/core/registry";
import type { ReplayAnswer } from "../../src/core/store";
import { MemoryStore } from "../../src/store/memory/memory-store";
import type { WatchItem } from "../../src/watch/subscription";
import { WatchHub } from "../../src/watch/watch-hub";
import { ManualClock } from "../helpers/manual-clock";
import { input } from "./registry-contract";
import { BASE_REVISION } from "./stores-under-test";

function setup(options: { historySize?: number; queueLimit?: number; maxWatchers?: number; sweepSlice?: number; defer?: (next: () => void) => void } = {}) {
  const clock = new ManualClock();
  const store = new MemoryStore({ baseRevision: BASE_REVISION, historySize: options.historySize ?? 100 });
  const registry = new Registry({ store, clock, newInstanceId: () => "generated" });
  const hub = new WatchHub({
    store,
    queueLimit: options.queueLimit ?? 100,
    maxWatchers: options.maxWatchers ?? 10,
    sweepSlice: options.sweepSlice,
    defer: options.defer,
  });
  return { clock, registry, hub };
}

/** Everything ready now, as short labels: "snapshot:a", "registered:b", "synced@5003", "reset:slow-consumer". */
function drain(sub: { take(): WatchItem | undefined }): string[] {
  const out: string[] = [];
  for (let item = sub.take(); item !== undefined; item = sub.take()) {
    switch (item.t) {
      case "snapshot":
        out.push(`snapshot:${item.instance.instanceId}`);
        break;
      case "synced":
        out.push(`synced@${item.revision}`);
        break;
      case "reset":
        out.push(`reset:${item.reason}`);
        break;
      case "event":
        out.push(`${item.event.type}:${item.event.instance.instanceId}`);
    }
  }
  return out;
}

describe("WatchHub", () => {
  test("from revision 0: one snapshot per instance, SYNCED at the current revision, then live events", async () => {
    const { registry, hub } = setup();
    await registry.register(input({ instanceId: "a" }));
    await registry.register(input({ instanceId: "b" }));
    const sub = hub.subscribe({ services: [], sinceRevision: 0 });
    expect(drain(sub)).toEqual(["snapshot:a", "snapshot:b", `synced@${BASE_REVISION + 2}`]);
    await registry.unregister("users", "a");
    expect(drain(sub)).toEqual(["unregistered:a"]);
  });

  test("resuming replays exactly the events after the revision, then SYNCED, with no gap or duplicate", async () => {
    const { registry, hub } = setup();
    await registry.register(input({ instanceId: "a" }));
    const seen = registry.store.revision;
    await registry.register(input({ instanceId: "b" }));
    await registry.register(input({ instanceId: "a", port: 1 }));
    const sub = hub.subscribe({ services: [], sinceRevision: seen });
    expect(drain(sub)).toEqual(["registered:b", "updated:a", `synced@${BASE_REVISION + 3}`]);
    await registry.register(input({ instanceId: "c" }));
    expect(drain(sub)).toEqual(["registered:c"]);
  });

  test.each([
    ["history-compacted", (current: number) => current - 5],
    ["revision-unknown", () => BASE_REVISION - 10],
    ["revision-from-future", (current: number) => current + 1],
  ])("a resume it cannot serve (%s) sends RESET, a fresh snapshot and SYNCED", async (reason, since) => {
    const { registry, hub } = setup({ historySize: 2 });
    for (const id of ["a", "b", "c", "d", "e"]) await registry.register(input({ instanceId: id }));
    await registry.unregister("users", "a");
    const sub = hub.subscribe({ services: [], sinceRevision: since(registry.store.revision) });
    expect(drain(sub)).toEqual([`reset:${reason}`, "snapshot:b", "snapshot:c", "snapshot:d", "snapshot:e", `synced@${registry.store.revision}`]);
  });

  test("filters by service, including the replay", async () => {
    const { registry, hub } = setup();
    await registry.register(input({ serviceName: "orders", instanceId: "o1" }));
    await registry.register(input({ instanceId: "u1" }));
    const fresh = hub.subscribe({ services: ["orders"], sinceRevision: 0 });
    const resumed = hub.subscribe({ services: ["orders"], sinceRevision: BASE_REVISION });
    expect(drain(fresh)).toEqual(["snapshot:o1", `synced@${BASE_REVISION + 2}`]);
    expect(drain(resumed)).toEqual(["registered:o1", `synced@${BASE_REVISION + 2}`]);
    await registry.register(input({ instanceId: "u2" }));
    await registry.register(input({ serviceName: "orders", instanceId: "o2" }));
    expect(drain(fresh)).toEqual(["registered:o2"]);
    expect(drain(resumed)).toEqual(["registered:o2"]);
  });

  test("a slow subscriber loses its backlog and is resynced; others are unaffected", async () => {
    const { registry, hub } = setup({ queueLimit: 5 });
    const slow = hub.subscribe({ services: [], sinceRevision: 0 });
    const fast = hub.subscribe({ services: [], sinceRevision: 0 });
    drain(slow);
    drain(fast);
    const fastSeen: string[] = [];
    for (let i = 0; i < 20; i++) {
      await registry.register(input({ instanceId: `i${i}` }));
      fastSeen.push(...drain(fast));
    }
    expect(fastSeen).toHaveLength(20);
    expect(slow.pending).toBe(0); // the backlog was dropped, not kept growing
    expect(slow.awaitingResync).toBe(true);
    expect(hub.slowResets).toBe(1);
    const items = drain(slow);
    expect(items[0]).toBe("reset:slow-consumer");
    expect(items.filter((x) => x.startsWith("snapshot:"))).toHaveLength(20);
    expect(items.at(-1)).toBe(`synced@${registry.store.revision}`);
    expect(hub.slowResets).toBe(1);
    await registry.unregister("users", "i0");
    expect(drain(slow)).toEqual(["unregistered:i0"]);
  });

  test("a waiting reader is woken by the next event", async () => {
    const { registry, hub } = setup();
    const sub = hub.subscribe({ services: [], sinceRevision: 0 });
    drain(sub);
    const next = sub.next();
    await registry.register(input({ instanceId: "a" }));
    const result = await next;
    expect(result.done).toBe(false);
    expect(result.value).toMatchObject({ t: "event", event: { type: "registered" } });
  });

  test("refuses subscribers past the limit and frees the slot when one closes", async () => {
    const { hub } = setup({ maxWatchers: 2 });
    const a = hub.subscribe({ services: [], sinceRevision: 0 });
    hub.subscribe({ services: ["users", "orders"], sinceRevision: 0 });
    expect(() => hub.subscribe({ services: [], sinceRevision: 0 })).toThrow(DiscoveryError);
    a.close();
    expect(hub.watcherCount).toBe(1);
    expect(() => hub.subscribe({ services: [], sinceRevision: 0 })).not.toThrow();
  });

  test("closing the hub ends waiting readers with its error and refuses new subscribers", async () => {
    const { hub } = setup();
    const sub = hub.subscribe({ services: ["users"], sinceRevision: 0 });
    drain(sub);
    const pending = sub.next();
    const error = new DiscoveryError("unavailable", "shutting down");
    hub.close(error);
    await expect(pending).rejects.toBe(error);
    expect(hub.watcherCount).toBe(0);
    expect(() => hub.subscribe({ services: [], sinceRevision: 0 })).toThrow(error);
  });
});

describe("WatchHub sweeps in slices", () => {
  function sliced(slice: number) {
    const deferred: (() => void)[] = [];
    const env = setup({ sweepSlice: slice, defer: (next) => void deferred.push(next), maxWatchers: 100 });
    const runDeferred = () => {
      while (deferred.length > 0) deferred.shift()!();
    };
    return { ...env, deferred, runDeferred };
  }

  test("a fan-out larger than a slice is finished later, in order, for every subscriber", async () => {
    const { registry, hub, deferred, runDeferred } = sliced(3);
    const subs = Array.from({ length: 5 }, () => hub.subscribe({ services: [], sinceRevision: 0 }));
    subs.forEach((s) => drain(s));
    await registry.register(input({ instanceId: "a" }));
    await registry.register(input({ instanceId: "b" }));
    expect(subs.map((s) => drain(s).length)).toEqual([1, 1, 1, 0, 0]); // one slice of 3 deliveries
    expect(deferred).toHaveLength(1);
    runDeferred();
    // Every subscriber saw a then b, never b before a.
    expect(subs.slice(3).map((s) => drain(s))).toEqual([
      ["registered:a", "registered:b"],
      ["registered:a", "registered:b"],
    ]);
    expect(subs.slice(0, 3).map((s) => drain(s))).toEqual([["registered:b"], ["registered:b"], ["registered:b"]]);
  });

  test("a subscriber that joins during a sweep gets nothing twice", async () => {
    const { registry, hub, runDeferred } = sliced(2);
    for (let i = 0; i < 4; i++) drain(hub.subscribe({ services: [], sinceRevision: 0 }));
    await registry.register(input({ instanceId: "a" })); // swept to 2 of 4 so far
    const late = hub.subscribe({ services: [], sinceRevision: 0 });
    expect(drain(late)).toEqual(["snapshot:a", `synced@${registry.store.revision}`]);
    runDeferred();
    expect(drain(late)).toEqual([]); // "registered:a" is in its snapshot already
    await registry.register(input({ instanceId: "b" }));
    runDeferred();
    expect(drain(late)).toEqual(["registered:b"]);
  });

  test("small fan-outs are delivered at once", async () => {
    const { registry, hub, deferred } = sliced(1_000);
    const sub = hub.subscribe({ services: [], sinceRevision: 0 });
    drain(sub);
    await registry.register(input({ instanceId: "a" }));
    expect(drain(sub)).toEqual(["registered:a"]);
    expect(deferred).toHaveLength(0);
  });
});

test("an internal subscriber (the xDS catalog) gets events but is neither counted as a watcher nor refused at the watcher limit", async () => {
  const { registry, hub } = setup({ maxWatchers: 1 });
  const internal = hub.subscribe({ services: [], sinceRevision: 0, internal: true });
  expect(hub.watcherCount).toBe(0);
  const watcher = hub.subscribe({ services: [], sinceRevision: 0 });
  expect(hub.watcherCount).toBe(1);
  expect(() => hub.subscribe({ services: [], sinceRevision: 0 })).toThrow(DiscoveryError);
  expect(hub.subscribe({ services: [], sinceRevision: 0, internal: true })).toBeDefined();
  await registry.register(input({ instanceId: "a" }));
  expect(drain(internal)).toContain("registered:a");
  internal.close();
  expect(hub.watcherCount).toBe(1);
  watcher.close();
  expect(hub.watcherCount).toBe(0);
});

describe("WatchHub over a store that answers a resume asynchronously (as etcd fetching older history)", () => {
  /** A memory store whose eventsSince answers only when the test releases it: at that moment, or as it was when asked. */
  class DeferredHistoryStore extends MemoryStore {
    readonly waiting: { release(): void; fail(error: unknown): void }[] = [];
    constructor(private readonly answerAsAsked: boolean) {
      super({ baseRevision: BASE_REVISION, historySize: 100 });
    }
    override eventsSince(revision: number, services?: ReadonlySet<string>): Promise<ReplayAnswer> {
      const asked = this.retainedSince(revision, services);
      return new Promise((resolve, reject) => {
        this.waiting.push({ release: () => resolve(this.answerAsAsked ? asked : this.retainedSince(revision, services)), fail: reject });
      });
    }
  }

  function deferredSetup(answerAsAsked: boolean, queueLimit = 100) {
    const store = new DeferredHistoryStore(answerAsAsked);
    const registry = new Registry({ store, clock: new ManualClock(), newInstanceId: () => "generated" });
    const hub = new WatchHub({ store, queueLimit, maxWatchers: 10 });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    return { store, registry, hub, settle };
  }

  test("events that arrive while it answers are queued, sent after the answer, and those it covers are not sent twice", async () => {
    const { store, registry, hub, settle } = deferredSetup(false);
    await registry.register(input({ instanceId: "a" }));
    const seen = store.revision;
    const sub = hub.subscribe({ services: [], sinceRevision: seen });
    await registry.register(input({ instanceId: "b" })); // while the store is still answering
    expect(drain(sub)).toEqual([]); // nothing before the answer
    store.waiting[0]!.release(); // answered as of now: b is in the answer already
    await settle();
    expect(drain(sub)).toEqual(["registered:b", `synced@${store.revision}`]);
    await registry.register(input({ instanceId: "c" }));
    expect(drain(sub)).toEqual(["registered:c"]);
  });

  test("an answer made when asked is followed by the events queued since, in order", async () => {
    const { store, registry, hub, settle } = deferredSetup(true);
    await registry.register(input({ instanceId: "a" }));
    const seen = store.revision;
    await registry.register(input({ instanceId: "a2" }));
    const asked = store.revision;
    const sub = hub.subscribe({ services: [], sinceRevision: seen });
    await registry.register(input({ instanceId: "b" }));
    store.waiting[0]!.release();
    await settle();
    expect(drain(sub)).toEqual(["registered:a2", `synced@${asked}`, "registered:b"]);
  });

  test("a reader already waiting is woken by the answer", async () => {
    const { store, registry, hub } = deferredSetup(true);
    await registry.register(input({ instanceId: "a" }));
    const sub = hub.subscribe({ services: [], sinceRevision: store.revision });
    const next = sub.next();
    store.waiting[0]!.release();
    expect(await next).toEqual({ done: false, value: { t: "synced", revision: store.revision } });
  });

  test("a subscriber whose queue overflows while it waits is resynced with a snapshot instead", async () => {
    const { store, registry, hub, settle } = deferredSetup(true, 2);
    await registry.register(input({ instanceId: "a" }));
    const sub = hub.subscribe({ services: [], sinceRevision: store.revision });
    for (const id of ["b", "c", "d"]) await registry.register(input({ instanceId: id }));
    store.waiting[0]!.release();
    await settle();
    expect(drain(sub)).toEqual(["reset:slow-consumer", "snapshot:a", "snapshot:b", "snapshot:c", "snapshot:d", `synced@${store.revision}`]);
    expect(hub.slowResets).toBe(1);
  });

  test("a store that fails to answer ends the subscription with its error", async () => {
    const { store, registry, hub } = deferredSetup(true);
    await registry.register(input({ instanceId: "a" }));
    const sub = hub.subscribe({ services: [], sinceRevision: store.revision });
    const next = sub.next();
    const error = new DiscoveryError("unavailable", "etcd is unreachable");
    store.waiting[0]!.fail(error);
    await expect(next).rejects.toBe(error);
    expect(hub.watcherCount).toBe(0);
  });
});
