// Issue 10's measured choice: the same registry (and the same no-op baseline)
// on our node:http2 transport and on @grpc/grpc-js's Server, mounted through
// the same Transport seam, measured in interleaved rounds (every target once per
// round), medians of the rounds. Ours stays only if it wins by >= 1.3x on
// Heartbeat calls/s or on Watch fan-out server CPU per delivery.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { h2load, verifyGrpcOk } from "../lib/h2load";
import { CLIENT_CORE, DIST, startNode, type Proc } from "../lib/processes";
import { median, round } from "../lib/stats";
import type { Scenario } from "../lib/scenario";
import { bodies, prepareRegistry } from "./unary-ladder";
import { fanout, type FanoutRun } from "./watch-fanout";

const run = promisify(execFile);
const TRANSPORTS = ["http2", "grpc-js"] as const;
type TransportName = (typeof TRANSPORTS)[number];
const LABEL: Record<TransportName, string> = { http2: "ours (node:http2)", "grpc-js": "grpc-js Server" };
/** Ours is kept only with at least this lead on one of the two deciding figures. */
const REQUIRED_LEAD = 1.3;

const path = (name: string) => `/discovery.v1.DiscoveryService/${name}`;
const registry = (transport: TransportName) => startNode(`${DIST}/bench/servers/registry-server.js`, { BENCH_TRANSPORT: transport });
const noop = (transport: TransportName) => startNode(`${DIST}/bench/servers/noop-server.js`, { BENCH_TRANSPORT: transport });

async function unaryRate(proc: Proc, method: keyof typeof bodies, seconds: number): Promise<number> {
  await verifyGrpcOk(proc.port, path(method), bodies[method]);
  const result = await h2load({ port: proc.port, path: path(method), body: bodies[method], seconds });
  if (result.failed > 0) throw new Error(`${method}: ${result.failed} requests failed`);
  return result.requestsPerSecond;
}

async function keepAliveRate(port: number, seconds: number): Promise<number> {
  const client = `${DIST}/bench/clients/keepalive-stream-client.js`;
  const { stdout } = await run("taskset", ["-c", String(CLIENT_CORE), process.execPath, client, String(port), "ours", "16", "32", String(seconds)]);
  const result = JSON.parse(stdout) as { messagesPerSecond: number; status: string };
  if (result.messagesPerSecond === 0) throw new Error(`KeepAlive answered nothing (grpc-status ${result.status || "none"})`);
  return result.messagesPerSecond;
}

interface Measure {
  key: string;
  label: string;
  higherIsBetter: boolean;
  take(transport: TransportName, seconds: number): Promise<number>;
}

/** One fan-out run per transport and round, read by three figures. */
const fanouts = new Map<string, FanoutRun>();
async function fanoutOf(transport: TransportName, round: number): Promise<FanoutRun> {
  const key = `${transport}/${round}`;
  let result = fanouts.get(key);
  if (result === undefined) {
    const proc = await registry(transport);
    try {
      result = await fanout(proc, `${DIST}/bench/clients/watch-fanout-client.js`, 10_000, 10, 10);
    } finally {
      await proc.stop();
    }
    fanouts.set(key, result);
  }
  return result;
}

let currentRound = 0;
const withServer = async (start: Promise<Proc>, body: (proc: Proc) => Promise<number>) => {
  const proc = await start;
  try {
    return await body(proc);
  } finally {
    await proc.stop();
  }
};

