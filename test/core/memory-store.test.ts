// What only the memory store promises, beyond the contract: revisions are a
// counter from its base, writes are applied before apply() returns, and a
// heartbeat that changes nothing observable is answered synchronously.
import { Registry } from "../../src/core/registry";
import type { RegistryEvent } from "../../src/core/types";
import { MemoryStore } from "../../src/store/memory/memory-store";
import { ManualClock } from "../helpers/manual-clock";
import { input } from "./registry-contract";

const BASE = 5_000;

function setup(historySize = 100) {
  const clock = new ManualClock();
  const store = new MemoryStore({ baseRevision: BASE, historySize });
  const registry = new Registry({ store, clock, newInstanceId: () => "generated" });
  const events: RegistryEvent[] = [];
  store.onEvent((event) => events.push(event));
  return { clock, store, registry, events };
}

describe("memory store", () => {
  test("every event takes the next revision after the base", async () => {
    const { registry, store, events } = setup();
    await registry.register(input({ instanceId: "a" }));
    await registry.register(input({ instanceId: "b", load: 0.9 }));
    await registry.unregister("users", "a");
    expect(events.map((e) => e.revision)).toEqual([BASE + 1, BASE + 2, BASE + 3, BASE + 4]);
    expect(store.revision).toBe(BASE + 4);
  });

  test("a write is in the view before apply() returns: nothing can run between its check and its effect", () => {
    const { registry, store } = setup();
    void registry.register(input());
    expect(store.get("users", "u1")?.status).toBe("healthy");
  });

  test("a heartbeat that changes nothing observable is answered synchronously, without a promise", async () => {
    const { registry } = setup();
    await registry.register(input({ load: 0.2 }));
    const answer = registry.heartbeat({ serviceName: "users", instanceId: "u1", load: 0.3 });
    expect(answer).not.toBeInstanceOf(Promise);
    expect(answer).toMatchObject({ load: 0.3 });
    expect(registry.heartbeat({ serviceName: "users", instanceId: "u1", load: 0.9 })).toBeInstanceOf(Promise);
  });

  test("a lost keep-alive lifted without a status change is a write no watcher hears: the revision moves, resume still works", async () => {
    const { registry, store, events } = setup();
    await registry.register(input());
    await registry.setStatus("users", "u1", "unhealthy");
    const stream = {};
    await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined }, stream);
    await registry.markKeepAliveLost("users", "u1", stream); // already unhealthy: marked without an event
    const before = store.revision;
    expect(store.get("users", "u1")?.keepAliveLost).toBeDefined();
    await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "unhealthy" });
    expect(store.get("users", "u1")?.keepAliveLost).toBeUndefined();
    expect(store.revision).toBe(before + 1);
    expect(events.map((e) => e.type)).toEqual(["registered", "health-changed"]);
    expect(store.eventsSince(events[0]!.revision)).toEqual({ t: "replay", revision: store.revision, events: [events[1]] });
  });

  test("refuses a resume from before its base revision: that revision is another run's", () => {
    const { store } = setup();
    expect(store.eventsSince(BASE - 1)).toEqual({ t: "refused", reason: "revision-unknown" });
  });
});
