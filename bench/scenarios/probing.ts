// 10,000 instances probed over HTTP on loopback every 10 s: probes per second,
// the server's event-loop p99 delay and CPU share while probing, and heartbeat
// throughput with probing on against probing off (same instances, same load).
import { fork, type ChildProcess } from "node:child_process";
import * as http2 from "node:http2";
import * as path from "node:path";
import { HeartbeatRequestSchema, RegisterRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { frameMessage } from "../lib/grpc-frame";
import type { Scenario } from "../lib/scenario";
import { median } from "../lib/stats";
import { sendUnary } from "../lib/unary-load";
import { sleep } from "../../src/common/sleep";

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? "10000");
const INTERVAL_S = 10;
/** Each measured window (probing alone, heartbeats): at least one probe interval. */
const WINDOW_MS = INTERVAL_S * 1000;
/** Time for the first round of probes (spread over one interval) to settle before measuring. */
const WARMUP_MS = INTERVAL_S * 1000 + 1000;
const TARGETS = 10;
const CONCURRENCY = 64;

interface Window {
  elapsedMs: number;
  cpuShare: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  probes: number;
  targets: number;
}

function start(file: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; message: Record<string, unknown> }> {
  const child = fork(path.join(__dirname, "../servers", file), [], { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", (message: Record<string, unknown>) => resolve({ child, message }));
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

function ask(child: ChildProcess, t: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    child.once("message", (message: Record<string, unknown>) => resolve(message));
    child.send({ t });
  });
}


/** One server: register every instance (with or without a check), optionally measure probing alone, then heartbeats. */
async function runOnce(probing: boolean, ports: readonly number[]): Promise<{ idle?: Window; heartbeat: Window & { rps: number; failed: number } }> {
  const { child, message } = await start("probe-server.js");
  const session = http2.connect(`http://127.0.0.1:${message.port as number}`);
  try {
    const registers = Array.from({ length: INSTANCES }, (_, i) =>
      frameMessage(RegisterRequestSchema, {
        serviceName: `svc-${i % 100}`,
        instanceId: `i-${i}`,
        host: "127.0.0.1",
        port: ports[i % ports.length]!,
        healthCheck: probing ? { probe: { case: "http", value: { path: "/health" } }, interval: { seconds: BigInt(INTERVAL_S) } } : undefined,
      }),
    );
    const registered = await sendUnary(session, "/discovery.v1.DiscoveryService/Register", registers, { concurrency: CONCURRENCY });
    if (registered.failed > 0) throw new Error(`${registered.failed} registrations failed`);
    let idle: Window | undefined;
    if (probing) {
      await sleep(WARMUP_MS);
      await ask(child, "start");
      await sleep(WINDOW_MS);
      idle = (await ask(child, "stop")) as unknown as Window;
    }
    const heartbeats = Array.from({ length: INSTANCES }, (_, i) =>
      frameMessage(HeartbeatRequestSchema, { serviceName: `svc-${i % 100}`, instanceId: `i-${i}`, loadPercentage: 0.3 }),
    );
    await sendUnary(session, "/discovery.v1.DiscoveryService/Heartbeat", heartbeats, { concurrency: CONCURRENCY, durationMs: 1000 }); // warm the path
    await ask(child, "start");
    const load = await sendUnary(session, "/discovery.v1.DiscoveryService/Heartbeat", heartbeats, { concurrency: CONCURRENCY, durationMs: WINDOW_MS });
    const window = (await ask(child, "stop")) as unknown as Window;
    return { idle, heartbeat: { ...window, rps: load.ok / (load.elapsedMs / 1000), failed: load.failed } };
  } finally {
    session.destroy();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.send({ t: "close" });
    await Promise.race([exited, sleep(5_000)]);
    child.kill();
  }
}

const fixed = (n: number, digits = 1) => Number(n.toFixed(digits));

export const probing: Scenario = {
  name: "probing",
  description: `${INSTANCES} instances probed over HTTP on loopback every ${INTERVAL_S} s: probes/s, event-loop p99 and CPU while probing; heartbeat calls/s with probing on vs off`,
  async run({ runs: count }) {
    const targets = await start("health-targets.js", { TARGETS: String(TARGETS) });
    const ports = targets.message.ports as number[];
    const runs: { off: number; on: number; idle: Window; onHeartbeat: Window; offHeartbeat: Window }[] = [];
    try {
      for (let r = 0; r < count; r++) {
        // Alternate the order so that drift on a shared machine does not favour one side.
        const first = r % 2 === 0;
        const a = await runOnce(first, ports);
        const b = await runOnce(!first, ports);
        const on = first ? a : b;
        const off = first ? b : a;
        runs.push({ off: off.heartbeat.rps, on: on.heartbeat.rps, idle: on.idle!, onHeartbeat: on.heartbeat, offHeartbeat: off.heartbeat });
      }
    } finally {
      targets.child.kill();
    }
    const perSecond = (w: Window) => w.probes / (w.elapsedMs / 1000);
    const row = (measure: string, values: number[], digits: number) => ({ measure, median: fixed(median(values), digits), runs: values.map((v) => fixed(v, digits)) });
    const ratio = median(runs.map((r) => r.on / r.off));
    return {
      rows: [
        row("probes/s, probing alone", runs.map((r) => perSecond(r.idle)), 1),
        row("server CPU share while probing (of one core)", runs.map((r) => r.idle.cpuShare), 3),
        // CPU time per probe holds up when other processes share the machine; the share does not.
        row("server CPU µs per probe while probing", runs.map((r) => (r.idle.cpuShare * r.idle.elapsedMs * 1000) / r.idle.probes), 0),
        row("event-loop p99 delay while probing (ms)", runs.map((r) => r.idle.loopDelayP99Ms), 2),
        row("heartbeats/s, probing off", runs.map((r) => r.off), 0),
        row("heartbeats/s, probing on", runs.map((r) => r.on), 0),
        row("heartbeats on/off", runs.map((r) => r.on / r.off), 3),
        row("probes/s during heartbeat load", runs.map((r) => perSecond(r.onHeartbeat)), 1),
      ],
      targets: [
        { name: `probes/s ≥ 99% of ${INSTANCES / INTERVAL_S}`, value: fixed(median(runs.map((r) => perSecond(r.idle))), 1), met: median(runs.map((r) => perSecond(r.idle))) >= 0.99 * (INSTANCES / INTERVAL_S) },
        { name: "heartbeat throughput with probing on ≥ 0.8 of off", value: fixed(ratio, 3), met: ratio >= 0.8 },
      ],
      notes: [
        `server in its own process; ${TARGETS} HTTP health endpoints in another; heartbeats over one HTTP/2 connection, ${CONCURRENCY} in flight, pre-encoded; windows of ${WINDOW_MS / 1000} s after a ${WARMUP_MS / 1000} s warm-up; on/off order alternates`,
      ],
    };
  },
};
