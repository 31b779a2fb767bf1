// A Watch snapshot is read from the registry as the subscriber takes it, not
// copied up front (issue 9, item 2): a stalled subscriber holds no snapshot, only
// its bounded queue of events, however large the services it follows.
import { Registry } from "../../src/core/registry";
import { MemoryStore } from "../../src/store/memory/memory-store";
import type { WatchItem } from "../../src/watch/subscription";
import { WatchHub } from "../../src/watch/watch-hub";
import { ManualClock } from "../helpers/manual-clock";
import { input } from "./registry-contract";
import { BASE_REVISION } from "./stores-under-test";

function setup(instances: number, queueLimit = 100) {
  const store = new MemoryStore({ baseRevision: BASE_REVISION, historySize: 100 });
  const registry = new Registry({ store, clock: new ManualClock(), newInstanceId: () => "generated" });
  // The memory store applies each write before register() returns.
  for (let i = 0; i < instances; i++) void registry.register(input({ instanceId: `i${i}`, metadata: { v: "1" } }));
  const hub = new WatchHub({ store, queueLimit, maxWatchers: 10_000 });
  return { registry, hub };
}

/** A push sink that takes `room` items, then reports full until given more room. */
function stallingSink(room: number) {
  const items: WatchItem[] = [];
  const sink = {
    room,
    write(item: WatchItem) {
      items.push(item);
      return --sink.room > 0;
    },
    end() {},
  };
  return { sink, items };
}

test("a stalled subscriber has copied none of the snapshot it has not reached: it sees later states when it resumes", async () => {
  const { registry, hub } = setup(50);
  const { sink, items } = stallingSink(3);
  const control = hub.subscribe({ services: ["users"], sinceRevision: 0 }).attach(sink);
  expect(items).toHaveLength(3);
  // While it is stalled, an instance it has not reached changes.
  await registry.register(input({ instanceId: "i40", metadata: { v: "2" } }));
  sink.room = Infinity;
  control.resume();
  const snapshots = items.filter((item) => item.t === "snapshot");
  expect(snapshots).toHaveLength(50);
  const i40 = snapshots.find((item) => item.t === "snapshot" && item.instance.instanceId === "i40");
  expect(i40?.t === "snapshot" && i40.instance.metadata).toEqual({ v: "2" });
  expect(items.at(-1)).toMatchObject({ t: "event", event: { type: "updated" } });
});

test("an instance removed before a stalled subscriber reaches it is not sent as a snapshot; its removal is", async () => {
  const { registry, hub } = setup(10);
  const { sink, items } = stallingSink(2);
  const control = hub.subscribe({ services: [], sinceRevision: 0 }).attach(sink);
  await registry.unregister("users", "i9");
  sink.room = Infinity;
  control.resume();
  const ids = items.flatMap((item) => (item.t === "snapshot" ? [item.instance.instanceId] : []));
  expect(ids).toHaveLength(9);
  expect(ids).not.toContain("i9");
  expect(items.at(-1)).toMatchObject({ t: "event", event: { type: "unregistered", instance: { instanceId: "i9" } } });
});

test("many stalled subscribers of a large service hold only their queues: the heap does not grow with the snapshot", () => {
  const { hub } = setup(2000);
  const before = process.memoryUsage().heapUsed;
  const controls = [];
  for (let i = 0; i < 300; i++) controls.push(hub.subscribe({ services: ["users"], sinceRevision: 0 }).attach(stallingSink(1).sink));
  const grown = process.memoryUsage().heapUsed - before;
  // Copied snapshots would be 300 x 2000 frozen instances (well over 100 MB).
  expect(grown).toBeLessThan(20 * 1024 * 1024);
  expect(controls).toHaveLength(300);
});
