// `npm run bench -- cluster`: cluster mode against the memory store, same load,
// one run: unary Heartbeat/s on one node (memory) vs one and two nodes on etcd
// (one etcd member pinned with the servers); etcd writes/s during those steady
// heartbeats (must follow changes, not heartbeats: 0 here); the delay from a
// Register answered by node A to its event on node B's Watch (p50/p99); memory
// per instance (RSS growth over MEMORY_INSTANCES registrations) on the memory
// store, on the etcd node holding the leases and on one that only follows; and
// the time from a kill -9 of node A until each of its SDK clients' heartbeats
// succeeded on node B (the instance's lease holder in etcd turned to B).
import { credentials, makeGenericClientConstructor, type Client, type ClientReadableStream } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { DiscoveryService, EventType, HeartbeatRequestSchema, RegisterRequestSchema, RegisterResponseSchema, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { createEtcdClient } from "../../src/store/etcd/client/etcd-client";
import { utf8 } from "../../src/store/etcd/client/keys";
import { grpcServiceDefinition } from "../../src/transport/service-definition";
import { frameMessage } from "../lib/grpc-frame";
import { h2load, verifyGrpcOk } from "../lib/h2load";
import { register, type Registration } from "../../src/client/register";
import { fromUtf8 } from "../../src/store/etcd/client/keys";
import { DIST, rssOf, startEtcd, startNode, type Proc } from "../lib/processes";
import { median, percentile, round } from "../lib/stats";
import { RawClient } from "../lib/unary";
import type { Scenario } from "../lib/scenario";

const HEARTBEAT = "/discovery.v1.DiscoveryService/Heartbeat";
const REGISTER = "/discovery.v1.DiscoveryService/Register";
/** Registers timed for the cross-node Watch delay. */
const DELAY_SAMPLES = 200;
/** Instances registered to measure memory per instance. */
const MEMORY_INSTANCES = 10_000;
/** Registers in flight while loading them. */
const MEMORY_CONCURRENCY = 32;
/** SDK clients (KeepAlive on node A, node B next in their address list) whose failover is timed. */
const FAILOVER_CLIENTS = 50;
/** The failover clients' TTL: their heartbeat interval is a third of it. */
const FAILOVER_TTL_MS = 3_000;

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

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS growth per instance of each process while `MEMORY_INSTANCES` are registered through the first. */
async function memoryPerInstance(through: Proc, watched: readonly Proc[], service: string): Promise<number[]> {
  await settle(2_000);
  const before = watched.map((p) => rssOf(p.child.pid!));
  const client = new RawClient(through.port);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < MEMORY_INSTANCES; i = next++) {
      await client.call(REGISTER, RegisterRequestSchema, RegisterResponseSchema, {
        serviceName: `${service}-${i % 100}`,
        instanceId: `i${i}`,
        host: "10.0.0.1",
        port: 8080 + (i % 1000),
        ttl: { seconds: 3600n },
        metadata: { zone: "z1", version: "1.0.0" },
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: MEMORY_CONCURRENCY }, worker));
  } finally {
    client.close();
  }
  await settle(3_000); // the follower takes them in through its etcd watch
  return watched.map((p, i) => (rssOf(p.child.pid!) - before[i]!) / MEMORY_INSTANCES);
}

/**
 * FAILOVER_CLIENTS SDK registrations with [A, B]: kill -9 A, then the time until
 * each instance's lease holder in etcd is B, which B writes when it answers the
 * client's first heartbeat there (a KeepAlive's first message moves the lease).
 */
