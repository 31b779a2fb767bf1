// Cluster mode's probes end to end: each instance with a health check is probed
// by exactly one live node (rendezvous hashing over the members), and when that
// node dies its share moves to a survivor within DISCOVERY_NODE_TTL_SECONDS.
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { rendezvousOwner } from "../../src/store/etcd/rendezvous";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { HttpTarget } from "../helpers/probe-targets";
import { startRegistryNodes, type RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(60_000);
const M = DiscoveryService.method;

let etcd: EtcdCluster;
let nodes: RegistryNode[];
let target: HttpTarget;

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  nodes = await startRegistryNodes(3, { endpoints: etcd.endpoints, prefix: "/cluster-probes/", name: "probe" });
  target = await HttpTarget.start();
});

afterAll(async () => {
  await Promise.all((nodes ?? []).map((n) => n.stop()));
  await target?.close();
  await etcd?.close();
});

/** Probes the target received over `ms`. */
async function probesDuring(ms: number): Promise<number> {
  const before = target.requests;
  await new Promise((r) => setTimeout(r, ms));
  return target.requests - before;
}

test("one live node probes each instance, and a killed prober's share moves to a survivor", async () => {
  await nodes[0]!.client.unary(M.register, {
    serviceName: "probed",
    instanceId: "p1",
    host: "127.0.0.1",
    port: target.port,
    ttl: { seconds: 60n },
    healthCheck: { probe: { case: "http", value: { path: "/health" } }, interval: { seconds: 1n } },
  });
  await waitFor(() => target.requests >= 2, 10_000, "the first probes");
  // One probe a second in all: three nodes probing would make ~12 in 4 s.
  const together = await probesDuring(4_000);
  expect(together).toBeGreaterThanOrEqual(3);
  expect(together).toBeLessThanOrEqual(5);

  const owner = rendezvousOwner("probed/p1", nodes.map((n) => n.nodeId))!;
  const ownerIndex = nodes.findIndex((n) => n.nodeId === owner);
  await nodes[ownerIndex]!.kill();
  nodes.splice(ownerIndex, 1);
  // DISCOVERY_NODE_TTL_SECONDS is 2 in these nodes: after it, a survivor probes.
  await new Promise((r) => setTimeout(r, 3_000));
  const after = await probesDuring(4_000);
  expect(after).toBeGreaterThanOrEqual(3);
  expect(after).toBeLessThanOrEqual(5);
});
