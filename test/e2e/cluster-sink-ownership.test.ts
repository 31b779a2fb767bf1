// Cluster mode with NATS on every node (real etcd, real registry processes, real
// nats-server): each event reaches NATS once, not once per node; when a node is
// killed, the events of its services made before its membership expired still
// reach NATS, from the node that owns those services next. A node without the
// sink is never picked to publish to it.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { rendezvousOwner } from "../../src/store/etcd/rendezvous";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { parsePrometheus, valueOf } from "../helpers/prometheus-text";
import { startNatsServer, type PeerProcess } from "../helpers/real-peers";
import { startRegistryNode, type RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(120_000);
const M = DiscoveryService.method;
const PREFIX = "/cluster-sink-ownership/";

let etcd: EtcdCluster;
let nats: PeerProcess;
let subscriber: NatsConnection;
let nodes: RegistryNode[] = [];
/** "service/instance TYPE" per message NATS delivered. */
const heard: string[] = [];

beforeAll(async () => {
  [etcd, nats] = await Promise.all([startEtcdCluster(1), startNatsServer()]);
  subscriber = await connect({ servers: `127.0.0.1:${nats.port}` });
  subscriber.subscribe("discovery.events.>", {
    callback: (_error, msg) => {
      const json = JSON.parse(new TextDecoder().decode(msg.data)) as { type: string; instance: { serviceName: string; instanceId: string } };
      heard.push(`${json.instance.serviceName}/${json.instance.instanceId} ${json.type}`);
    },
  });
  await subscriber.flush();
  // No summary within the test: what a node delivered to NATS is the events it published.
  const env = { NATS_URL: `127.0.0.1:${nats.port}`, NATS_SUMMARY_INTERVAL_SECONDS: "3600" };
  nodes = await Promise.all(["sink-a", "sink-b"].map((nodeId) => startRegistryNode({ endpoints: etcd.endpoints, prefix: PREFIX, nodeId, env })));
  // A third node without NATS: it must never be the one that publishes.
  nodes.push(await startRegistryNode({ endpoints: etcd.endpoints, prefix: PREFIX, nodeId: "no-sink" }));
  for (const node of nodes.slice(0, 2)) await waitFor(() => node.process.logs.some((entry) => entry.msg === "NATS sink connected"), 30_000, "NATS connected");
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  await subscriber?.close();
  await nats?.stop();
  await etcd?.close();
});

const register = (node: RegistryNode, serviceName: string, instanceId: string) =>
  node.client.unary(M.register, { serviceName, instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: 120n } });

/** Messages a node's NATS sink delivered, from its /metrics. */
async function deliveredToNats(node: RegistryNode): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
  return valueOf(parsePrometheus(text), "discovery_sink_messages_total", { sink: "nats", result: "delivered" });
}

/** A service that rendezvous hashing gives to `owner` among the nodes with NATS. */
function serviceOwnedBy(owner: string, members: string[]): string {
  for (let i = 0; ; i++) if (rendezvousOwner(`owned-${i}`, members) === owner) return `owned-${i}`;
}

test("each event reaches NATS once, whichever node took the write, and from both nodes' shares", async () => {
  const services = Array.from({ length: 8 }, (_, i) => `once-${i}`);
  for (const [i, service] of services.entries()) await register(nodes[i % 3]!, service, "i1");
  const expected = services.map((s) => `${s}/i1 EVENT_TYPE_REGISTERED`).sort();
  await waitFor(() => heard.filter((h) => h.startsWith("once-")).length >= services.length, 15_000, "every registration on NATS");
  // Time for a duplicate from another node to arrive, had one been sent.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(heard.filter((h) => h.startsWith("once-")).sort()).toEqual(expected);
  // Each NATS node published its share, by its own count: together, each event once.
  const [a, b] = await Promise.all(nodes.slice(0, 2).map(deliveredToNats));
  expect(a).toBeGreaterThan(0);
  expect(b).toBeGreaterThan(0);
  expect(a! + b!).toBe(services.length);
});

test("a killed node's events from before its membership expired reach NATS from the next owner", async () => {
  const [a, b] = nodes as [RegistryNode, RegistryNode];
  const service = serviceOwnedBy("sink-a", ["sink-a", "sink-b"]);
  await a.kill();
  // Made through the survivor while the dead node is still a member (its key lives a node TTL, 2 s here).
  await register(b, service, "after-kill");
  await waitFor(() => heard.includes(`${service}/after-kill EVENT_TYPE_REGISTERED`), 20_000, "the event of the dead node's service on NATS");
  // Once the dead node is gone, the survivor owns the service outright.
  await register(b, service, "later");
  await waitFor(() => heard.includes(`${service}/later EVENT_TYPE_REGISTERED`), 20_000, "a later event of that service");
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(heard.filter((h) => h.startsWith(`${service}/`))).toEqual([`${service}/after-kill EVENT_TYPE_REGISTERED`, `${service}/later EVENT_TYPE_REGISTERED`]);
});