const MEASURES: Measure[] = [
  { key: "noop", label: "no-op unary calls/s", higherIsBetter: true, take: (t, s) => withServer(noop(t), (p) => unaryRate(p, "Heartbeat", s)) },
  {
    key: "heartbeat",
    label: "Heartbeat calls/s",
    higherIsBetter: true,
    take: (t, s) => withServer(registry(t), async (p) => (await prepareRegistry(p.port), unaryRate(p, "Heartbeat", s))),
  },
  {
    key: "listHealthy",
    label: "ListHealthy (100 instances) calls/s",
    higherIsBetter: true,
    take: (t, s) => withServer(registry(t), async (p) => (await prepareRegistry(p.port), unaryRate(p, "ListHealthy", s))),
  },
  {
    key: "keepAlive",
    label: "KeepAlive messages/s (16 streams x 32 in flight)",
    higherIsBetter: true,
    take: (t, s) => withServer(registry(t), async (p) => (await prepareRegistry(p.port), keepAliveRate(p.port, s))),
  },
  {
    key: "fanoutDelivered",
    label: "Watch fan-out, 10000 subscribers: share of events delivered",
    higherIsBetter: true,
    take: async (t) => {
      const r = await fanoutOf(t, currentRound);
      return r.delivered / r.expected;
    },
  },
  { key: "fanoutCpu", label: "Watch fan-out, 10000 subscribers: server CPU µs per delivery", higherIsBetter: false, take: async (t) => (await fanoutOf(t, currentRound)).serverCpuMicrosPerDelivery },
  { key: "fanoutP99", label: "Watch fan-out, 10000 subscribers: p99 delay ms", higherIsBetter: false, take: async (t) => (await fanoutOf(t, currentRound)).p99 },
  { key: "idleStream", label: "memory per idle Watch stream, bytes", higherIsBetter: false, take: async (t) => (await fanoutOf(t, currentRound)).bytesPerSubscriber },
];

export const transportChoice: Scenario = {
  name: "transport-choice",
  description: "our gRPC transport vs @grpc/grpc-js's Server, the same services through the same seam; server on one core, interleaved rounds, medians",
  async run({ runs, seconds }) {
    const samples = new Map<string, number[]>();
    for (let i = 0; i < runs; i++) {
      currentRound = i;
      for (const measure of MEASURES) {
        // Alternate which transport goes first, so neither always runs on a warmer machine.
        const order = i % 2 === 0 ? TRANSPORTS : [...TRANSPORTS].reverse();
        for (const transport of order) {
          const key = `${measure.key}/${transport}`;
          samples.set(key, [...(samples.get(key) ?? []), await measure.take(transport, seconds)]);
        }
      }
    }
    const med = (key: string, transport: TransportName) => median(samples.get(`${key}/${transport}`)!);
    const rows = MEASURES.map((m) => {
      const ours = med(m.key, "http2");
      const theirs = med(m.key, "grpc-js");
      return {
        figure: m.label,
        [LABEL.http2]: round(ours, 2),
        [LABEL["grpc-js"]]: round(theirs, 2),
        // > 1 means ours is better, whichever direction the figure runs.
        oursAhead: round(m.higherIsBetter ? ours / theirs : theirs / ours, 2),
        // Each round measured both back to back: its own ratio is free of the drift between rounds.
        oursAheadPerRound: samples.get(`${m.key}/http2`)!.map((o, r) => {
          const t = samples.get(`${m.key}/grpc-js`)![r]!;
          return round(m.higherIsBetter ? o / t : t / o, 2);
        }),
        samplesOurs: samples.get(`${m.key}/http2`)!.map((v) => round(v, 2)),
        samplesGrpcJs: samples.get(`${m.key}/grpc-js`)!.map((v) => round(v, 2)),
      };
    });
    const lead = (key: string) => rows[MEASURES.findIndex((m) => m.key === key)]!.oursAhead as number;
    const heartbeat = lead("heartbeat");
    const cpu = lead("fanoutCpu");
    const keep = heartbeat >= REQUIRED_LEAD || cpu >= REQUIRED_LEAD;
    return {
      rows,
      targets: [
        { name: `ours >= ${REQUIRED_LEAD}x grpc-js on Heartbeat calls/s`, value: heartbeat, met: heartbeat >= REQUIRED_LEAD },
        { name: `ours >= ${REQUIRED_LEAD}x grpc-js on fan-out CPU per delivery`, value: cpu, met: cpu >= REQUIRED_LEAD },
      ],
      notes: [keep ? "decision: keep our transport (it leads by the required margin on at least one deciding figure)" : "decision: switch to grpc-js (ours does not lead by the required margin)"],
    };
  },
};
