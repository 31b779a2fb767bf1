// The Heartbeat handler of two builds, A/B in one process: the handler as the
// transports call it (error mapping and metrics wrappers included), alternating
// rounds, medians. For a change to the hot path, measured where a loaded machine
// cannot tilt it (no sockets, no second process).
// Run: node bench/heartbeat-ab.mjs <dist-a> <dist-b>   (e.g. a copy of main's dist, then dist)
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { median, timeHeartbeats } from "./handler-timing.mjs";
import path from "node:path";

const [distA, distB] = process.argv.slice(2).map((d) => path.resolve(d));
if (distA === undefined || distB === undefined) throw new Error("usage: node bench/heartbeat-ab.mjs <dist-a> <dist-b>");
const require = createRequire(import.meta.url);
const { Registry: PromRegistry } = require("prom-client");
const pino = require("pino");
const { create } = require("@bufbuild/protobuf");

const INSTANCES = 1000;
const CALLS = 200_000;
const ROUNDS = 7;

/** The registry, hub and store of a build: before the store seam (one Registry) or after (rules over a MemoryStore). */
function core(dist) {
  const { Registry } = require(`${dist}/src/core/registry.js`);
  const memory = `${dist}/src/store/memory/memory-store.js`;
  if (!existsSync(memory)) {
    const registry = new Registry({ clock: { now: () => Date.now() }, newInstanceId: () => "x", baseRevision: 1 });
    return { registry, feed: { registry }, metricsSource: { registry } };
  }
  const { MemoryStore } = require(memory);
  const store = new MemoryStore({ baseRevision: 1, historySize: 10_000 });
  const registry = new Registry({ store, clock: { now: () => Date.now() }, newInstanceId: () => "x" });
  return { registry, feed: { store }, metricsSource: { store } };
}

async function setup(dist) {
  const { DiscoveryService, HeartbeatRequestSchema } = require(`${dist}/gen/discovery/v1/discovery_pb.js`);
  const { WatchHub } = require(`${dist}/src/watch/watch-hub.js`);
  const { createDiscoveryHandlers } = require(`${dist}/src/services/discovery/handlers.js`);
  const { withErrorMapping, withCallObserver } = require(`${dist}/src/services/middleware/wrap-handlers.js`);
  const { createMetrics } = require(`${dist}/src/metrics/metrics.js`);
  const { createAuthorizer } = require(`${dist}/src/services/middleware/auth.js`);
  const { registry, feed, metricsSource } = core(dist);
  const hub = new WatchHub({ ...feed, queueLimit: 1000, maxWatchers: 10 });
  const metrics = createMetrics({ register: new PromRegistry(), hub, ...metricsSource });
  const plain = createDiscoveryHandlers({ registry, hub, authorize: createAuthorizer(undefined), onHeartbeat: metrics.heartbeat });
  const handlers = withCallObserver(DiscoveryService, withErrorMapping(DiscoveryService, plain, pino({ level: "silent" })), metrics.rpcObserver);
  for (let i = 0; i < INSTANCES; i++) {
    await registry.register({ serviceName: "svc", instanceId: `i${i}`, host: "h", port: 1, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: 0.5 });
  }
  // As unary-ladder's Heartbeat: the same load again, so nothing a watcher sees changes.
  const requests = Array.from({ length: INSTANCES }, (_, i) => create(HeartbeatRequestSchema, { serviceName: "svc", instanceId: `i${i}`, loadPercentage: 0.5 }));
  return { handlers, requests };
}

const run = (setup) => timeHeartbeats(setup, CALLS);

const a = await setup(distA);
const b = await setup(distB);
await run(a);
await run(b); // warm up
const ta = [];
const tb = [];
for (let r = 0; r < ROUNDS; r++) {
  ta.push(await run(a));
  tb.push(await run(b));
}
console.log(`heartbeat handler with metrics, ${CALLS} calls x ${ROUNDS} rounds, median ns/call: A ${median(ta).toFixed(0)}, B ${median(tb).toFixed(0)}, B/A ${(median(tb) / median(ta)).toFixed(3)}`);
console.log(`A rounds: ${ta.map((x) => x.toFixed(0)).join(" ")}`);
console.log(`B rounds: ${tb.map((x) => x.toFixed(0)).join(" ")}`);
