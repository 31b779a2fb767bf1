// Draining (Unregister with a drain period) and lost keep-alive streams, in the
// registry rules with a manual clock, over every store under test.
import { DiscoveryError } from "../../src/core/errors";
import type { Registry } from "../../src/core/registry";
import type { RegistryStore } from "../../src/core/store";
import type { RegistryEvent } from "../../src/core/types";
import type { ManualClock } from "../helpers/manual-clock";
import { input } from "./registry-contract";
import { STORES_UNDER_TEST, useRegistry } from "./stores-under-test";

for (const subject of STORES_UNDER_TEST) describe(`registry: draining and lost keep-alives (${subject.name} store)`, () => {
  let clock: ManualClock;
  let registry: Registry;
  let store: RegistryStore;
  let events: RegistryEvent[];
  const { fixture, test } = useRegistry(subject);
  const types = () => events.map((e) => (e.type === "health-changed" ? `${e.previousStatus}->${e.instance.status}` : e.type));
  const healthyIds = () => [...store.instancesOf("users")].filter((i) => i.status === "healthy").map((i) => i.instanceId);

  beforeEach(() => {
    ({ clock, registry, store, events } = fixture());
  });

  describe("drain", () => {
    test("turns the instance draining at once and removes it as unregistered when the period ends", async () => {
      await registry.register(input({ ttlMs: 30_000 }));
      await registry.unregister("users", "u1", 5_000);
      expect(store.get("users", "u1")?.status).toBe("draining");
      expect(store.summaryOf("users")?.healthyCount).toBe(0);
      expect(types()).toEqual(["registered", "healthy->draining"]);

      clock.advance(4_999);
      expect(await registry.expireDue()).toBe(0);
      clock.advance(1);
      expect(await registry.expireDue()).toBe(1);
      expect(store.get("users", "u1")).toBeUndefined();
      expect(types()).toEqual(["registered", "healthy->draining", "unregistered"]);
    });

    test("heartbeats during the drain record load but neither extend it nor change the status", async () => {
      await registry.register(input({ ttlMs: 30_000 }));
      await registry.unregister("users", "u1", 2_000);
      clock.advance(1_500);
      await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: 0.4, status: "healthy" });
      expect(store.get("users", "u1")).toMatchObject({ status: "draining", load: 0.4 });
      clock.advance(500);
      expect(await registry.expireDue()).toBe(1);
    });

    test("registering again cancels the drain", async () => {
      await registry.register(input({ ttlMs: 30_000 }));
      await registry.unregister("users", "u1", 2_000);
      await registry.register(input({ ttlMs: 30_000 }));
      expect(store.get("users", "u1")?.status).toBe("healthy");
      clock.advance(2_000);
      expect(await registry.expireDue()).toBe(0);
      expect(types()).toEqual(["registered", "healthy->draining", "draining->healthy"]);
    });

    test("a zero drain removes at once; a bad one is refused naming the field and changes nothing", async () => {
      await registry.register(input());
      await registry.register(input({ instanceId: "u2" }));
      await registry.unregister("users", "u1", 0);
      expect(store.get("users", "u1")).toBeUndefined();
      for (const bad of [-1, Number.NaN, 3_600_001]) {
        await expect(registry.unregister("users", "u2", bad)).rejects.toThrow(new DiscoveryError("invalid-argument", "drain: must be from 0s to 1h"));
      }
      expect(store.get("users", "u2")?.status).toBe("healthy");
    });
  });

  describe("lost keep-alive", () => {
    // A KeepAlive stream, as the server names it to the registry.
    const stream = {};
    const streamBeat = (owner: object, instanceId = "u1") =>
      registry.heartbeat({ serviceName: "users", instanceId, load: undefined }, owner);

    test("marks the instance unhealthy at once and keeps its lease running", async () => {
      await registry.register(input({ ttlMs: 10_000 }));
      await streamBeat(stream);
      expect((await registry.markKeepAliveLost("users", "u1", stream))?.status).toBe("unhealthy");
      expect(healthyIds()).toEqual([]);
      expect(types()).toEqual(["registered", "healthy->unhealthy"]);
      clock.advance(9_999);
      expect(await registry.expireDue()).toBe(0);
      clock.advance(1);
      expect(await registry.expireDue()).toBe(1);
      expect(events.at(-1)?.type).toBe("expired");
    });

    test("the next heartbeat restores the status it had, with health-changed", async () => {
      await registry.register(input());
      await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "degraded" }, stream);
      await registry.markKeepAliveLost("users", "u1", stream);
      await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
      expect(store.get("users", "u1")?.status).toBe("degraded");
      expect(types()).toEqual(["registered", "healthy->degraded", "degraded->unhealthy", "unhealthy->degraded"]);
    });

    test("a heartbeat that reports a status restores that one instead", async () => {
      await registry.register(input());
      await streamBeat(stream);
      await registry.markKeepAliveLost("users", "u1", stream);
      await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined, status: "degraded" });
      expect(store.get("users", "u1")?.status).toBe("degraded");
    });

    test("registering again restores it too", async () => {
      await registry.register(input());
      await streamBeat(stream);
      await registry.markKeepAliveLost("users", "u1", stream);
      await registry.register(input());
      expect(store.get("users", "u1")?.status).toBe("healthy");
    });

    test("leaves draining, missing and already marked instances alone", async () => {
      await registry.register(input());
      await registry.register(input({ instanceId: "u2" }));
      await streamBeat(stream);
      await streamBeat(stream, "u2");
      await registry.unregister("users", "u2", 1_000);
      expect(await registry.markKeepAliveLost("users", "u2", stream)).toBeUndefined();
      expect(await registry.markKeepAliveLost("users", "nope", stream)).toBeUndefined();
      await registry.markKeepAliveLost("users", "u1", stream);
      const count = events.length;
      expect(await registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();
      expect(events.length).toBe(count);
      expect(store.get("users", "u2")?.status).toBe("draining");
    });

    test("a status set by someone else (a probe) replaces the lost keep-alive's verdict", async () => {
      await registry.register(input());
      await streamBeat(stream);
      await registry.markKeepAliveLost("users", "u1", stream);
      await registry.setStatus("users", "u1", "healthy");
      await registry.setStatus("users", "u1", "unhealthy");
      await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
      expect(store.get("users", "u1")?.status).toBe("unhealthy");
    });

    test("only the stream that carried the latest heartbeat can mark the instance: an older stream's break changes nothing", async () => {
      await registry.register(input());
      const older = {};
      const newer = {};
      await streamBeat(older);
      await streamBeat(newer);
      expect(await registry.markKeepAliveLost("users", "u1", older)).toBeUndefined();
      expect(store.get("users", "u1")?.status).toBe("healthy");
      expect(types()).toEqual(["registered"]);
      expect((await registry.markKeepAliveLost("users", "u1", newer))?.status).toBe("unhealthy");
    });

    test("a unary heartbeat, a Register or a removal ends a stream's ownership", async () => {
      await registry.register(input());
      await streamBeat(stream);
      await registry.heartbeat({ serviceName: "users", instanceId: "u1", load: undefined });
      expect(await registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();

      await streamBeat(stream);
      await registry.register(input());
      expect(await registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();

      await streamBeat(stream);
      await registry.unregister("users", "u1");
      await registry.register(input());
      expect(await registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();
      expect(types()).toEqual(["registered", "unregistered", "registered"]);
    });

    test("a stream that never carried a heartbeat marks nothing", async () => {
      await registry.register(input());
      expect(await registry.markKeepAliveLost("users", "u1", stream)).toBeUndefined();
      expect(store.get("users", "u1")?.status).toBe("healthy");
    });
  });
});
