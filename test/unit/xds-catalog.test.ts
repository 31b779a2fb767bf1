// The xDS catalog over a real registry and hub: a service that loses its last
// instance keeps its resources with no endpoints (clients fail calls at once and
// resume when one registers, also after they reconnect) for
// XDS_EMPTY_SERVICE_RETAIN_SECONDS and while a stream follows it, at most
// XDS_MAX_EMPTY_SERVICES of them; a name that never had instances does not exist.
import { fromBinary } from "@bufbuild/protobuf";
import pino from "pino";
import { ClusterLoadAssignmentSchema } from "../../gen/envoy/config/endpoint/v3/endpoint_pb";
import { Registry } from "../../src/core/registry";
import { XdsCatalog } from "../../src/services/xds/catalog";
import { TYPE } from "../../src/services/xds/resources";
import { MemoryStore } from "../../src/store/memory/memory-store";
import { WatchHub } from "../../src/watch/watch-hub";
import { ManualClock } from "../helpers/manual-clock";

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function setUp(emptyServices: { retainMs?: number; max?: number } = {}) {
  let now = 0;
  const registry = new Registry({ store: new MemoryStore({ baseRevision: 1, historySize: 100 }), clock: new ManualClock(), newInstanceId: () => "x" });
  const shutdown = new AbortController();
  const hub = new WatchHub({ store: registry.store, queueLimit: 100, maxWatchers: 10, signal: shutdown.signal });
  const catalog = new XdsCatalog({ hub, lbPolicy: "ROUND_ROBIN", logger: pino({ level: "silent" }), signal: shutdown.signal, emptyServices, now: () => now });
  const changed: string[] = [];
  catalog.onChange((name) => changed.push(name));
  const register = (serviceName: string, instanceId: string) =>
    registry.register({ serviceName, instanceId, host: "127.0.0.1", port: 8000, healthEndpoint: "", metadata: {}, ttlMs: 60_000, load: undefined });
  const endpoints = (name: string) => {
    const any = catalog.get(TYPE.endpoint, name);
    return any === undefined ? undefined : fromBinary(ClusterLoadAssignmentSchema, any.value).endpoints.flatMap((l) => l.lbEndpoints).length;
  };
  return { registry, catalog, changed, register, endpoints, advance: (ms: number) => (now += ms), close: () => shutdown.abort() };
}

test("a followed service that loses its last instance keeps every resource, with no endpoints, until one registers", async () => {
  const { registry, catalog, changed, register, endpoints, close } = await setUp();
  await register("users", "u1");
  await turn();
  catalog.follow(["users"]);
  expect(endpoints("users")).toBe(1);

  await registry.unregister("users", "u1");
  await turn();
  expect(changed).toContain("users");
  expect(endpoints("users")).toBe(0);
  for (const type of [TYPE.listener, TYPE.route, TYPE.cluster]) expect(catalog.get(type, "users")).toBeDefined();
  expect([...catalog.names()]).toEqual(["users"]);

  await register("users", "u2");
  await turn();
  expect(endpoints("users")).toBe(1);
  close();
});

test("an emptied service is kept XDS_EMPTY_SERVICE_RETAIN_SECONDS when nobody follows it (a client that reconnects finds it), and while one does", async () => {
  const { registry, catalog, changed, register, endpoints, advance, close } = await setUp({ retainMs: 10_000 });
  await register("users", "u1");
  await register("billing", "b1");
  await turn();
  catalog.follow(["users"]);
  await registry.unregister("users", "u1");
  await registry.unregister("billing", "b1");
  await turn();
  expect(endpoints("users")).toBe(0);
  expect(endpoints("billing")).toBe(0); // nobody follows it, yet it is kept: a client may be reconnecting
  catalog.unfollow(["users"]); // the stream broke...
  catalog.follow(["users"]); // ...and its client came back
  expect(endpoints("users")).toBe(0);

  advance(10_001);
  changed.length = 0;
  await register("other", "o1"); // any change: the catalog looks again
  await turn();
  expect(endpoints("billing")).toBeUndefined(); // past the retention, unfollowed: gone
  expect(changed).toContain("billing"); // wildcard subscribers hear it
  expect(endpoints("users")).toBe(0); // still followed: kept
  catalog.unfollow(["users"]);
  expect(endpoints("users")).toBeUndefined();
  expect([...catalog.names()]).toEqual(["other"]);
  close();
});

test("at most XDS_MAX_EMPTY_SERVICES are kept: the one emptied longest ago goes first", async () => {
  const { registry, register, endpoints, close } = await setUp({ max: 2 });
  for (const name of ["a", "b", "c"]) await register(name, "1");
  await turn();
  for (const name of ["a", "b", "c"]) await registry.unregister(name, "1");
  await turn();
  expect(["a", "b", "c"].map(endpoints)).toEqual([undefined, 0, 0]);
  close();
});

test("a followed name that never had instances does not exist", async () => {
  const { catalog, endpoints, close } = await setUp();
  catalog.follow(["nobody"]);
  await turn();
  expect(endpoints("nobody")).toBeUndefined();
  expect(catalog.get(TYPE.listener, "nobody")).toBeUndefined();
  close();
});
