// The behaviour every registry store must have. The in-memory registry runs it
// now; a replicated store runs the same suite later.
import { DiscoveryError } from "../../src/core/errors";
import type { RegistryLimits } from "../../src/core/limits";
import type { Registry } from "../../src/core/registry";
import type { RegisterInput, RegistryEvent } from "../../src/core/types";
import { ManualClock } from "../helpers/manual-clock";

export type RegistryFactory = (clock: ManualClock, limits?: Partial<RegistryLimits>) => Registry;

export const BASE_REVISION = 5_000;

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

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiscoveryError) return error.reason;
    throw error;
  }
  return undefined;
}

export function describeRegistryContract(name: string, factory: RegistryFactory): void {
  describe(`registry contract: ${name}`, () => {
    let clock: ManualClock;
    let registry: Registry;
    let events: RegistryEvent[];

    const make = (limits?: Partial<RegistryLimits>) => {
      clock = new ManualClock();
      registry = factory(clock, limits);
      events = [];
      registry.onEvent((e) => events.push(e));
    };
    const types = () => events.map((e) => e.type);

    beforeEach(() => make());

    describe("register", () => {
      test("adds a healthy instance, emits registered, and lists it", () => {
        const { instance, created } = registry.register(input({ metadata: { zone: "a" } }));
        expect(created).toBe(true);
        expect(instance).toMatchObject({ serviceName: "users", instanceId: "u1", status: "healthy", metadata: { zone: "a" } });
        expect(types()).toEqual(["registered"]);
        expect([...registry.instancesOf("users")].map((i) => i.instanceId)).toEqual(["u1"]);
      });

      test("assigns an id when none is given", () => {
        const { instance } = registry.register(input({ instanceId: "" }));
        expect(instance.instanceId).toMatch(/^generated-\d+$/);
      });

      test("re-registering unchanged renews the lease and emits nothing", () => {
        registry.register(input({ ttlMs: 10_000 }));
        clock.advance(8_000);
        const { created } = registry.register(input({ ttlMs: 10_000 }));
        expect(created).toBe(false);
        clock.advance(8_000);
        expect(registry.expireDue()).toBe(0);
        expect(types()).toEqual(["registered"]);
      });

      test("re-registering with other attributes emits updated", () => {
        registry.register(input());
        registry.register(input({ port: 9090, metadata: { v: "2" } }));
        expect(types()).toEqual(["registered", "updated"]);
        expect(registry.get("users", "u1")).toMatchObject({ port: 9090, metadata: { v: "2" } });
      });

      test("refuses bad input with invalid-argument and changes nothing", () => {
        registry.register(input());
        const before = registry.revision;
        expect(reasonOf(() => registry.register(input({ instanceId: "u2", port: 0 })))).toBe("invalid-argument");
        expect(reasonOf(() => registry.register(input({ port: 9090, load: 1.5 })))).toBe("invalid-argument");
        expect(registry.revision).toBe(before);
        expect(registry.instanceCount).toBe(1);
        expect(registry.get("users", "u1")?.port).toBe(8080);
      });

      test("refuses new instances past the limit, but still updates existing ones", () => {
        make({ maxInstances: 2 });
        registry.register(input({ instanceId: "a" }));
        registry.register(input({ instanceId: "b" }));
        expect(reasonOf(() => registry.register(input({ instanceId: "c" })))).toBe("resource-exhausted");
        expect(reasonOf(() => registry.register(input({ instanceId: "a", port: 1 })))).toBeUndefined();
        expect(registry.instanceCount).toBe(2);
      });
    });

    describe("leases", () => {
      test("an instance expires when its TTL runs out, with an expired event", () => {
        registry.register(input({ ttlMs: 5_000 }));
        clock.advance(4_999);
        expect(registry.expireDue()).toBe(0);
        clock.advance(1);
        expect(registry.expireDue()).toBe(1);
        expect(types()).toEqual(["registered", "expired"]);
        expect(registry.get("users", "u1")).toBeUndefined();
        expect(registry.hasService("users")).toBe(false);
      });

      test("uses the default TTL when the request gives none", () => {
        make({ defaultTtlMs: 30_000 });
        registry.register(input());
        clock.advance(29_999);
        expect(registry.expireDue()).toBe(0);
        clock.advance(1);
        expect(registry.expireDue()).toBe(1);
      });

      test("heartbeats renew the lease", () => {
        registry.register(input({ ttlMs: 5_000 }));
        for (let i = 0; i < 5; i++) {
          clock.advance(4_000);
          registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
          expect(registry.expireDue()).toBe(0);
        }
        expect(registry.get("users", "u1")?.lastHeartbeat).toBe(clock.now());
      });

      test("expiry touches only what is due and respects the budget", () => {
        for (let i = 0; i < 10; i++) registry.register(input({ instanceId: `i${i}`, ttlMs: 1_000 + i * 1_000 }));
        clock.advance(5_000);
        expect(registry.expireDue(2)).toBe(2);
        expect(registry.expireDue()).toBe(3);
        expect(registry.instanceCount).toBe(5);
        expect(registry.nextDeadline()).toBe(clock.now() + 1_000);
      });

      test("a heartbeat for an expired or unknown instance is not-found", () => {
        registry.register(input({ ttlMs: 1_000 }));
        clock.advance(1_000);
        registry.expireDue();
        expect(reasonOf(() => registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined }))).toBe("not-found");
        expect(reasonOf(() => registry.heartbeat({ serviceName: "nope", instanceId: "x", load: undefined }))).toBe("not-found");
      });
    });

    describe("unregister", () => {
      test("removes at once with an unregistered event", () => {
        registry.register(input());
        registry.unregister("users", "u1");
        expect(types()).toEqual(["registered", "unregistered"]);
        expect(registry.instanceCount).toBe(0);
        expect(registry.nextDeadline()).toBeUndefined();
      });

      test("an unknown instance is not-found", () => {
        expect(reasonOf(() => registry.unregister("users", "ghost"))).toBe("not-found");
      });
    });

    describe("critical load", () => {
      const beat = (load?: number) => registry.heartbeat({ serviceName: "users", instanceId: "u1", load });

      test("turns critical at the threshold and normal only below threshold minus hysteresis", () => {
        registry.register(input({ load: 0.5 }));
        beat(0.79);
        expect(registry.get("users", "u1")?.critical).toBe(false);
        beat(0.8);
        expect(registry.get("users", "u1")?.critical).toBe(true);
        beat(0.75); // inside the hysteresis band: still critical
        beat(0.71);
        beat(0.85);
        expect(types()).toEqual(["registered", "load-critical"]);
        beat(0.69);
        expect(registry.get("users", "u1")?.critical).toBe(false);
        expect(types()).toEqual(["registered", "load-critical", "load-normal"]);
      });

      test("a load wobbling around the threshold emits one alert, not a flood", () => {
        registry.register(input({ load: 0.5 }));
        for (let i = 0; i < 100; i++) beat(i % 2 === 0 ? 0.81 : 0.79);
        expect(types()).toEqual(["registered", "load-critical"]);
      });

      test("registering already saturated emits registered then load-critical", () => {
        registry.register(input({ load: 0.95 }));
        expect(types()).toEqual(["registered", "load-critical"]);
        expect(events[1]?.instance.critical).toBe(true);
      });

      test("a heartbeat without load keeps the last load and emits nothing", () => {
        registry.register(input({ load: 0.9 }));
        beat();
        beat(0.9);
        expect(registry.get("users", "u1")?.load).toBe(0.9);
        expect(types()).toEqual(["registered", "load-critical"]);
      });

      test("refuses loads outside [0, 1] and non-finite ones", () => {
        registry.register(input());
        for (const load of [-0.1, 1.01, Number.NaN, Number.POSITIVE_INFINITY]) expect(reasonOf(() => beat(load))).toBe("invalid-argument");
      });

      test("the threshold and hysteresis are configurable", () => {
        make({ criticalLoadThreshold: 0.5, criticalLoadHysteresis: 0.2 });
        registry.register(input({ load: 0.5 }));
        beat(0.31);
        expect(registry.get("users", "u1")?.critical).toBe(true);
        beat(0.29);
        expect(registry.get("users", "u1")?.critical).toBe(false);
      });
    });

    describe("status", () => {
      test("a self-reported status emits health-changed with the previous status", () => {
        registry.register(input());
        registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "unhealthy" });
        registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "unhealthy" });
        expect(types()).toEqual(["registered", "health-changed"]);
        expect(events[1]).toMatchObject({ previousStatus: "healthy", instance: { status: "unhealthy" } });
        expect(registry.summaryOf("users")).toMatchObject({ instanceCount: 1, healthyCount: 0 });
      });

      test("an instance cannot report itself unknown", () => {
        registry.register(input());
        expect(reasonOf(() => registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "unknown" }))).toBe(
          "invalid-argument",
        );
      });
    });

    describe("revisions and events", () => {
      test("every event takes the next revision, starting after the base", () => {
        registry.register(input({ instanceId: "a" }));
        registry.register(input({ instanceId: "b", load: 0.9 }));
        registry.unregister("users", "a");
        expect(events.map((e) => e.revision)).toEqual([BASE_REVISION + 1, BASE_REVISION + 2, BASE_REVISION + 3, BASE_REVISION + 4]);
        expect(registry.revision).toBe(BASE_REVISION + 4);
      });

      test("events carry a frozen copy of the instance as it was", () => {
        registry.register(input({ load: 0.1 }));
        registry.heartbeat({ serviceName: "users", instanceId: "u1", load: 0.9 });
        expect(events[0]?.instance.load).toBe(0.1);
        expect(events[1]?.instance.load).toBe(0.9);
        expect(Object.isFrozen(events[0]?.instance)).toBe(true);
      });

      test("the history replays what was emitted", () => {
        registry.register(input({ instanceId: "a" }));
        registry.register(input({ instanceId: "b" }));
        const replay = registry.history.since(BASE_REVISION + 1, registry.revision);
        expect(replay).toEqual({ t: "replay", events: [events[1]] });
      });
    });

    describe("reads", () => {
      test("summaries count instances, healthy, critical and the mean reported load", () => {
        registry.register(input({ instanceId: "a", load: 0.2 }));
        registry.register(input({ instanceId: "b", load: 0.9 }));
        registry.register(input({ instanceId: "c" }));
        registry.register(input({ serviceName: "orders", instanceId: "o" }));
        registry.heartbeat({ serviceName: "users", instanceId: "c", load: undefined, status: "unhealthy" });
        const [orders, users] = registry.summaries();
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

      test("the service stamp changes on heartbeats, so cached answers are rebuilt", () => {
        registry.register(input());
        const before = registry.serviceStamp("users");
        registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
        expect(registry.serviceStamp("users")).not.toBe(before);
        expect(registry.serviceStamp("unknown")).toBe(0);
      });

      test("a snapshot is a set of frozen copies, filtered by service", () => {
        registry.register(input({ instanceId: "a" }));
        registry.register(input({ serviceName: "orders", instanceId: "o" }));
        const snapshot = registry.snapshot(new Set(["orders"]));
        expect(snapshot.map((i) => i.instanceId)).toEqual(["o"]);
        registry.heartbeat({ serviceName: "orders", instanceId: "o", load: 0.3 });
        expect(snapshot[0]?.load).toBe(0);
        expect(registry.snapshot()).toHaveLength(2);
      });
    });
  });
}
