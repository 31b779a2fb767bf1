// `npm run soak`: one server under churn, cancels, slow watchers and bad input
// for SOAK_SECONDS (default 180), bounded and on loopback only. The server runs
// here (node --expose-gc) and the load in a child process, so heap samples taken
// after a full GC are the server's. Asserts a flat heap (the last quarter's
// median within 25% + 8 MB of the first quarter's after warm-up) and that none
// of the 2,000 long-lived registrations was lost. Prints its figures.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const pino = require("pino");
const { startServer } = require("../dist/src/server/create-server.js");

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc (npm run soak does)");
const seconds = Number(process.env.SOAK_SECONDS ?? 180);
const KEPT = 2_000;

const server = await startServer({ host: "127.0.0.1", port: 0, logger: pino({ level: "warn" }), probing: false });
for (let i = 0; i < KEPT; i++) {
  server.registry.register({ serviceName: "kept", instanceId: `k${i}`, host: "10.0.0.1", port: 9000 + (i % 1000), healthEndpoint: "", metadata: { zone: `z${i % 3}` }, ttlMs: 3_600_000, load: undefined });
}

const heapMb = () => {
  globalThis.gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};
const start = Date.now();
const samples = [{ t: 0, heapMb: heapMb(), watchers: 0 }];
const load = spawn(process.execPath, [new URL("./load.mjs", import.meta.url).pathname, String(server.port)], { stdio: ["ignore", "pipe", "inherit"] });
let counts = "";
load.stdout.on("data", (chunk) => (counts += chunk));

const timer = setInterval(() => {
  samples.push({ t: Math.round((Date.now() - start) / 1000), heapMb: heapMb(), watchers: server.hub.watcherCount });
}, 5_000);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
clearInterval(timer);
load.kill("SIGTERM");
await new Promise((resolve) => load.once("exit", resolve));

const kept = [...server.registry.instancesOf("kept")].length;
const slowResets = server.hub.slowResets;
await server.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quarter = Math.max(1, Math.floor(samples.length / 4));
const early = median(samples.slice(1, 1 + quarter).map((s) => s.heapMb));
const late = median(samples.slice(-quarter).map((s) => s.heapMb));
const loadCounts = JSON.parse(counts.trim() || "{}");
console.table(samples.map((s) => ({ t: s.t, heapMb: Number(s.heapMb.toFixed(1)), watchers: s.watchers })));
const result = {
  seconds,
  heapAtStartMb: Number(samples[0].heapMb.toFixed(1)),
  heapEarlyMedianMb: Number(early.toFixed(1)),
  heapLateMedianMb: Number(late.toFixed(1)),
  heapMaxMb: Number(Math.max(...samples.map((s) => s.heapMb)).toFixed(1)),
  keptRegistrations: `${kept}/${KEPT}`,
  watchSlowResets: slowResets,
  ...loadCounts,
};
console.log(JSON.stringify(result, null, 2));
const failures = [];
if (late > early * 1.25 + 8) failures.push(`heap grew: early median ${early.toFixed(1)} MB, late median ${late.toFixed(1)} MB`);
if (kept !== KEPT) failures.push(`lost registrations: ${KEPT - kept} of ${KEPT}`);
if ((loadCounts.errors ?? 1) !== 0) failures.push(`the load saw ${loadCounts.errors} wrong answers (a failed churn call or an HTTP 500)`);
if (failures.length > 0) {
  console.error(`soak FAILED: ${failures.join("; ")}`);
  process.exit(1);
}
console.log("soak passed: flat heap, no lost registrations, no wrong answers");