async function failoverTimes(a: Proc, b: Proc, etcdPort: number, prefix: string): Promise<number[]> {
  const registrations: Registration[] = [];
  const etcd = createEtcdClient({ target: `ipv4:127.0.0.1:${etcdPort}` });
  const holders = async () => {
    const key = utf8(`${prefix}instances/failover/`);
    const rangeEnd = utf8(`${prefix}instances/failover0`); // "/" + 1
    const { kvs } = await etcd.range({ key, rangeEnd });
    return new Map(kvs.map((kv) => [fromUtf8(kv.key).slice(key.length), (JSON.parse(fromUtf8(kv.value)) as { holder: string }).holder]));
  };
  try {
    for (let i = 0; i < FAILOVER_CLIENTS; i++) {
      registrations.push(
        await register({ url: [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`], service: "failover", instanceId: `f${i}`, host: "10.0.0.2", port: 9000 + i, ttlMs: FAILOVER_TTL_MS, drainMs: 0 }),
      );
    }
    const before = await holders();
    if ([...before.values()].some((h) => h !== "a")) throw new Error("failover clients are not all held by node A");
    const killedAt = performance.now();
    a.child.kill("SIGKILL");
    const movedAt = new Map<string, number>();
    while (movedAt.size < FAILOVER_CLIENTS) {
      if (performance.now() - killedAt > 30_000) throw new Error(`only ${movedAt.size} of ${FAILOVER_CLIENTS} clients reached node B within 30 s`);
      const now = await holders();
      const at = performance.now();
      for (const [id, holder] of now) if (holder === "b" && !movedAt.has(id)) movedAt.set(id, at - killedAt);
      await settle(5);
    }
    return [...movedAt.values()];
  } finally {
    await Promise.all(registrations.map((r) => r.close().catch(() => undefined)));
    etcd.close();
  }
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
      const [memoryBytes] = await memoryPerInstance(memory, [memory], "mem");
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
      const [holderBytes, followerBytes] = await memoryPerInstance(a, [a, b], "mem");
      const failover = await failoverTimes(a, b, etcd.port, "/discovery/");

      const p99 = percentile(delays, 99);
      return {
        runs: 1,
        rows: [
          { measure: "Heartbeat/s, 1 node, memory store", value: round(memoryRate, 0), ratio: 1 },
          { measure: "Heartbeat/s, 1 node, etcd store", value: round(oneNodeRate, 0), ratio: round(oneNodeRate / memoryRate) },
          { measure: "Heartbeat/s, 2 nodes, etcd store (sum)", value: round(ra + rb, 0), ratio: round((ra + rb) / memoryRate) },
          { measure: "etcd writes/s during 1-node heartbeats", value: round(writesOne / seconds, 2), ratio: "" },
          { measure: "etcd writes/s during 2-node heartbeats", value: round(writesTwo / seconds, 2), ratio: "" },
          { measure: "Register on A → Watch event on B, p50 ms", value: round(median(delays), 2), ratio: "" },
          { measure: "Register on A → Watch event on B, p99 ms", value: round(p99, 2), ratio: "" },
          { measure: `memory per instance, bytes (RSS growth over ${MEMORY_INSTANCES} registrations), memory store`, value: round(memoryBytes!, 0), ratio: 1 },
          { measure: "memory per instance, bytes, etcd store, node holding the leases", value: round(holderBytes!, 0), ratio: round(holderBytes! / memoryBytes!) },
          { measure: "memory per instance, bytes, etcd store, node only following", value: round(followerBytes!, 0), ratio: round(followerBytes! / memoryBytes!) },
          { measure: `kill -9 of node A → heartbeat succeeded on B, p50 ms (${FAILOVER_CLIENTS} SDK clients)`, value: round(median(failover), 1), ratio: "" },
          { measure: "kill -9 of node A → heartbeat succeeded on B, max ms", value: round(Math.max(...failover), 1), ratio: "" },
        ],
        targets: [
          { name: "steady heartbeats write nothing to etcd (writes during 2-node load)", value: writesTwo, met: writesTwo === 0 },
          { name: "cross-node Watch delay p99 under 100 ms", value: round(p99, 2), met: p99 < 100 },
        ],
        notes: [
          "One run (ratios from the same run); servers and etcd pinned to core 0, load on core 1; etcd is a single member here (the e2e tests use three).",
          `Memory: RSS growth of each process over ${MEMORY_INSTANCES} Register calls through one node (100 services, two metadata entries each), after 3 s to settle; RSS includes the heap's slack, so compare the ratios.`,
          `Failover: ${FAILOVER_CLIENTS} SDK register() clients (KeepAlive, TTL ${FAILOVER_TTL_MS / 1000} s) with [A, B] as their addresses; the time runs from kill -9 of A until etcd shows B holding each lease (B writes it when it answers the client's first heartbeat), polled every 5 ms.`,
        ],
      };
    } finally {
      for (const p of procs.reverse()) await p.stop();
    }
  },
};
