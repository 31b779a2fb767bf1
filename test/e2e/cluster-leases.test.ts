// Cluster mode's leases end to end (real registry processes, real 3-member etcd):
// heartbeats that change nothing write nothing; any node takes any heartbeat; a
// node killed with -9 loses nothing; a restarted node replays, a compacted
// revision RESETs.
import { create } from "@bufbuild/protobuf";
import { DiscoveryService, EventType, HeartbeatRequestSchema, type HeartbeatResponse, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { fromUtf8, utf8 } from "../../src/store/etcd/client/keys";
import type { EtcdClient } from "../../src/store/etcd/client/etcd-client";
import { StreamReader } from "../helpers/grpc-client";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { startRegistryNode, startRegistryNodes, type RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(90_000);
const M = DiscoveryService.method;
const PREFIX = "/cluster-leases/";

let etcd: EtcdCluster;
let kv: EtcdClient;
let nodes: RegistryNode[];

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  kv = await etcd.client();
  nodes = await startRegistryNodes(3, { endpoints: etcd.endpoints, prefix: PREFIX, name: "lease" });
});

afterAll(async () => {
  await Promise.all((nodes ?? []).map((n) => n.stop()));
  await etcd?.close();
});

const register = (node: RegistryNode, serviceName: string, instanceId: string, extra: Record<string, unknown> = {}) =>
  node.client.unary(M.register, { serviceName, instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: 30n }, ...extra });
const heartbeat = (node: RegistryNode, serviceName: string, instanceId: string, loadPercentage?: number) =>
  node.client.unary(M.heartbeat, { serviceName, instanceId, loadPercentage });

async function etcdRevision(): Promise<number> {
  return Number((await kv.range({ key: utf8("probe") })).header!.revision);
}

async function holderOf(serviceName: string, instanceId: string): Promise<string | undefined> {
  const { kvs } = await kv.range({ key: utf8(`${PREFIX}instances/${serviceName}/${instanceId}`) });
  return kvs[0] === undefined ? undefined : (JSON.parse(fromUtf8(kvs[0].value)) as { holder: string }).holder;
}

function watch(node: RegistryNode, serviceNames: string[], sinceRevision = 0n) {
  const stream = node.client.serverStream(M.watch, { serviceNames, sinceRevision });
  stream.on("error", () => undefined);
  return { reader: new StreamReader<WatchEvent>(stream), cancel: () => stream.cancel() };
}

async function untilSynced(reader: StreamReader<WatchEvent>): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for (;;) {
    const event = await reader.next(10_000);
    if (event.type === EventType.SYNCED) return out;
    out.push(event);
  }
}

test("heartbeats that change nothing observable write nothing to etcd; a load that moved a step writes once", async () => {
  await register(nodes[0]!, "quiet", "q1", { loadPercentage: 0.3 });
  await heartbeat(nodes[0]!, "quiet", "q1", 0.3);
  const before = await etcdRevision();
  for (let i = 0; i < 50; i++) await heartbeat(nodes[0]!, "quiet", "q1", i % 2 === 0 ? 0.3 : 0.32);
  expect(await etcdRevision()).toBe(before);
  // 0.3 → 0.5 moved more than LOAD_REPLICATION_STEP (0.05): one replication write, no event.
  await heartbeat(nodes[0]!, "quiet", "q1", 0.5);
  await waitFor(async () => (await etcdRevision()) === before + 1, 5_000, "the load's replication");
  await waitFor(async () => (await nodes[2]!.client.unary(M.listInstances, { serviceName: "quiet" })).instances[0]?.loadPercentage === 0.5, 5_000, "the load on another node");
  for (let i = 0; i < 20; i++) await heartbeat(nodes[0]!, "quiet", "q1", 0.5);
  expect(await etcdRevision()).toBe(before + 1);
});

test("a heartbeat that reaches a node other than the lease holder moves the lease there in one write, never NOT_FOUND", async () => {
  await register(nodes[0]!, "moving", "m1");
  expect(await holderOf("moving", "m1")).toBe("lease-0");
  await waitFor(async () => (await nodes[1]!.client.unary(M.listInstances, { serviceName: "moving" })).instances.length === 1, 5_000, "m1 on lease-1");
  const before = await etcdRevision();
  const response = await heartbeat(nodes[1]!, "moving", "m1");
  expect(response.instance?.instanceId).toBe("m1");
  expect(await holderOf("moving", "m1")).toBe("lease-1");
  expect(await etcdRevision()).toBe(before + 1);
  // Held here now: more heartbeats write nothing.
  for (let i = 0; i < 10; i++) await heartbeat(nodes[1]!, "moving", "m1");
  expect(await etcdRevision()).toBe(before + 1);
});

