// The behaviour the registry rules must have over every store: registration,
// leases, unregister, critical load, status, revisions and events, reads. One
// async suite, run by registry.test.ts against each store in STORES_UNDER_TEST.
import { DiscoveryError } from "../../src/core/errors";
import type { RegisterInput } from "../../src/core/types";
import { useRegistry, type StoreUnderTest } from "./stores-under-test";

export function input(overrides: Partial<RegisterInput> = {}): RegisterInput {
  return {
    serviceName: "users",
    instanceId: "u1",
    host: "10.0.0.1",
    port: 8080,
    healthEndpoint: "",
    metadata: {},
    ttlMs: undefined,
    load: undefined,
    ...overrides,
  };
}

/** The DiscoveryError reason `fn` failed with (thrown or rejected), or undefined when it succeeded. */
export async function reasonOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DiscoveryError) return error.reason;
    throw error;
  }
  return undefined;
}

export function describeRegistryContract(subject: StoreUnderTest): void {
  describe(`registry contract: ${subject.name} store`, () => {
    const { fixture, reopen, test } = useRegistry(subject);
    const types = () => fixture().events.map((e) => e.type);

    describe("register", () => {
      test("adds a healthy instance, emits registered, and lists it", async () => {
        const { registry, store } = fixture();
        const { instance, created } = await registry.register(input({ metadata: { zone: "a" } }));
        expect(created).toBe(true);
        expect(instance).toMatchObject({ serviceName: "users", instanceId: "u1", status: "healthy", metadata: { zone: "a" } });
        expect(types()).toEqual(["registered"]);
        expect([...store.instancesOf("users")].map((i) => i.instanceId)).toEqual(["u1"]);
      });

      test("assigns an id when none is given", async () => {
        const { instance } = await fixture().registry.register(input({ instanceId: "" }));
        expect(instance.instanceId).toMatch(/^generated-\d+$/);
      });

      test("re-registering unchanged renews the lease and emits nothing", async () => {
        const { registry, clock } = fixture();
        await registry.register(input({ ttlMs: 10_000 }));
        clock.advance(8_000);
        const { created } = await registry.register(input({ ttlMs: 10_000 }));
        expect(created).toBe(false);
        clock.advance(8_000);
        expect(await registry.expireDue()).toBe(0);
        expect(types()).toEqual(["registered"]);
      });

      test("re-registering with other attributes emits updated", async () => {
        const { registry, store } = fixture();
        await registry.register(input());
        await registry.register(input({ port: 9090, metadata: { v: "2" } }));
        expect(types()).toEqual(["registered", "updated"]);
        expect(store.get("users", "u1")).toMatchObject({ port: 9090, metadata: { v: "2" } });
      });

      test("refuses bad input with invalid-argument and changes nothing", async () => {
        const { registry, store } = fixture();
        await registry.register(input());
        const before = store.revision;
        expect(await reasonOf(() => registry.register(input({ instanceId: "u2", port: 0 })))).toBe("invalid-argument");
        expect(await reasonOf(() => registry.register(input({ port: 9090, load: 1.5 })))).toBe("invalid-argument");
        expect(store.revision).toBe(before);
        expect(store.instanceCount).toBe(1);
        expect(store.get("users", "u1")?.port).toBe(8080);
      });

      test("refuses new instances past the limit, but still updates existing ones", async () => {
        const { registry, store } = await reopen({ maxInstances: 2 });
        await registry.register(input({ instanceId: "a" }));
        await registry.register(input({ instanceId: "b" }));
        expect(await reasonOf(() => registry.register(input({ instanceId: "c" })))).toBe("resource-exhausted");
        expect(await reasonOf(() => registry.register(input({ instanceId: "a", port: 1 })))).toBeUndefined();
        expect(store.instanceCount).toBe(2);
      });
    });

    describe("leases", () => {
      test("an instance expires when its TTL runs out, with an expired event", async () => {
        const { registry, store, clock } = fixture();
        await registry.register(input({ ttlMs: 5_000 }));
        clock.advance(4_999);
        expect(await registry.expireDue()).toBe(0);
        clock.advance(1);
        expect(await registry.expireDue()).toBe(1);
        expect(types()).toEqual(["registered", "expired"]);
        expect(store.get("users", "u1")).toBeUndefined();
        expect(store.hasService("users")).toBe(false);
      });

      test("uses the default TTL when the request gives none", async () => {
        const { registry, clock } = await reopen({ defaultTtlMs: 30_000 });
        await registry.register(input());
        clock.advance(29_999);
        expect(await registry.expireDue()).toBe(0);
        clock.advance(1);
        expect(await registry.expireDue()).toBe(1);
      });

      test("heartbeats renew the lease", async () => {
        const { registry, store, clock } = fixture();
        await registry.register(input({ ttlMs: 5_000 }));
        for (let i = 0; i < 5; i++) {
          clock.advance(4_000);
          await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
          expect(await registry.expireDue()).toBe(0);
        }
        expect(store.get("users", "u1")?.lastHeartbeat).toBe(clock.now());
      });

      test("expiry touches only what is due and respects the budget", async () => {
        const { registry, store, clock } = fixture();
        for (let i = 0; i < 10; i++) await registry.register(input({ instanceId: `i${i}`, ttlMs: 1_000 + i * 1_000 }));
        clock.advance(5_000);
        expect(await registry.expireDue(2)).toBe(2);
        expect(await registry.expireDue()).toBe(3);
        expect(store.instanceCount).toBe(5);
        expect(store.nextDeadline()).toBe(clock.now() + 1_000);
      });

      test("a heartbeat for an expired or unknown instance is not-found", async () => {
        const { registry, clock } = fixture();
        await registry.register(input({ ttlMs: 1_000 }));
        clock.advance(1_000);
        await registry.expireDue();
        expect(await reasonOf(() => registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined }))).toBe("not-found");
        expect(await reasonOf(() => registry.heartbeat({ serviceName: "nope", instanceId: "x", load: undefined }))).toBe("not-found");
      });
    });

    describe("unregister", () => {
      test("removes at once with an unregistered event", async () => {
        const { registry, store } = fixture();
        await registry.register(input());
        await registry.unregister("users", "u1");
        expect(types()).toEqual(["registered", "unregistered"]);
        expect(store.instanceCount).toBe(0);
        expect(store.nextDeadline()).toBeUndefined();
      });

      test("an unknown instance is not-found", async () => {
        expect(await reasonOf(() => fixture().registry.unregister("users", "ghost"))).toBe("not-found");
      });
    });

    describe("critical load", () => {
      const beat = (load?: number) => fixture().registry.heartbeat({ serviceName: "users", instanceId: "u1", load });
      const critical = () => fixture().store.get("users", "u1")?.critical;

      test("turns critical at the threshold and normal only below threshold minus hysteresis", async () => {
        await fixture().registry.register(input({ load: 0.5 }));
        await beat(0.79);
        expect(critical()).toBe(false);
        await beat(0.8);
        expect(critical()).toBe(true);
        await beat(0.75); // inside the hysteresis band: still critical
        await beat(0.71);
        await beat(0.85);
        expect(types()).toEqual(["registered", "load-critical"]);
        await beat(0.69);
        expect(critical()).toBe(false);
        expect(types()).toEqual(["registered", "load-critical", "load-normal"]);
      });

      test("a load wobbling around the threshold emits one alert, not a flood", async () => {
        await fixture().registry.register(input({ load: 0.5 }));
        for (let i = 0; i < 100; i++) await beat(i % 2 === 0 ? 0.81 : 0.79);
        expect(types()).toEqual(["registered", "load-critical"]);
      });

      test("registering already saturated emits registered then load-critical", async () => {
        await fixture().registry.register(input({ load: 0.95 }));
        expect(types()).toEqual(["registered", "load-critical"]);
        expect(fixture().events[1]?.instance.critical).toBe(true);
      });

      test("a heartbeat that reports a status and a load carries the new load in its health-changed event", async () => {
        await fixture().registry.register(input({ load: 0.2 }));
        await fixture().registry.heartbeat({ serviceName: "users", instanceId: "u1", status: "unhealthy", load: 0.9 });
        expect(types()).toEqual(["registered", "health-changed", "load-critical"]);
        expect(fixture().events[1]?.instance).toMatchObject({ status: "unhealthy", load: 0.9, critical: false });
        expect(fixture().events[2]?.instance).toMatchObject({ status: "unhealthy", load: 0.9, critical: true });
      });

      test("a heartbeat without load keeps the last load and emits nothing", async () => {
        await fixture().registry.register(input({ load: 0.9 }));
        await beat();
        await beat(0.9);
        expect(fixture().store.get("users", "u1")?.load).toBe(0.9);
        expect(types()).toEqual(["registered", "load-critical"]);
      });

      test("refuses loads outside [0, 1] and non-finite ones", async () => {
        await fixture().registry.register(input());
        for (const load of [-0.1, 1.01, Number.NaN, Number.POSITIVE_INFINITY]) expect(await reasonOf(() => beat(load))).toBe("invalid-argument");
      });

      test("the threshold and hysteresis are configurable", async () => {
        const { registry } = await reopen({ criticalLoadThreshold: 0.5, criticalLoadHysteresis: 0.2 });
        await registry.register(input({ load: 0.5 }));
        await beat(0.31);
        expect(critical()).toBe(true);
        await beat(0.29);
        expect(critical()).toBe(false);
      });
    });

    describe("status", () => {
      test("a self-reported status emits health-changed with the previous status", async () => {
        const { registry, store, events } = fixture();
        await registry.register(input());
        await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "unhealthy" });
        await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "unhealthy" });
        expect(types()).toEqual(["registered", "health-changed"]);
        expect(events[1]).toMatchObject({ previousStatus: "healthy", instance: { status: "unhealthy" } });
        expect(store.summaryOf("users")).toMatchObject({ instanceCount: 1, healthyCount: 0 });
      });

      test("an instance cannot report itself unknown", async () => {
        const { registry } = fixture();
        await registry.register(input());
        expect(await reasonOf(() => registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "unknown" }))).toBe("invalid-argument");
      });

      test("an operator's status goes through the same rules: health-changed, and nothing for the same status", async () => {
        const { registry, store } = fixture();
        await registry.register(input());
        await registry.setStatus("users", "u1", "unhealthy");
        await registry.setStatus("users", "u1", "unhealthy");
        expect(types()).toEqual(["registered", "health-changed"]);
        expect(store.get("users", "u1")?.status).toBe("unhealthy");
      });
    });

    describe("revisions and events", () => {
      test("revisions increase with every event, and the store's revision is the last one's", async () => {
        const { registry, store, events } = fixture();
        const start = store.revision;
        await registry.register(input({ instanceId: "a" }));
        await registry.register(input({ instanceId: "b", load: 0.9 }));
        await registry.unregister("users", "a");
        const revisions = events.map((e) => e.revision);
        expect(revisions).toHaveLength(4);
        expect(revisions[0]).toBeGreaterThan(start);
        for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1]!);
        expect(store.revision).toBe(revisions[3]);
      });

      test("every write resolves with the events it made, as the listeners heard them", async () => {
        const { registry, store, events, clock } = fixture();
        await registry.register(input({ load: 0.95 }));
        const stored = store.entry("users", "u1")!;
        expect(stored.revision).toBe(events[1]!.revision);
        const written = await store.apply({
          serviceName: "users",
          instanceId: "u1",
          expectRevision: stored.revision,
          next: undefined,
          steps: [{ type: "unregistered", instance: stored.instance }],
          occurredAt: clock.now(),
        });
        expect(written).toEqual([events[2]]);
      });

      test("a write judged from an older revision is refused as a conflict and changes nothing", async () => {
        const { registry, store, clock } = fixture();
        await registry.register(input());
        const judged = store.entry("users", "u1")!;
        await registry.setStatus("users", "u1", "degraded");
        const before = store.revision;
        const stale = store.apply({
          serviceName: "users",
          instanceId: "u1",
          expectRevision: judged.revision,
          next: undefined,
          steps: [{ type: "unregistered", instance: judged.instance }],
          occurredAt: clock.now(),
        });
        await expect(stale).rejects.toMatchObject({ name: "StoreConflictError" });
        expect(store.revision).toBe(before);
        expect(store.get("users", "u1")?.status).toBe("degraded");
      });

      test("events carry a frozen copy of the instance as it was", async () => {
        const { registry, events } = fixture();
        await registry.register(input({ load: 0.1 }));
        await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: 0.9 });
        expect(events[0]?.instance.load).toBe(0.1);
        expect(events[1]?.instance.load).toBe(0.9);
        expect(Object.isFrozen(events[0]?.instance)).toBe(true);
      });

      test("eventsSince replays what was emitted after a revision, filtered by service, up to the current revision", async () => {
        const { registry, store, events } = fixture();
        await registry.register(input({ instanceId: "a" }));
        await registry.register(input({ instanceId: "b" }));
        await registry.register(input({ serviceName: "orders", instanceId: "o" }));
        expect(await store.eventsSince(events[0]!.revision)).toEqual({ t: "replay", revision: store.revision, events: [events[1], events[2]] });
        expect(await store.eventsSince(events[0]!.revision, new Set(["orders"]))).toEqual({ t: "replay", revision: store.revision, events: [events[2]] });
        expect(await store.eventsSince(store.revision)).toEqual({ t: "replay", revision: store.revision, events: [] });
      });

      test("eventsSince refuses a revision whose history is gone, and one from the future", async () => {
        const { registry, store, events } = await reopen({ historySize: 2 });
        for (const id of ["a", "b", "c", "d"]) await registry.register(input({ instanceId: id }));
        expect(await store.eventsSince(events[0]!.revision)).toEqual({ t: "refused", reason: "history-compacted" });
        expect(await store.eventsSince(store.revision + 1)).toEqual({ t: "refused", reason: "revision-from-future" });
      });
    });

    describe("reads", () => {
      test("summaries count instances, healthy, critical and the mean reported load", async () => {
        const { registry, store } = fixture();
        await registry.register(input({ instanceId: "a", load: 0.2 }));
        await registry.register(input({ instanceId: "b", load: 0.9 }));
        await registry.register(input({ instanceId: "c" }));
        await registry.register(input({ serviceName: "orders", instanceId: "o" }));
        await registry.heartbeat({ serviceName: "users", instanceId: "c", load: undefined, status: "unhealthy" });
        const [orders, users] = store.summaries();
        expect(orders).toEqual({
          serviceName: "orders",
          instanceCount: 1,
          healthyCount: 1,
          criticalLoadCount: 0,
          averageLoad: 0,
          unknownCount: 0,
          degradedCount: 0,
          unhealthyCount: 0,
          drainingCount: 0,
        });
        expect(users?.instanceCount).toBe(3);
        expect(users?.healthyCount).toBe(2);
        expect(users?.unhealthyCount).toBe(1);
        expect(users?.criticalLoadCount).toBe(1);
        expect(users?.averageLoad).toBeCloseTo(0.55);
      });

      test("the service stamp changes on heartbeats, so cached answers are rebuilt", async () => {
        const { registry, store } = fixture();
        await registry.register(input());
        const before = store.serviceStamp("users");
        await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
        expect(store.serviceStamp("users")).not.toBe(before);
        expect(store.serviceStamp("unknown")).toBe(0);
      });

      test("a snapshot is a set of copies at the store's revision, filtered by service", async () => {
        const { registry, store } = fixture();
        await registry.register(input({ instanceId: "a" }));
        await registry.register(input({ serviceName: "orders", instanceId: "o" }));
        const snapshot = store.snapshot(new Set(["orders"]));
        expect(snapshot.revision).toBe(store.revision);
        expect(snapshot.instances.map((i) => i.instanceId)).toEqual(["o"]);
        await registry.heartbeat({ serviceName: "orders", instanceId: "o", load: 0.3 });
        expect(snapshot.instances[0]?.load).toBe(0);
        expect(store.snapshot().instances).toHaveLength(2);
      });

      test("what a read hands out is a copy: later changes do not move it, and changing it changes nothing stored", async () => {
        const { registry, store } = fixture();
        await registry.register(input({ load: 0.1 }));
        const listed = [...store.instancesOf("users")][0]!;
        const got = store.get("users", "u1")!;
        const entry = store.entry("users", "u1")!;
        await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: 0.5 });
        await registry.setStatus("users", "u1", "degraded");
        expect(listed).toMatchObject({ load: 0.1, status: "healthy" });
        expect(got).toMatchObject({ load: 0.1, status: "healthy" });
        expect(entry.instance).toMatchObject({ load: 0.1, status: "healthy" });
        expect(Object.isFrozen(entry.instance)).toBe(true); // as written: shared with the write's event
        (got as { port: number }).port = 1;
        expect(store.get("users", "u1")).toMatchObject({ port: 8080, load: 0.5, status: "degraded" });
      });

      test("a heartbeat that changes nothing a watcher sees is answered without a write or an event", async () => {
        const { registry, store } = fixture();
        await registry.register(input({ load: 0.2 }));
        const revision = store.revision;
        const answer = registry.heartbeat({ serviceName: "users", instanceId: "u1", load: 0.3 });
        // The memory store answers synchronously (no promise); any store changes no revision.
        const instance = await answer;
        expect(instance.load).toBe(0.3);
        expect(store.revision).toBe(revision);
        expect(types()).toEqual(["registered"]);
      });
    });
  });
}
