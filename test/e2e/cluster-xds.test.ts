// xDS in cluster mode (real registry processes on a real 3-member etcd, a real
// grpc-js-xds client and a real Python grpcio one): the client's bootstrap names both registry nodes, its
// calls keep flowing when the node serving its ADS stream is killed, and it
// follows a change made through the other node.
// grpc-js-xds 1.14 uses only the first entry of `xds_servers` (no fallback, gRFC
// A71), so both nodes go in that entry's server_uri as one grpc-js target,
// `ipv4:A,B`: the ADS channel moves to B when A goes away.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { xdsBootstrap } from "../../src/cli/xds-bootstrap";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { startRegistryNodes, type RegistryNode } from "../helpers/registry-nodes";
import { parsePrometheus, valueOf } from "../helpers/prometheus-text";
import { waitFor } from "../helpers/wait-for";
import { exactly, startEchoBackend, XdsClientProcess, type EchoBackend, type XdsClientKind } from "../helpers/xds-fixture";

jest.setTimeout(150_000);
const M = DiscoveryService.method;

let etcd: EtcdCluster;
let backends: EchoBackend[];

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  backends = await Promise.all(["b1", "b2", "b3"].map(startEchoBackend));
});

afterAll(async () => {
  for (const backend of backends ?? []) backend.close();
  await etcd?.close();
});

/** ADS streams open on a node, from its /metrics. */
const adsStreams = async (node: RegistryNode) => valueOf(parsePrometheus(await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text()), "discovery_xds_streams") ?? 0;

const register = (node: RegistryNode, backend: EchoBackend) =>
  node.client.unary(M.register, { serviceName: "echo", instanceId: backend.name, host: "127.0.0.1", port: backend.port, ttl: { seconds: 600n } });

// C-core (Python) takes the same `ipv4:A,B` target for its xDS channel.
test.each<XdsClientKind>(["grpc-js-xds", "python-grpcio"])(
  "a %s client with both nodes in its bootstrap keeps calling when one is killed, and follows a change made through the other",
  async (kind) => {
    const nodes = await startRegistryNodes(2, { endpoints: etcd.endpoints, prefix: `/cluster-xds-${kind}/`, name: `xds-${kind}` });
    let client: XdsClientProcess | undefined;
    try {
      const [b1, b2, b3] = backends as [EchoBackend, EchoBackend, EchoBackend];
      await register(nodes[0]!, b1);
      await register(nodes[0]!, b2);
      const bootstrap = xdsBootstrap({ addr: `ipv4:127.0.0.1:${nodes[0]!.port},127.0.0.1:${nodes[1]!.port}`, nodeId: "cluster-xds-test" });
      const file = path.join(mkdtempSync(path.join(tmpdir(), "xds-cluster-")), "bootstrap.json");
      writeFileSync(file, JSON.stringify(bootstrap));
      client = new XdsClientProcess(kind, file, "echo");
      await client.settles(exactly(["b1", "b2"]), "both backends answer", 30, 30_000);

      // kill -9 the node its ADS stream is on (pick_first: the first address).
      expect([await adsStreams(nodes[0]!), await adsStreams(nodes[1]!)]).toEqual([1, 0]);
      await nodes[0]!.kill();
      // Calls go on to the backends it knows, without a failed call.
      await client.settles(exactly(["b1", "b2"]), "calls continue after the kill", 100, 10_000);

      // A change through the surviving node reaches the client once its ADS stream moved there.
      await register(nodes[1]!, b3);
      await client.settles(exactly(["b1", "b2", "b3"]), "b3, registered through node 1, gets calls", 30, 30_000);
      await waitFor(async () => (await adsStreams(nodes[1]!)) === 1, 5_000, "the ADS stream on node 1");
      await nodes[1]!.client.unary(M.unregister, { serviceName: "echo", instanceId: "b1" });
      await client.settles(exactly(["b2", "b3"]), "b1, unregistered through node 1, gets none", 30, 30_000);
    } finally {
      client?.stop();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
);
