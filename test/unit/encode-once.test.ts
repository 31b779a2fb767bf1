// The hot paths' sharing: a Watch event is encoded once for all subscribers, and
// a list answer is built once per change of its service.
import { create } from "@bufbuild/protobuf";
import { ListHealthyRequestSchema, ListHealthyResponseSchema, WatchEventSchema } from "../../gen/discovery/v1/discovery_pb";
import { Registry } from "../../src/core/registry";
import { MemoryStore } from "../../src/store/memory/memory-store";
import { encode, encodeFramed, markShared } from "../../src/transport/wire-cache";
import { createDiscoveryHandlers } from "../../src/services/discovery/handlers";
import type { CallContext } from "../../src/transport/contract";
import { watchItemToProto } from "../../src/services/discovery/proto-mapping";
import { WatchHub } from "../../src/watch/watch-hub";
import { ManualClock } from "../helpers/manual-clock";

test("the server frames a shared message once: every stream is written the same Buffer", () => {
  const shared = markShared(create(WatchEventSchema, { revision: 7n }));
  const framed = encodeFramed(WatchEventSchema, shared);
  expect(encodeFramed(WatchEventSchema, shared)).toBe(framed);
  expect(framed[0]).toBe(0);
  expect(framed.readUInt32BE(1)).toBe(framed.length - 5);
  const single = create(WatchEventSchema, { revision: 7n });
  expect(encodeFramed(WatchEventSchema, single)).not.toBe(encodeFramed(WatchEventSchema, single));
});

test("a shared message is encoded once for grpc-js clients too; an unshared one each time", () => {
  const shared = markShared(create(WatchEventSchema, { revision: 7n }));
  expect(encode(WatchEventSchema, shared)).toBe(encode(WatchEventSchema, shared));
  const single = create(WatchEventSchema, { revision: 7n });
  const first = encode(WatchEventSchema, single);
  expect(encode(WatchEventSchema, single)).not.toBe(first);
  expect(encode(WatchEventSchema, single)).toEqual(first);
});

function memoryRegistry(): Registry {
  return new Registry({ store: new MemoryStore({ baseRevision: 1, historySize: 100 }), clock: new ManualClock(), newInstanceId: () => "x" });
}

test("every subscriber gets the same WatchEvent object for one registry event", async () => {
  const registry = memoryRegistry();
  const hub = new WatchHub({ store: registry.store, queueLimit: 10, maxWatchers: 10 });
  const a = hub.subscribe({ services: [], sinceRevision: 0 });
  const b = hub.subscribe({ services: ["users"], sinceRevision: 0 });
  a.take();
  b.take();
  await registry.register({ serviceName: "users", instanceId: "u", host: "h", port: 1, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined });
  const [first, second] = [watchItemToProto(a.take()!), watchItemToProto(b.take()!)];
  expect(first).toBe(second);
  expect(encodeFramed(WatchEventSchema, first)).toBe(encodeFramed(WatchEventSchema, second));
});

test("ListHealthy builds one answer per change of the service, heartbeats included", async () => {
  const registry = memoryRegistry();
  const handlers = createDiscoveryHandlers({ registry, hub: new WatchHub({ store: registry.store, queueLimit: 10, maxWatchers: 10 }), authorize: () => {} });
  const context: CallContext = { signal: new AbortController().signal, requestHeader: new Headers() };
  const list = () => handlers.listHealthy!(create(ListHealthyRequestSchema, { serviceName: "users" }), context);
  await registry.register({ serviceName: "users", instanceId: "u", host: "h", port: 1, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined });
  const first = await list();
  expect(await list()).toBe(first);
  expect(encodeFramed(ListHealthyResponseSchema, first as never)).toBe(encodeFramed(ListHealthyResponseSchema, first as never));
  await registry.register({ serviceName: "orders", instanceId: "o", host: "h", port: 1, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined });
  expect(await list()).toBe(first); // another service changed: still the same answer
  await registry.heartbeat({ serviceName: "users", instanceId: "u", load: 0.5 });
  const second = await list();
  expect(second).not.toBe(first);
  expect(await list()).toBe(second);
});
