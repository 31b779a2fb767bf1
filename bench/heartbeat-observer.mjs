// How much the metrics cost on the heartbeat hot path: the Heartbeat handler as
// the transports call it, with error mapping only (before) and with the RPC
// observer and heartbeat counter too (after), alternating in one run.
// Run after `npm run build`: node bench/heartbeat-observer.mjs
import { createRequire } from "node:module";
import { median, timeHeartbeats } from "./handler-timing.mjs";
const require = createRequire(import.meta.url);
const { Registry: PromRegistry } = require("prom-client");
const pino = require("pino");
const { DiscoveryService, HeartbeatRequestSchema } = require("../dist/gen/discovery/v1/discovery_pb.js");
const { create } = require("@bufbuild/protobuf");
const { Registry } = require("../dist/src/core/registry.js");
const { MemoryStore } = require("../dist/src/store/memory/memory-store.js");
const { WatchHub } = require("../dist/src/watch/watch-hub.js");
const { createDiscoveryHandlers } = require("../dist/src/services/discovery/handlers.js");
const { withErrorMapping, withCallObserver } = require("../dist/src/services/middleware/wrap-handlers.js");
const { createMetrics } = require("../dist/src/metrics/metrics.js");
const { createAuthorizer } = require("../dist/src/services/middleware/auth.js");

const INSTANCES = 1000;
const CALLS = 200_000;
const ROUNDS = 7;

async function setup(observed) {
  const store = new MemoryStore({ baseRevision: 1, historySize: 10_000 });
  const registry = new Registry({ store, clock: { now: () => Date.now() }, newInstanceId: () => "x" });
  const hub = new WatchHub({ store, queueLimit: 1000, maxWatchers: 10 });
  const metrics = createMetrics({ register: new PromRegistry(), store, hub });
  const logger = pino({ level: "silent" });
  const plain = createDiscoveryHandlers({ registry, hub, authorize: createAuthorizer(undefined), onHeartbeat: observed ? metrics.heartbeat : undefined });
  const mapped = withErrorMapping(DiscoveryService, plain, logger);
  const handlers = observed ? withCallObserver(DiscoveryService, mapped, metrics.rpcObserver) : mapped;
  for (let i = 0; i < INSTANCES; i++) await registry.register({ serviceName: "svc", instanceId: `i${i}`, host: "h", port: 1, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined });
  const requests = Array.from({ length: INSTANCES }, (_, i) => create(HeartbeatRequestSchema, { serviceName: "svc", instanceId: `i${i}` }));
  return { handlers, requests };
}

const run = (setup) => timeHeartbeats(setup, CALLS);

const before = await setup(false);
const after = await setup(true);
await run(before); await run(after); // warm up
const b = [], a = [];
for (let r = 0; r < ROUNDS; r++) { b.push(await run(before)); a.push(await run(after)); }
console.log(`heartbeat handler, ${CALLS} calls x ${ROUNDS} rounds, median ns/call: error mapping only ${median(b).toFixed(0)}, with metrics ${median(a).toFixed(0)}, ratio ${(median(a) / median(b)).toFixed(2)}`);
