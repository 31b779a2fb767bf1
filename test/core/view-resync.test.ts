// A store's view replaced without events (LocalView.replaceAll: what the etcd
// store does when etcd compacted past its watch), as the Watch hub and the
// registry see it. Driven on a MemoryStore, which shares LocalView.
import { Registry } from "../../src/core/registry";
import type { StoredInstance } from "../../src/core/store";
import { MemoryStore } from "../../src/store/memory/memory-store";
import type { WatchItem } from "../../src/watch/subscription";
import { WatchHub } from "../../src/watch/watch-hub";
import { ManualClock } from "../helpers/manual-clock";
import { input } from "./registry-contract";
import { BASE_REVISION } from "./stores-under-test";

function setup() {
  const clock = new ManualClock();
  const store = new MemoryStore({ baseRevision: BASE_REVISION, historySize: 100 });
  const registry = new Registry({ store, clock, newInstanceId: () => "generated" });
  const hub = new WatchHub({ store, queueLimit: 100, maxWatchers: 10 });
  return { store, registry, hub };
}

function labels(sub: { take(): WatchItem | undefined }): string[] {
  const out: string[] = [];
  for (let item = sub.take(); item !== undefined; item = sub.take()) {
    if (item.t === "snapshot") out.push(`snapshot:${item.instance.serviceName}/${item.instance.instanceId}`);
    else if (item.t === "synced") out.push(`synced@${item.revision}`);
    else if (item.t === "reset") out.push(`reset:${item.reason}@${item.revision}`);
    else out.push(`${item.event.type}:${item.event.instance.instanceId}`);
  }
  return out;
}

/** The view as another node would have written it: `b` left, `c` and `d` came, at `revision`. */
function reloaded(store: MemoryStore, revision: number): StoredInstance[] {
  const a = store.get("users", "a")!;
  return [
    { instance: a, revision: revision - 2 },
    { instance: Object.freeze({ ...a, instanceId: "c" }), revision: revision - 1 },
    { instance: Object.freeze({ ...a, serviceName: "orders", instanceId: "d" }), revision },
  ];
}

test("every Watch subscriber gets RESET and a snapshot of the new view once, then live events after it", async () => {
  const { store, registry, hub } = setup();
  await registry.register(input({ instanceId: "a" }));
  await registry.register(input({ instanceId: "b" }));
  const all = hub.subscribe({ services: [], sinceRevision: 0 });
  const both = hub.subscribe({ services: ["users", "orders"], sinceRevision: 0 });
  labels(all);
  labels(both);
  const revision = store.revision + 50;

  store.replaceAll(reloaded(store, revision), revision);

  expect(hub.restarts).toBe(1);
  const expected = [`reset:history-compacted@${revision}`, "snapshot:orders/d", "snapshot:users/a", "snapshot:users/c", `synced@${revision}`];
  expect(labels(all).sort()).toEqual(expected.sort());
  expect(labels(both).sort()).toEqual(expected.sort()); // once, though it follows two services
  await registry.register(input({ instanceId: "e" }));
  expect(labels(all)).toEqual(["registered:e"]);
  expect(labels(both)).toEqual(["registered:e"]);
  expect(store.revision).toBeGreaterThan(revision);
});

test("reads follow the new view, and a resume from before it is refused instead of replaying a history with a hole", async () => {
  const { store, registry, hub } = setup();
  await registry.register(input({ instanceId: "a" }));
  await registry.register(input({ instanceId: "b" }));
  const before = store.revision;
  const revision = before + 50;

  store.replaceAll(reloaded(store, revision), revision);

  expect(store.revision).toBe(revision);
  expect([...store.instancesOf("users")].map((i) => i.instanceId).sort()).toEqual(["a", "c"]);
  expect(store.get("users", "b")).toBeUndefined();
  expect(store.summaryOf("orders")?.instanceCount).toBe(1);
  expect(store.eventsSince(before)).toEqual({ t: "refused", reason: "revision-unknown" });
  const resumed = hub.subscribe({ services: [], sinceRevision: before });
  expect(labels(resumed)[0]).toMatch(/^reset:/);
});
