// `npm run bench -- cluster`: cluster mode against the memory store, same load,
// one run: unary Heartbeat/s on one node (memory) vs one and two nodes on etcd
// (one etcd member pinned with the servers); etcd writes/s during those steady
// heartbeats (must follow changes, not heartbeats: 0 here); and the delay from a
// Register answered by node A to its event on node B's Watch (p50/p99).
import { credentials, makeGenericClientConstructor, type Client, type ClientReadableStream } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { DiscoveryService, EventType, HeartbeatRequestSchema, RegisterRequestSchema, RegisterResponseSchema, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { createEtcdClient } from "../../src/store/etcd/client/etcd-client";
import { utf8 } from "../../src/store/etcd/client/keys";
import { grpcServiceDefinition } from "../../src/transport/service-definition";
import { frameMessage } from "../lib/grpc-frame";
import { h2load, verifyGrpcOk } from "../lib/h2load";
import { DIST, startEtcd, startNode, type Proc } from "../lib/processes";
import { median, percentile, round } from "../lib/stats";
import { RawClient } from "../lib/unary";
import type { Scenario } from "../lib/scenario";

const HEARTBEAT = "/discovery.v1.DiscoveryService/Heartbeat";
const REGISTER = "/discovery.v1.DiscoveryService/Register";
/** Registers timed for the cross-node Watch delay. */
const DELAY_SAMPLES = 200;

async function startRegistry(env: Record<string, string>, instanceId: string): Promise<Proc> {
  const proc = await startNode(`${DIST}/src/cli/main.js`, { LOG_LEVEL: "warn", ...env });
  const client = new RawClient(proc.port);
  await client.call(REGISTER, RegisterRequestSchema, RegisterResponseSchema, { serviceName: "bench", instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: 3600n }, loadPercentage: 0.5 });
  client.close();
  return proc;
}

async function heartbeatRate(port: number, instanceId: string, seconds: number): Promise<number> {
  const body = frameMessage(HeartbeatRequestSchema, { serviceName: "bench", instanceId, loadPercentage: 0.5 });
  await verifyGrpcOk(port, HEARTBEAT, body);
  const result = await h2load({ port, path: HEARTBEAT, body, seconds });
  if (result.failed > 0) throw new Error(`heartbeat: ${result.failed} failed`);
  return result.requestsPerSecond;
}

async function etcdRevision(port: number): Promise<number> {
  const client = createEtcdClient({ target: `ipv4:127.0.0.1:${port}` });
  try {
    return Number((await client.range({ key: utf8("bench") })).header!.revision);
  } finally {
    client.close();
  }
}

/** Register on `a`, time until `b`'s Watch tells it, DELAY_SAMPLES times. */
async function crossNodeDelays(a: number, b: number): Promise<number[]> {
  const Ctor = makeGenericClientConstructor(grpcServiceDefinition(DiscoveryService), "DiscoveryService");
  const writer = new Ctor(`127.0.0.1:${a}`, credentials.createInsecure()) as Client & Record<string, Function>;
  const reader = new Ctor(`127.0.0.1:${b}`, credentials.createInsecure()) as Client & Record<string, Function>;
  const arrived = new Map<string, number>();
  const stream = reader.watch!(create(DiscoveryService.method.watch.input, { serviceNames: ["delay"] })) as ClientReadableStream<WatchEvent>;
  let synced!: () => void;
  const ready = new Promise<void>((r) => (synced = r));
  stream.on("data", (e: WatchEvent) => {
    if (e.type === EventType.SYNCED) synced();
    if (e.type === EventType.REGISTERED) arrived.set(e.instance!.instanceId, performance.now());
  });
  stream.on("error", () => undefined);
  await ready;
  const delays: number[] = [];
  try {
    for (let i = 0; i < DELAY_SAMPLES; i++) {
      const id = `d${i}`;
      await new Promise<void>((resolve, reject) =>
        writer.register!(create(DiscoveryService.method.register.input, { serviceName: "delay", instanceId: id, host: "10.0.0.1", port: 1, ttl: { seconds: 3600n } }), (error: Error | null) => (error ? reject(error) : resolve())),
      );
      const answered = performance.now();
      const deadline = answered + 5_000;
      while (!arrived.has(id) && performance.now() < deadline) await new Promise((r) => setImmediate(r));
      if (!arrived.has(id)) throw new Error(`${id} never reached the other node`);
      delays.push(Math.max(0, arrived.get(id)! - answered));
    }
  } finally {
    stream.cancel();
    writer.close();
    reader.close();
  }
  return delays;
}