test("a KeepAlive stream opened on a node that does not hold the lease moves it there with its first message", async () => {
  await register(nodes[0]!, "moving", "k1");
  await waitFor(async () => (await nodes[2]!.client.unary(M.listInstances, { serviceName: "moving" })).instances.some((i) => i.instanceId === "k1"), 5_000, "k1 on lease-2");
  const stream = nodes[2]!.client.bidiStream(M.keepAlive);
  const reader = new StreamReader<HeartbeatResponse>(stream);
  stream.on("error", () => undefined);
  stream.write(create(HeartbeatRequestSchema, { serviceName: "moving", instanceId: "k1" }));
  const first = await reader.next(5_000);
  expect(first.instance?.instanceId).toBe("k1");
  expect(await holderOf("moving", "k1")).toBe("lease-2");
  const before = await etcdRevision();
  for (let i = 0; i < 10; i++) stream.write(create(HeartbeatRequestSchema, { serviceName: "moving", instanceId: "k1" }));
  await reader.take(10, 5_000);
  expect(await etcdRevision()).toBe(before);
  stream.end();
  await reader.finished();
});

test("a restarted node keeps state and revisions: a resume from before the restart is a replay; after a compaction, a RESET and a snapshot", async () => {
  const first = watch(nodes[1]!, ["restart"]);
  await untilSynced(first.reader);
  await register(nodes[1]!, "restart", "s1");
  const [registered] = await first.reader.take(1, 5_000);
  first.cancel();
  const from = registered!.revision;
  await register(nodes[0]!, "restart", "s2");

  await nodes[1]!.stop();
  nodes[1] = await startRegistryNode({ endpoints: etcd.endpoints, prefix: PREFIX, nodeId: "lease-1" });
  const replay = watch(nodes[1]!, ["restart"], from);
  const replayed = await untilSynced(replay.reader);
  replay.cancel();
  expect(replayed.map((e) => [EventType[e.type], e.instance?.instanceId])).toEqual([["REGISTERED", "s2"]]);

  await etcd.compact();
  await nodes[1]!.stop();
  nodes[1] = await startRegistryNode({ endpoints: etcd.endpoints, prefix: PREFIX, nodeId: "lease-1" });
  const reset = watch(nodes[1]!, ["restart"], from);
  const afterCompaction = await untilSynced(reset.reader);
  reset.cancel();
  expect(afterCompaction[0]!.type).toBe(EventType.RESET);
  expect(afterCompaction[0]!.reason).toBe("history-compacted");
  expect(afterCompaction.slice(1).map((e) => [EventType[e.type], e.instance?.instanceId]).sort()).toEqual([
    ["SNAPSHOT", "s1"],
    ["SNAPSHOT", "s2"],
  ]);
});

test("kill -9 of a node loses nothing: instances heartbeating elsewhere stay, silent ones expire within TTL + node TTL, EXPIRED and UNREGISTERED stay distinct", async () => {
  const victim = nodes[2]!;
  await register(victim, "loss", "alive", { ttl: { seconds: 3n } });
  await register(victim, "loss", "silent", { ttl: { seconds: 3n } });
  await register(victim, "loss", "leaving", { ttl: { seconds: 3n } });
  await waitFor(async () => (await nodes[0]!.client.unary(M.listInstances, { serviceName: "loss" })).instances.length === 3, 5_000, "all three on lease-0");
  const observer = watch(nodes[0]!, ["loss"]);
  const snapshot = await untilSynced(observer.reader);
  expect(snapshot.map((e) => e.instance?.instanceId).sort()).toEqual(["alive", "leaving", "silent"]);
  // Unregistered through the node about to die, told as UNREGISTERED on another.
  await victim.client.unary(M.unregister, { serviceName: "loss", instanceId: "leaving" });
  const unregistered = await observer.reader.next(5_000);
  expect([EventType[unregistered.type], unregistered.instance?.instanceId]).toEqual(["UNREGISTERED", "leaving"]);

  await victim.kill();
  const killedAt = Date.now();
  // The live instance's client keeps heartbeating, now through another node.
  let stop = false;
  const beating = (async () => {
    while (!stop) {
      await heartbeat(nodes[0]!, "loss", "alive");
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const expired = await observer.reader.next(15_000);
  const expiredAfterMs = Date.now() - killedAt;
  expect([EventType[expired.type], expired.instance?.instanceId]).toEqual(["EXPIRED", "silent"]);
  // Its own TTL (3 s) plus DISCOVERY_NODE_TTL_SECONDS (2 s), with a second of slack for a busy machine.
  expect(expiredAfterMs).toBeLessThan(6_000);
  // Well past the dead node's leases, the heartbeating instance is still there and nothing was said about it.
  await new Promise((r) => setTimeout(r, 4_000));
  stop = true;
  await beating;
  observer.cancel();
  expect(observer.reader.pending.filter((e) => e.instance?.instanceId === "alive")).toEqual([]);
  const list = await nodes[1]!.client.unary(M.listInstances, { serviceName: "loss" });
  expect(list.instances.map((i) => i.instanceId)).toEqual(["alive"]);
  nodes.pop();
});
