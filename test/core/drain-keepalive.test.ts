// Draining (Unregister with a drain period) and lost keep-alive streams, in the
// registry core with a manual clock.
import { DiscoveryError } from "../../src/core/errors";
import { Registry } from "../../src/core/registry";
import type { RegistryEvent } from "../../src/core/types";
import { ManualClock } from "../helpers/manual-clock";
import { BASE_REVISION, input } from "./registry-contract";

describe("registry: draining and lost keep-alives", () => {
  let clock: ManualClock;
  let registry: Registry;
  let events: RegistryEvent[];
  const types = () => events.map((e) => (e.type === "health-changed" ? `${e.previousStatus}->${e.instance.status}` : e.type));
  const healthyIds = () => [...registry.instancesOf("users")].filter((i) => i.status === "healthy").map((i) => i.instanceId);

  beforeEach(() => {
    clock = new ManualClock();
    registry = new Registry({ clock, newInstanceId: () => "generated", baseRevision: BASE_REVISION });
    events = [];
    registry.onEvent((e) => events.push(e));
  });

  describe("drain", () => {
    test("turns the instance draining at once and removes it as unregistered when the period ends", () => {
      registry.register(input({ ttlMs: 30_000 }));
      registry.unregister("users", "u1", 5_000);
      expect(registry.get("users", "u1")?.status).toBe("draining");
      expect(registry.summaryOf("users")?.healthyCount).toBe(0);
      expect(types()).toEqual(["registered", "healthy->draining"]);

      clock.advance(4_999);
      expect(registry.expireDue()).toBe(0);
      clock.advance(1);
      expect(registry.expireDue()).toBe(1);
      expect(registry.get("users", "u1")).toBeUndefined();
      expect(types()).toEqual(["registered", "healthy->draining", "unregistered"]);
    });

    test("heartbeats during the drain record load but neither extend it nor change the status", () => {
      registry.register(input({ ttlMs: 30_000 }));
      registry.unregister("users", "u1", 2_000);
      clock.advance(1_500);
      registry.heartbeat({ serviceName: "users", instanceId: "u1", load: 0.4, status: "healthy" });
      expect(registry.get("users", "u1")).toMatchObject({ status: "draining", load: 0.4 });
      clock.advance(500);
      expect(registry.expireDue()).toBe(1);
    });

    test("registering again cancels the drain", () => {
      registry.register(input({ ttlMs: 30_000 }));
      registry.unregister("users", "u1", 2_000);
      registry.register(input({ ttlMs: 30_000 }));
      expect(registry.get("users", "u1")?.status).toBe("healthy");
      clock.advance(2_000);
      expect(registry.expireDue()).toBe(0);
      expect(types()).toEqual(["registered", "healthy->draining", "draining->healthy"]);
    });

    test("a zero drain removes at once; a bad one is refused naming the field and changes nothing", () => {
      registry.register(input());
      registry.register(input({ instanceId: "u2" }));
      registry.unregister("users", "u1", 0);
      expect(registry.get("users", "u1")).toBeUndefined();
      for (const bad of [-1, Number.NaN, 3_600_001]) {
        expect(() => registry.unregister("users", "u2", bad)).toThrow(new DiscoveryError("invalid-argument", "drain: must be from 0s to 1h"));
      }
      expect(registry.get("users", "u2")?.status).toBe("healthy");
    });
  });

  describe("lost keep-alive", () => {
    // A KeepAlive stream, as the server names it to the registry.
    const stream = {};
    const streamBeat = (owner: object, instanceId = "u1") =>
      registry.heartbeat({ serviceName: "users", instanceId, load: undefined }, owner);

    test("marks the instance unhealthy at once and keeps its lease running", () => {
      registry.register(input({ ttlMs: 10_000 }));
      streamBeat(stream);
      expect(registry.markKeepAliveLost("users", "u1", stream)?.status).toBe("unhealthy");
      expect(healthyIds()).toEqual([]);
      expect(types()).toEqual(["registered", "healthy->unhealthy"]);
      clock.advance(9_999);
      expect(registry.expireDue()).toBe(0);
      clock.advance(1);
      expect(registry.expireDue()).toBe(1);
      expect(events.at(-1)?.type).toBe("expired");
    });

    test("the next heartbeat restores the status it had, with health-changed", () => {
      registry.register(input());
      registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "degraded" }, stream);
      registry.markKeepAliveLost("users", "u1", stream);
      registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
      expect(registry.get("users", "u1")?.status).toBe("degraded");
      expect(types()).toEqual(["registered", "healthy->degraded", "degraded->unhealthy", "unhealthy->degraded"]);
    });

    test("a heartbeat that reports a status restores that one instead", () => {
      registry.register(input());
      streamBeat(stream);
      registry.markKeepAliveLost("users", "u1", stream);
      registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "degraded" });
      expect(registry.get("users", "u1")?.status).toBe("degraded");
    });

    test("registering again restores it too", () => {
      registry.register(input());
      streamBeat(stream);
      registry.markKeepAliveLost("users", "u1", stream);
      registry.register(input());
      expect(registry.get("users", "u1")?.status).toBe("healthy");
    });

    test("leaves draining, missing and already marked instances alone", () => {
      registry.register(input());
      registry.register(input({ instanceId: "u2" }));
      streamBeat(stream);
      streamBeat(stream, "u2");
      registry.unregister("users", "u2", 1_000);
      expect(registry.markKeepAliveLost("users", "u2", stream)).toBeUndefined();
      expect(registry.markKeepAliveLost("users", "nope", stream)).toBeUndefined();
      registry.markKeepAliveLost("users", "u1", stream);
      const count = events.length;
      expect(registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();
      expect(events.length).toBe(count);
      expect(registry.get("users", "u2")?.status).toBe("draining");
    });

    test("a status set by someone else (a probe) replaces the lost keep-alive's verdict", () => {
      registry.register(input());
      streamBeat(stream);
      registry.markKeepAliveLost("users", "u1", stream);
      registry.setStatus("users", "u1", "healthy");
      registry.setStatus("users", "u1", "unhealthy");
      registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
      expect(registry.get("users", "u1")?.status).toBe("unhealthy");
    });

    test("only the stream that carried the latest heartbeat can mark the instance: an older stream's break changes nothing", () => {
      registry.register(input());
      const older = {};
      const newer = {};
      streamBeat(older);
      streamBeat(newer);
      expect(registry.markKeepAliveLost("users", "u1", older)).toBeUndefined();
      expect(registry.get("users", "u1")?.status).toBe("healthy");
      expect(types()).toEqual(["registered"]);
      expect(registry.markKeepAliveLost("users", "u1", newer)?.status).toBe("unhealthy");
    });

    test("a unary heartbeat, a Register or a removal ends a stream's ownership", () => {
      registry.register(input());
      streamBeat(stream);
      registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
      expect(registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();

      streamBeat(stream);
      registry.register(input());
      expect(registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();

      streamBeat(stream);
      registry.unregister("users", "u1");
      registry.register(input());
      expect(registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();
      expect(types()).toEqual(["registered", "unregistered", "registered"]);
    });

    test("a stream that never carried a heartbeat marks nothing", () => {
      registry.register(input());
      expect(registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();
      expect(registry.get("users", "u1")?.status).toBe("healthy");
    });
  });
});
