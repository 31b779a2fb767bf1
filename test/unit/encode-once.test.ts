// The hot paths' sharing: a Watch event is encoded once for all subscribers, and
// a list answer is built once per change of its service.
import { create } from "@bufbuild/protobuf";
import { ListHealthyRequestSchema, WatchEventSchema } from "../../gen/discovery/v1/discovery_pb";
import { Registry } from "../../src/core/registry";
import { encodeOnceCodec, protobufCodec } from "../../src/transport/codec";
import { createDiscoveryCodecs } from "../../src/services/discovery/codecs";
import { MemoryStore } from "../../src/store/memory/memory-store";
import { createDiscoveryHandlers } from "../../src/services/discovery/handlers";
import type { CallContext } from "../../src/transport/contract";
import { watchItemToProto } from "../../src/services/discovery/proto-mapping";
import { WatchHub } from "../../src/watch/watch-hub";
import { ManualClock } from "../helpers/manual-clock";

// Sharing is chosen per method (the codecs handed to addService), not marked per message.
const codecs = createDiscoveryCodecs();
const watchCodec = codecs.watch!.response!;
const listCodec = codecs.listHealthy!.response!;

test("the server frames a shared message once: every stream is written the same Buffer", () => {
  const shared = create(WatchEventSchema, { revision: 7n });
  const framed = watchCodec.frame(shared);
  expect(watchCodec.frame(shared)).toBe(framed);
  expect(framed[0]).toBe(0);
  expect(framed.readUInt32BE(1)).toBe(framed.length - 5);
  const plain = protobufCodec(WatchEventSchema);
  const single = create(WatchEventSchema, { revision: 7n });
  expect(plain.frame(single)).not.toBe(plain.frame(single));
});

test("a shared message is encoded once for grpc-js clients too; an unshared one each time", () => {
  const shared = create(WatchEventSchema, { revision: 7n });
  const once = encodeOnceCodec(WatchEventSchema);
  expect(once.encode(shared)).toBe(once.encode(shared));
  const plain = protobufCodec(WatchEventSchema);
  const single = create(WatchEventSchema, { revision: 7n });
  const first = plain.encode(single);
  expect(plain.encode(single)).not.toBe(first);
  expect(plain.encode(single)).toEqual(first);
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
  expect(watchCodec.frame(first)).toBe(watchCodec.frame(second));
});

test("ListHealthy builds one answer per change of the service, heartbeats included", async () => {
  const registry = memoryRegistry();
  const handlers = createDiscoveryHandlers({ registry, hub: new WatchHub({ store: registry.store, queueLimit: 10, maxWatchers: 10 }) });
  const context: CallContext = { signal: new AbortController().signal, requestHeader: new Headers(), responseHeader: new Headers(), responseTrailer: new Headers(), shutdownSignal: new AbortController().signal };
  const list = () => handlers.listHealthy!(create(ListHealthyRequestSchema, { serviceName: "users" }), context);
  await registry.register({ serviceName: "users", instanceId: "u", host: "h", port: 1, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined });
  const first = await list();
  expect(await list()).toBe(first);
  expect(listCodec.frame(first)).toBe(listCodec.frame(first));
  await registry.register({ serviceName: "orders", instanceId: "o", host: "h", port: 1, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined });
  expect(await list()).toBe(first); // another service changed: still the same answer
  await registry.heartbeat({ serviceName: "users", instanceId: "u", load: 0.5 });
  const second = await list();
  expect(second).not.toBe(first);
  expect(await list()).toBe(second);
});