export const cluster: Scenario = {
  name: "cluster",
  description:
    "Cluster mode: unary Heartbeat/s on one node (memory store) vs one and two nodes on etcd (one etcd member), same h2load load; etcd writes/s during the steady heartbeats; Register on node A to Watch event on node B, p50/p99",
  async run({ seconds }) {
    const procs: Proc[] = [];
    try {
      const memory = await startRegistry({}, "m1");
      procs.push(memory);
      const memoryRate = await heartbeatRate(memory.port, "m1", seconds);
      await memory.stop();
      procs.length = 0;

      const etcd = await startEtcd();
      procs.push(etcd);
      const env = { DISCOVERY_STORE: "etcd", ETCD_ENDPOINTS: `http://127.0.0.1:${etcd.port}` };
      const a = await startRegistry({ ...env, DISCOVERY_NODE_ID: "a" }, "a1");
      procs.push(a);
      const before = await etcdRevision(etcd.port);
      const oneNodeRate = await heartbeatRate(a.port, "a1", seconds);
      const writesOne = (await etcdRevision(etcd.port)) - before;

      const b = await startRegistry({ ...env, DISCOVERY_NODE_ID: "b" }, "b1");
      procs.push(b);
      const before2 = await etcdRevision(etcd.port);
      const [ra, rb] = await Promise.all([heartbeatRate(a.port, "a1", seconds), heartbeatRate(b.port, "b1", seconds)]);
      const writesTwo = (await etcdRevision(etcd.port)) - before2;
      const delays = await crossNodeDelays(a.port, b.port);

      const p99 = percentile(delays, 99);
      return {
        rows: [
          { measure: "Heartbeat/s, 1 node, memory store", value: round(memoryRate, 0), ratio: 1 },
          { measure: "Heartbeat/s, 1 node, etcd store", value: round(oneNodeRate, 0), ratio: round(oneNodeRate / memoryRate) },
          { measure: "Heartbeat/s, 2 nodes, etcd store (sum)", value: round(ra + rb, 0), ratio: round((ra + rb) / memoryRate) },
          { measure: "etcd writes/s during 1-node heartbeats", value: round(writesOne / seconds, 2), ratio: "" },
          { measure: "etcd writes/s during 2-node heartbeats", value: round(writesTwo / seconds, 2), ratio: "" },
          { measure: "Register on A → Watch event on B, p50 ms", value: round(median(delays), 2), ratio: "" },
          { measure: "Register on A → Watch event on B, p99 ms", value: round(p99, 2), ratio: "" },
        ],
        targets: [
          { name: "steady heartbeats write nothing to etcd (writes during 2-node load)", value: writesTwo, met: writesTwo === 0 },
          { name: "cross-node Watch delay p99 under 100 ms", value: round(p99, 2), met: p99 < 100 },
        ],
        notes: [
          "One run (ratios from the same run); servers and etcd pinned to core 0, load on core 1; etcd is a single member here (the e2e tests use three).",
          "Not measured here: time from kill -9 of a node until its clients' heartbeats succeed elsewhere (the e2e test bounds it), memory per instance.",
        ],
      };
    } finally {
      for (const p of procs.reverse()) await p.stop();
    }
  },
};
