import { DiscoveryError } from "../../src/core/errors";
import { Registry } from "../../src/core/registry";
import type { WatchItem } from "../../src/watch/subscription";
import { WatchHub } from "../../src/watch/watch-hub";
import { ManualClock } from "../helpers/manual-clock";
import { BASE_REVISION, input } from "./registry-contract";

function setup(options: { historySize?: number; queueLimit?: number; maxWatchers?: number; sweepSlice?: number; defer?: (next: () => void) => void } = {}) {
  const clock = new ManualClock();
  const registry = new Registry({
    clock,
    newInstanceId: () => "generated",
    baseRevision: BASE_REVISION,
    limits: { historySize: options.historySize ?? 100 },
  });
  const hub = new WatchHub({
    registry,
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
  test("from revision 0: one snapshot per instance, SYNCED at the current revision, then live events", () => {
    const { registry, hub } = setup();
    registry.register(input({ instanceId: "a" }));
    registry.register(input({ instanceId: "b" }));
    const sub = hub.subscribe({ services: [], sinceRevision: 0 });
    expect(drain(sub)).toEqual(["snapshot:a", "snapshot:b", `synced@${BASE_REVISION + 2}`]);
    registry.unregister("users", "a");
    expect(drain(sub)).toEqual(["unregistered:a"]);
  });

  test("resuming replays exactly the events after the revision, then SYNCED, with no gap or duplicate", () => {
    const { registry, hub } = setup();
    registry.register(input({ instanceId: "a" }));
    const seen = registry.revision;
    registry.register(input({ instanceId: "b" }));
    registry.register(input({ instanceId: "a", port: 1 }));
    const sub = hub.subscribe({ services: [], sinceRevision: seen });
    expect(drain(sub)).toEqual(["registered:b", "updated:a", `synced@${BASE_REVISION + 3}`]);
    registry.register(input({ instanceId: "c" }));
    expect(drain(sub)).toEqual(["registered:c"]);
  });

  test.each([
    ["history-compacted", (current: number) => current - 5],
    ["revision-unknown", () => BASE_REVISION - 10],
    ["revision-from-future", (current: number) => current + 1],
  ])("a resume it cannot serve (%s) sends RESET, a fresh snapshot and SYNCED", (reason, since) => {
    const { registry, hub } = setup({ historySize: 2 });
    for (const id of ["a", "b", "c", "d", "e"]) registry.register(input({ instanceId: id }));
    registry.unregister("users", "a");
    const sub = hub.subscribe({ services: [], sinceRevision: since(registry.revision) });
    expect(drain(sub)).toEqual([`reset:${reason}`, "snapshot:b", "snapshot:c", "snapshot:d", "snapshot:e", `synced@${registry.revision}`]);
  });

  test("filters by service, including the replay", () => {
    const { registry, hub } = setup();
    registry.register(input({ serviceName: "orders", instanceId: "o1" }));
    registry.register(input({ instanceId: "u1" }));
    const fresh = hub.subscribe({ services: ["orders"], sinceRevision: 0 });
    const resumed = hub.subscribe({ services: ["orders"], sinceRevision: BASE_REVISION });
    expect(drain(fresh)).toEqual(["snapshot:o1", `synced@${BASE_REVISION + 2}`]);
    expect(drain(resumed)).toEqual(["registered:o1", `synced@${BASE_REVISION + 2}`]);
    registry.register(input({ instanceId: "u2" }));
    registry.register(input({ serviceName: "orders", instanceId: "o2" }));
    expect(drain(fresh)).toEqual(["registered:o2"]);
    expect(drain(resumed)).toEqual(["registered:o2"]);
  });

  test("a slow subscriber loses its backlog and is resynced; others are unaffected", () => {
    const { registry, hub } = setup({ queueLimit: 5 });
    const slow = hub.subscribe({ services: [], sinceRevision: 0 });
    const fast = hub.subscribe({ services: [], sinceRevision: 0 });
    drain(slow);
    drain(fast);
    const fastSeen: string[] = [];
    for (let i = 0; i < 20; i++) {
      registry.register(input({ instanceId: `i${i}` }));
      fastSeen.push(...drain(fast));
    }
    expect(fastSeen).toHaveLength(20);
    expect(slow.pending).toBe(0); // the backlog was dropped, not kept growing
    expect(slow.awaitingResync).toBe(true);
    expect(hub.slowResets).toBe(1);
    const items = drain(slow);
    expect(items[0]).toBe("reset:slow-consumer");
    expect(items.filter((x) => x.startsWith("snapshot:"))).toHaveLength(20);
    expect(items.at(-1)).toBe(`synced@${registry.revision}`);
    expect(hub.slowResets).toBe(1);
    registry.unregister("users", "i0");
    expect(drain(slow)).toEqual(["unregistered:i0"]);
  });

  test("a waiting reader is woken by the next event", async () => {
    const { registry, hub } = setup();
    const sub = hub.subscribe({ services: [], sinceRevision: 0 });
    drain(sub);
    const next = sub.next();
    registry.register(input({ instanceId: "a" }));
    const result = await next;
    expect(result.done).toBe(false);
    expect(result.value).toMatchObject({ t: "event", event: { type: "registered" } });
  });

  test("refuses subscribers past the limit and frees the slot when one closes", () => {
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

  test("a fan-out larger than a slice is finished later, in order, for every subscriber", () => {
    const { registry, hub, deferred, runDeferred } = sliced(3);
    const subs = Array.from({ length: 5 }, () => hub.subscribe({ services: [], sinceRevision: 0 }));
    subs.forEach((s) => drain(s));
    registry.register(input({ instanceId: "a" }));
    registry.register(input({ instanceId: "b" }));
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

  test("a subscriber that joins during a sweep gets nothing twice", () => {
    const { registry, hub, runDeferred } = sliced(2);
    for (let i = 0; i < 4; i++) drain(hub.subscribe({ services: [], sinceRevision: 0 }));
    registry.register(input({ instanceId: "a" })); // swept to 2 of 4 so far
    const late = hub.subscribe({ services: [], sinceRevision: 0 });
    expect(drain(late)).toEqual(["snapshot:a", `synced@${registry.revision}`]);
    runDeferred();
    expect(drain(late)).toEqual([]); // "registered:a" is in its snapshot already
    registry.register(input({ instanceId: "b" }));
    runDeferred();
    expect(drain(late)).toEqual(["registered:b"]);
  });

  test("small fan-outs are delivered at once", () => {
    const { registry, hub, deferred } = sliced(1_000);
    const sub = hub.subscribe({ services: [], sinceRevision: 0 });
    drain(sub);
    registry.register(input({ instanceId: "a" }));
    expect(drain(sub)).toEqual(["registered:a"]);
    expect(deferred).toHaveLength(0);
  });
});

test("an internal subscriber (the xDS catalog) gets events but is neither counted as a watcher nor refused at the watcher limit", () => {
  const { registry, hub } = setup({ maxWatchers: 1 });
  const internal = hub.subscribe({ services: [], sinceRevision: 0, internal: true });
  expect(hub.watcherCount).toBe(0);
  const watcher = hub.subscribe({ services: [], sinceRevision: 0 });
  expect(hub.watcherCount).toBe(1);
  expect(() => hub.subscribe({ services: [], sinceRevision: 0 })).toThrow(DiscoveryError);
  expect(hub.subscribe({ services: [], sinceRevision: 0, internal: true })).toBeDefined();
  registry.register(input({ instanceId: "a" }));
  expect(drain(internal)).toContain("registered:a");
  internal.close();
  expect(hub.watcherCount).toBe(1);
  watcher.close();
  expect(hub.watcherCount).toBe(0);
});
