// Issue 14's costs, as ratios within one run. (1) The REST heartbeat against the
// Connect heartbeat it maps onto, both JSON over HTTP/1.1 under h2load --h1.
// (2) Heartbeats that each change an instance's critical state (one event per
// call) with the sinks off, with NATS, and with NATS plus a webhook whose
// receiver cannot keep up: what the registry pays for its sinks, and that the
// sinks stay bounded (drops counted, memory flat).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { HeartbeatRequestSchema, RegisterRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { frameMessage } from "../lib/grpc-frame";
import { CLIENT_CORE, DIST, freePort, rssOf, startNode, type Proc } from "../lib/processes";
import type { Scenario } from "../lib/scenario";
import { median, round } from "../lib/stats";
import { sendUnary } from "../lib/unary-load";

const run = promisify(execFile);
const INSTANCES = 64;
/** Small, so that the slow receiver fills it within a run and the bound shows. */
const WEBHOOK_QUEUE_LIMIT = 100;
const server = (env: Record<string, string> = {}) => startNode(`${DIST}/src/cli/main.js`, { LOG_LEVEL: "warn", ...env });

async function h1Load(port: number, urlPath: string, body: string, seconds: number): Promise<number> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "h1load-")), "body.json");
  writeFileSync(file, body);
  const { stdout } = await run("taskset", ["-c", String(CLIENT_CORE), "h2load", "--h1", "-D", String(seconds), "--warm-up-time=1", "-c", "16", "-m", "1", "-t", "1", "-d", file, "-H", "content-type: application/json", `http://127.0.0.1:${port}${urlPath}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const rate = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout);
  const counts = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(stdout);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (rate === null || counts === null || codes === null) throw new Error(`unexpected h2load output:\n${stdout}`);
  if (Number(counts[2]) > 0 || Number(codes[3]) > 0 || Number(codes[4]) > 0) throw new Error(`${urlPath}: failures under load:\n${stdout}`);
  return Number(rate[1]);
}

async function post(port: number, urlPath: string, body: unknown): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (response.status !== 200) throw new Error(`${urlPath} answered ${response.status}: ${await response.text()}`);
}

async function startNats(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn("taskset", ["-c", String(CLIENT_CORE), "/usr/sbin/nats-server", "-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = require("node:net").connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (up) return { port, child };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("nats-server did not start");
}

/** A webhook receiver that answers every POST after 50 ms: slower than the events arrive. */
async function slowReceiver(): Promise<{ url: string; close: () => void }> {
  const receiver = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => setTimeout(() => response.writeHead(204).end(), 50));
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, close: () => (receiver.closeAllConnections(), receiver.close()) };
}

/** Heartbeats that alternate each instance between 0.95 and 0.1: every call is a LOAD_CRITICAL or LOAD_NORMAL event. */
async function eventLoad(proc: Proc, seconds: number): Promise<{ callsPerSecond: number; sinks: Record<string, number>; rssMb: number }> {
  const session = http2.connect(`http://127.0.0.1:${proc.port}`);
  try {
    const ids = Array.from({ length: INSTANCES }, (_, i) => `ev-${i}`);
    const registers = ids.map((instanceId) => frameMessage(RegisterRequestSchema, { serviceName: "bench-events", instanceId, host: "10.0.0.1", port: 80, ttl: { seconds: 3600n } }));
    await sendUnary(session, "/discovery.v1.DiscoveryService/Register", registers, { concurrency: 8 });
    const frames = [0.95, 0.1].flatMap((load) => ids.map((instanceId) => frameMessage(HeartbeatRequestSchema, { serviceName: "bench-events", instanceId, loadPercentage: load })));
    await sendUnary(session, "/discovery.v1.DiscoveryService/Heartbeat", frames, { concurrency: INSTANCES, durationMs: 1000 }); // warm-up
    const result = await sendUnary(session, "/discovery.v1.DiscoveryService/Heartbeat", frames, { concurrency: INSTANCES, durationMs: seconds * 1000 });
    if (result.failed > 0) throw new Error(`${result.failed} heartbeats failed`);
    const text = await (await fetch(`http://127.0.0.1:${proc.port}/metrics`)).text();
    const sinks: Record<string, number> = {};
    for (const m of text.matchAll(/^discovery_sink_messages_total\{sink="(\w+)",result="(\w+)"\} (\d+)/gm)) sinks[`${m[1]}_${m[2]}`] = Number(m[3]);
    for (const m of text.matchAll(/^discovery_sink_queue_length\{sink="(\w+)"\} (\d+)/gm)) sinks[`${m[1]}_queued`] = Number(m[2]);
    return { callsPerSecond: (result.ok * 1000) / result.elapsedMs, sinks, rssMb: rssOf(proc.child.pid!) / 2 ** 20 };
  } finally {
    session.close();
  }
}

export const sinksRest: Scenario = {
  name: "sinks-rest",
  description: "REST vs Connect heartbeat over HTTP/1.1 (h2load --h1, 16 connections); events/s with the sinks off, NATS, NATS + a slow webhook",
  async run({ runs, seconds }) {
    const nats = await startNats();
    const receiver = await slowReceiver();
    const restSamples: number[] = [];
    const connectSamples: number[] = [];
    const eventTargets: { name: string; env: Record<string, string> }[] = [
      { name: "events, sinks off", env: {} },
      { name: "events, NATS", env: { NATS_URL: `127.0.0.1:${nats.port}` } },
      { name: "events, NATS + slow webhook", env: { NATS_URL: `127.0.0.1:${nats.port}`, DISCOVERY_WEBHOOK_URLS: receiver.url, DISCOVERY_WEBHOOK_QUEUE_LIMIT: String(WEBHOOK_QUEUE_LIMIT) } },
    ];
    const eventSamples = new Map<string, { callsPerSecond: number; sinks: Record<string, number>; rssMb: number }[]>(eventTargets.map((t) => [t.name, []]));
    try {
      for (let i = 0; i < runs; i++) {
        const proc = await server();
        try {
          await post(proc.port, "/v1/discovery/register", { service_name: "bench", instance_id: "hb-1", host: "10.0.0.1", port: 8080, ttl: "3600s" });
          const rest = JSON.stringify({ service_name: "bench", instance_id: "hb-1", load_percentage: 0.5 });
          const connect = JSON.stringify({ serviceName: "bench", instanceId: "hb-1", loadPercentage: 0.5 });
          await post(proc.port, "/v1/discovery/heartbeat", JSON.parse(rest));
          await post(proc.port, "/discovery.v1.DiscoveryService/Heartbeat", JSON.parse(connect));
          restSamples.push(await h1Load(proc.port, "/v1/discovery/heartbeat", rest, seconds));
          connectSamples.push(await h1Load(proc.port, "/discovery.v1.DiscoveryService/Heartbeat", connect, seconds));
        } finally {
          await proc.stop();
        }
        for (const target of eventTargets) {
          const events = await server(target.env);
          try {
            eventSamples.get(target.name)!.push(await eventLoad(events, seconds));
          } finally {
            await events.stop();
          }
        }
      }
    } finally {
      receiver.close();
      nats.child.kill("SIGTERM");
    }
    const rest = median(restSamples);
    const connect = median(connectSamples);
    const off = median(eventSamples.get("events, sinks off")!.map((s) => s.callsPerSecond));
    const rows: Record<string, unknown>[] = [
      { target: "Connect Heartbeat (HTTP/1.1 JSON)", perSecond: round(connect, 0), ratio: 1, samples: connectSamples.map((s) => round(s, 0)), rssMb: "", sinks: "" },
      { target: "REST /v1/discovery/heartbeat", perSecond: round(rest, 0), ratio: round(rest / connect, 3), samples: restSamples.map((s) => round(s, 0)), rssMb: "", sinks: "" },
    ];
    for (const target of eventTargets) {
      const samples = eventSamples.get(target.name)!;
      const value = median(samples.map((s) => s.callsPerSecond));
      const last = samples[samples.length - 1]!;
      rows.push({
        target: target.name,
        perSecond: round(value, 0),
        ratio: round(value / off, 3),
        samples: samples.map((s) => round(s.callsPerSecond, 0)),
        rssMb: round(last.rssMb, 0),
        sinks: Object.entries(last.sinks).map(([k, v]) => `${k}=${v}`).join(" "),
      });
    }
    const restRatio = rest / connect;
    const natsRatio = median(eventSamples.get("events, NATS")!.map((s) => s.callsPerSecond)) / off;
    return {
      rows,
      targets: [
        { name: "REST heartbeat / Connect heartbeat >= 0.8", value: round(restRatio, 3), met: restRatio >= 0.8 },
        { name: "events/s with NATS / sinks off >= 0.7", value: round(natsRatio, 3), met: natsRatio >= 0.7 },
      ],
      notes: [
        `rssMb and sinks are the last run's: the server's RSS after the load and its sink counters from /metrics. The webhook receiver answers each POST after 50 ms; DISCOVERY_WEBHOOK_QUEUE_LIMIT=${WEBHOOK_QUEUE_LIMIT}, DISCOVERY_WEBHOOK_CONCURRENCY default 4.`,
      ],
    };
  },
};
