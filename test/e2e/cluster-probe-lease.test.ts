// Cluster mode: an instance probed by a node that does not hold its lease (real
// registry processes, real 3-member etcd). On one node, a passing probe renews
// the lease like a heartbeat; in a cluster the same holds: when its client stops
// heartbeating, the holder hands the lease to the prober instead of expiring it,
// and it stays while its probes pass; once they fail, it expires (EXPIRED).
import { DiscoveryService, EventType, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import type { EtcdClient } from "../../src/store/etcd/client/etcd-client";
import { fromUtf8, utf8 } from "../../src/store/etcd/client/keys";
import { rendezvousOwner } from "../../src/store/etcd/rendezvous";
import { StreamReader } from "../helpers/grpc-client";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { HttpTarget } from "../helpers/probe-targets";
import { startRegistryNodes, type RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(120_000);
const M = DiscoveryService.method;
const PREFIX = "/cluster-probe-lease/";
const SERVICE = "probed";
const TTL_SECONDS = 3;

let etcd: EtcdCluster;
let kv: EtcdClient;
let nodes: RegistryNode[];
let target: HttpTarget;

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  kv = await etcd.client();
  nodes = await startRegistryNodes(3, { endpoints: etcd.endpoints, prefix: PREFIX, name: "probe-lease" });
  target = await HttpTarget.start();
});

afterAll(async () => {
  await Promise.all((nodes ?? []).map((n) => n.stop()));
  await target?.close();
  await etcd?.close();
});

async function holderOf(instanceId: string): Promise<string | undefined> {
  const { kvs } = await kv.range({ key: utf8(`${PREFIX}instances/${SERVICE}/${instanceId}`) });
  return kvs[0] === undefined ? undefined : (JSON.parse(fromUtf8(kvs[0].value)) as { holder: string }).holder;
}

const healthyOn = async (node: RegistryNode) => (await node.client.unary(M.listHealthy, { serviceName: SERVICE })).instances.map((i) => i.instanceId);

test("a probed instance whose client stopped heartbeating stays while its probes pass on another node, and expires once they fail", async () => {
  const ids = nodes.map((n) => n.nodeId);
  // An instance whose prober (rendezvous) is not the node its client talks to.
  const instanceId = Array.from({ length: 50 }, (_, i) => `p${i}`).find((id) => rendezvousOwner(`${SERVICE}/${id}`, ids) !== nodes[0]!.nodeId)!;
  const prober = rendezvousOwner(`${SERVICE}/${instanceId}`, ids)!;
  await nodes[0]!.client.unary(M.register, {
    serviceName: SERVICE,
    instanceId,
    host: "127.0.0.1",
    port: target.port,
    ttl: { seconds: BigInt(TTL_SECONDS) },
    healthCheck: { probe: { case: "http", value: { path: "/health" } }, interval: { seconds: 1n } },
  });
  await waitFor(async () => (await healthyOn(nodes[0]!)).includes(instanceId), 15_000, "healthy after its first probes");
  // Its client heartbeats through node 0 once more: the lease is there, away from the prober.
  await nodes[0]!.client.unary(M.heartbeat, { serviceName: SERVICE, instanceId });
  expect(await holderOf(instanceId)).toBe(nodes[0]!.nodeId);

  const stream = nodes[2]!.client.serverStream(M.watch, { serviceNames: [SERVICE] });
  stream.on("error", () => undefined);
  const reader = new StreamReader<WatchEvent>(stream);
  for (let e = await reader.next(10_000); e.type !== EventType.SYNCED; e = await reader.next(10_000));

  // No heartbeat for three TTLs; probes pass every second on the prober.
  await new Promise((r) => setTimeout(r, 3 * TTL_SECONDS * 1000 + 500));
  for (const node of nodes) expect(await healthyOn(node)).toContain(instanceId);
  expect(reader.pending.map((e) => EventType[e.type])).not.toContain("EXPIRED");
  expect(reader.pending.map((e) => EventType[e.type])).not.toContain("UNREGISTERED");
  expect(await holderOf(instanceId)).toBe(prober);

  // The target fails: unhealthy, then expired a TTL after its last passing probe, as on one node.
  target.json("down", 503);
  const failedAt = Date.now();
  const seen: string[] = [];
  for (;;) {
    const event = await reader.next(30_000);
    seen.push(EventType[event.type]);
    if (event.type === EventType.EXPIRED || event.type === EventType.UNREGISTERED) break;
  }
  expect(seen).toContain("HEALTH_CHANGED");
  expect(seen[seen.length - 1]).toBe("EXPIRED");
  expect(Date.now() - failedAt).toBeGreaterThanOrEqual((TTL_SECONDS - 1) * 1000);
  stream.cancel();
  for (const node of nodes) await waitFor(async () => !(await healthyOn(node)).includes(instanceId), 10_000, "gone everywhere");
});
