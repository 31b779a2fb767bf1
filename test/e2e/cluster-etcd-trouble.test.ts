// Cluster mode when etcd is in trouble (real registry processes, real 3-member
// etcd): one member down changes nothing; all down, reads and Watch serve the
// last state, writes fail UNAVAILABLE naming etcd, grpc.health.v1 says
// NOT_SERVING and nothing expires because of the outage; etcd back, the nodes
// catch up and serve again.
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { DiscoveryService, EventType, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../gen/grpc/health/v1/health_pb";
import { startServerProcess } from "../helpers/cli-process";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { closedPort } from "../helpers/probe-targets";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { startRegistryNodes, type RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(90_000);
const M = DiscoveryService.method;

let etcd: EtcdCluster;
let nodes: RegistryNode[];
let health: GrpcTestClient<typeof Health>;

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  nodes = await startRegistryNodes(2, { endpoints: etcd.endpoints, prefix: "/cluster-trouble/", name: "trouble" });
  health = new GrpcTestClient(Health, `127.0.0.1:${nodes[0]!.port}`);
});

afterAll(async () => {
  health?.close();
  await Promise.all((nodes ?? []).map((n) => n.stop()));
  await etcd?.close();
});

const register = (node: RegistryNode, instanceId: string, ttlSeconds = 30n) =>
  node.client.unary(M.register, { serviceName: "trouble", instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: ttlSeconds } });
const list = async (node: RegistryNode) => (await node.client.unary(M.listInstances, { serviceName: "trouble" })).instances.map((i) => i.instanceId).sort();
const serverHealth = async () => (await health.unary(Health.method.check, { service: "" })).status;

test("with one of three etcd members down, registering, reading and watching work on every node", async () => {
  await etcd.kill(0);
  try {
    await register(nodes[0]!, "one-down-a");
    await register(nodes[1]!, "one-down-b");
    await waitFor(async () => (await list(nodes[0]!)).length === 2, 10_000, "both instances on node 0");
    expect(await list(nodes[1]!)).toEqual(["one-down-a", "one-down-b"]);
    expect(await serverHealth()).toBe(Serving.SERVING);
  } finally {
    await etcd.restart(0);
  }
});

test("with etcd unreachable: last state served, writes UNAVAILABLE naming etcd, NOT_SERVING, no expiry; after it returns, catch-up", async () => {
  // A short TTL that its client keeps renewing through the node holding it, and one whose client stays silent.
  await register(nodes[0]!, "kept", 3n);
  await register(nodes[0]!, "quiet", 3n);
  await waitFor(async () => (await list(nodes[1]!)).includes("quiet"), 5_000, "quiet on node 1");
  const before = await list(nodes[0]!);

  await Promise.all([etcd.kill(0), etcd.kill(1), etcd.kill(2)]);
  const outageStarted = Date.now();
  await waitFor(async () => (await serverHealth()) === Serving.NOT_SERVING, 15_000, "NOT_SERVING");

  const refused = await register(nodes[0]!, "during-outage").then(
    () => undefined,
    (error: ServiceError) => error,
  );
  expect(refused?.code).toBe(GrpcStatus.UNAVAILABLE);
  expect(refused?.details).toMatch(/etcd/);

  // Reads and a fresh Watch serve the last known state.
  expect(await list(nodes[0]!)).toEqual(before);
  const stream = nodes[1]!.client.serverStream(M.watch, { serviceNames: ["trouble"] });
  stream.on("error", () => undefined);
  const reader = new StreamReader<WatchEvent>(stream);
  const snapshot: WatchEvent[] = [];
  for (let e = await reader.next(); e.type !== EventType.SYNCED; e = await reader.next()) snapshot.push(e);
  stream.cancel();
  expect(snapshot.map((e) => e.instance?.instanceId).sort()).toEqual(before);

  // Past both TTLs (3 s), nothing expired because of the outage; the held instance's heartbeats still succeed.
  while (Date.now() - outageStarted < 5_000) {
    await nodes[0]!.client.unary(M.heartbeat, { serviceName: "trouble", instanceId: "kept" });
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(await list(nodes[0]!)).toEqual(before);
  expect(await list(nodes[1]!)).toEqual(before);

  await etcd.restartStopped();
  await waitFor(async () => (await serverHealth()) === Serving.SERVING, 20_000, "SERVING again");
  // The write below goes through node 1, which reconnects to etcd on its own backoff: wait for it too.
  const nodeOneHealth = new GrpcTestClient(Health, `127.0.0.1:${nodes[1]!.port}`);
  try {
    await waitFor(async () => (await nodeOneHealth.unary(Health.method.check, { service: "" })).status === Serving.SERVING, 20_000, "node 1 SERVING again");
  } finally {
    nodeOneHealth.close();
  }
  await register(nodes[1]!, "after-outage");
  await waitFor(async () => (await list(nodes[0]!)).includes("after-outage"), 10_000, "node 0 caught up");
  // The held instance, heartbeating throughout, is still there.
  await nodes[0]!.client.unary(M.heartbeat, { serviceName: "trouble", instanceId: "kept" });
  expect(await list(nodes[0]!)).toContain("kept");
});

test("with no etcd member reachable at start, the server exits with an error naming ETCD_ENDPOINTS", async () => {
  const port = await closedPort();
  const started = Date.now();
  const failure = await startServerProcess({ DISCOVERY_STORE: "etcd", ETCD_ENDPOINTS: `http://127.0.0.1:${port}` }).then(
    () => undefined,
    (error: Error) => error,
  );
  expect(failure?.message).toMatch(/exited \(1\) before listening/);
  expect(failure?.message).toMatch(new RegExp(`ETCD_ENDPOINTS: no etcd member answered at http://127.0.0.1:${port}`));
  expect(Date.now() - started).toBeLessThan(15_000);
});
