// Cluster mode end to end: three real registry node processes sharing one
// registry through a real three-member etcd cluster. One registry across nodes;
// revisions are etcd revisions (the same on every node, resumable anywhere).
import type { ServiceError } from "@grpc/grpc-js";
import { DiscoveryService, EventType, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { StreamReader } from "../helpers/grpc-client";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { startRegistryNode, startRegistryNodes, type RegistryNode } from "../helpers/registry-nodes";
import { utf8 } from "../../src/store/etcd/client/keys";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(60_000);
const M = DiscoveryService.method;
const PREFIX = "/cluster-registry/";

let etcd: EtcdCluster;
let nodes: RegistryNode[];

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  nodes = await startRegistryNodes(3, { endpoints: etcd.endpoints, prefix: PREFIX, name: "node" });
});

afterAll(async () => {
  await Promise.all((nodes ?? []).map((n) => n.stop()));
  await etcd?.close();
});

const register = (node: RegistryNode, serviceName: string, instanceId: string, extra: Record<string, unknown> = {}) =>
  node.client.unary(M.register, { serviceName, instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: 30n }, ...extra });

function watch(node: RegistryNode, serviceNames: string[], sinceRevision = 0n): { reader: StreamReader<WatchEvent>; cancel: () => void } {
  const stream = node.client.serverStream(M.watch, { serviceNames, sinceRevision });
  const reader = new StreamReader<WatchEvent>(stream);
  stream.on("error", () => undefined);
  return { reader, cancel: () => stream.cancel() };
}

/** Reads until SYNCED; returns what came before it. */
async function untilSynced(reader: StreamReader<WatchEvent>): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for (;;) {
    const event = await reader.next(10_000);
    if (event.type === EventType.SYNCED) return out;
    out.push(event);
  }
}

test("a write answered by one node is in that node's reads at once and in every other node's soon after", async () => {
  const response = await register(nodes[0]!, "one-registry", "a1");
  const own = await nodes[0]!.client.unary(M.listInstances, { serviceName: "one-registry" });
  expect(own.instances.map((i) => i.instanceId)).toEqual(["a1"]);
  for (const other of nodes.slice(1)) {
    const seen = await waitFor(async () => {
      const list = await other.client.unary(M.listInstances, { serviceName: "one-registry" });
      return list.instances.length === 1 ? list.instances[0] : undefined;
    }, 5_000, `a1 on ${other.nodeId}`);
    expect(seen?.instanceId).toBe("a1");
    expect(seen?.host).toBe(response.instance!.host);
  }
});

test("the same change carries the same revision on every node's Watch", async () => {
  const watches = nodes.map((n) => watch(n, ["same-revision"]));
  await Promise.all(watches.map((w) => untilSynced(w.reader)));
  await register(nodes[1]!, "same-revision", "r1");
  const events = await Promise.all(watches.map((w) => w.reader.next(5_000)));
  for (const w of watches) w.cancel();
  expect(events.map((e) => e.type)).toEqual([EventType.REGISTERED, EventType.REGISTERED, EventType.REGISTERED]);
  const revisions = new Set(events.map((e) => e.revision));
  expect(revisions.size).toBe(1);
  // It is etcd's revision: etcd's current revision is at least it.
  const client = await etcd.client();
  const etcdRevision = (await client.range({ key: new TextEncoder().encode("x") })).header!.revision;
  expect(etcdRevision).toBeGreaterThanOrEqual(events[0]!.revision);
});

test("a gateway that reconnects to another node resumes from its revision: nothing missed, nothing twice", async () => {
  const first = watch(nodes[0]!, ["resume"]);
  await untilSynced(first.reader);
  await register(nodes[0]!, "resume", "i1");
  await register(nodes[1]!, "resume", "i2");
  const seen = await first.reader.take(2, 5_000);
  first.cancel();
  const resumeFrom = seen[1]!.revision;
  // While the gateway is away, changes land through different nodes.
  await register(nodes[2]!, "resume", "i3");
  await nodes[0]!.client.unary(M.unregister, { serviceName: "resume", instanceId: "i1" });
  await register(nodes[1]!, "resume", "i4");

  const second = watch(nodes[2]!, ["resume"], resumeFrom);
  const replay = await untilSynced(second.reader);
  second.cancel();
  expect(replay.map((e) => [EventType[e.type], e.instance?.instanceId])).toEqual([
    ["REGISTERED", "i3"],
    ["UNREGISTERED", "i1"],
    ["REGISTERED", "i4"],
  ]);
  expect(replay.every((e) => e.revision > resumeFrom)).toBe(true);
});

test("a node started after the changes resumes a watch from etcd's history; the mark it writes for that goes with the node", async () => {
  const first = watch(nodes[0]!, ["history"]);
  await untilSynced(first.reader);
  await register(nodes[0]!, "history", "h1");
  const [seen] = await first.reader.take(1, 5_000);
  first.cancel();
  await register(nodes[1]!, "history", "h2");
  // A node with no memory of those changes: it replays them from etcd.
  const late = await startRegistryNode({ endpoints: etcd.endpoints, prefix: PREFIX, nodeId: "late" });
  try {
    const resumed = watch(late, ["history"], seen!.revision);
    const replay = await untilSynced(resumed.reader);
    resumed.cancel();
    expect(replay.map((e) => [EventType[e.type], e.instance?.instanceId])).toEqual([["REGISTERED", "h2"]]);
    const kv = await etcd.client();
    const [mark] = (await kv.range({ key: utf8(`${PREFIX}replay-marks/late`) })).kvs;
    expect(mark?.lease).toBeGreaterThan(0n);
    await late.stop();
    expect((await kv.range({ key: utf8(`${PREFIX}replay-marks/late`) })).kvs).toEqual([]);
  } finally {
    await late.stop();
  }
});

test("DISCOVERY_MAX_INSTANCES counts every node's instances: the third Register is refused on any node", async () => {
  const limited = await startRegistryNodes(2, { endpoints: etcd.endpoints, prefix: "/cluster-limit/", name: "limited", env: { DISCOVERY_MAX_INSTANCES: "2" } });
  try {
    await register(limited[0]!, "limited", "l1");
    await register(limited[1]!, "limited", "l2");
    await waitFor(async () => (await limited[0]!.client.unary(M.listInstances, { serviceName: "limited" })).instances.length === 2, 5_000, "l2 on the first node");
    const refused = await register(limited[0]!, "limited", "l3").then(
      () => undefined,
      (error: ServiceError) => error,
    );
    expect(refused?.code).toBe(8); // RESOURCE_EXHAUSTED
    expect(refused?.details).toMatch(/DISCOVERY_MAX_INSTANCES|limit/i);
    const list = await limited[1]!.client.unary(M.listInstances, { serviceName: "limited" });
    expect(list.instances.map((i) => i.instanceId).sort()).toEqual(["l1", "l2"]);
  } finally {
    await Promise.all(limited.map((n) => n.stop()));
  }
});
