// The Go and Python helpers given two registry nodes (real `discovery serve`
// processes in cluster mode on one real etcd): kill -9 the node they use and
// their heartbeats go on through the other (which takes the lease: no
// re-registration, no EXPIRED or UNREGISTERED), and their Watch resumes there
// from its revision (a replay: no RESET, no second snapshot) and keeps
// delivering changes. And a node that is up but answers UNAVAILABLE (cut off
// from etcd, it refuses writes) sends their Register on to the next node.
import * as path from "node:path";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { DiscoveryService, EventType, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../gen/grpc/health/v1/health_pb";
import { fromUtf8, utf8 } from "../../src/store/etcd/client/keys";
import type { EtcdClient } from "../../src/store/etcd/client/etcd-client";
import { ROOT, spawnChild, type Child } from "../helpers/child-process";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { createGoWorkspace, type GoWorkspace } from "../helpers/go-build";
import { GrpcTestClient } from "../helpers/grpc-client";
import { installPythonClient, type PythonPackage } from "../helpers/python-package";
import { startRegistryNode, type RegistryNode } from "../helpers/registry-nodes";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(90_000);
const M = DiscoveryService.method;
const PYTHON_SCRIPT = path.join(ROOT, "test/python/client_check.py");
// Instance TTL 3 s (heartbeats every second); the nodes' membership TTL is 2 s (registry-nodes.ts).
const TTL_MS = 3_000;
const NODE_TTL_MS = 2_000;

let etcd: EtcdCluster;
let kv: EtcdClient;
let go: GoWorkspace;
let goExample: string;
let pythonClient: PythonPackage;
let nodes: RegistryNode[] = [];
// Node 0 reaches etcd through this proxy, so a test can cut it off from etcd alone.
let etcdProxy: TcpProxy;
let prefix = "";
let run = 0;
const children: Child[] = [];

beforeAll(async () => {
  // One etcd member: the nodes are what fails here; etcd's own failures are cluster-etcd-trouble's.
  etcd = await startEtcdCluster(1);
  kv = await etcd.client();
  go = createGoWorkspace();
  goExample = go.build("examples/register-watch");
  pythonClient = installPythonClient();
}, 300_000);

afterAll(async () => {
  go?.remove();
  pythonClient?.remove();
  await etcd?.close();
});

beforeEach(async () => {
  prefix = `/helpers-failover-${++run}/`;
  etcdProxy = await startTcpProxy(etcd.members[0]!.clientPort);
  nodes = await Promise.all([
    startRegistryNode({ endpoints: etcdProxy.url, prefix, nodeId: `helpers-${run}-0` }),
    startRegistryNode({ endpoints: etcd.endpoints, prefix, nodeId: `helpers-${run}-1` }),
  ]);
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await Promise.all(nodes.map((n) => n.stop()));
  await etcdProxy.close();
});

const both = () => nodes.map((n) => `127.0.0.1:${n.port}`).join(",");

async function holderOf(serviceName: string, instanceId: string): Promise<string | undefined> {
  const { kvs } = await kv.range({ key: utf8(`${prefix}instances/${serviceName}/${instanceId}`) });
  return kvs[0] === undefined ? undefined : (JSON.parse(fromUtf8(kvs[0].value)) as { holder: string }).holder;
}

/** The instance's last heartbeat as `node` sees it (ms), or undefined when it does not list it. */
async function lastHeartbeatOn(node: RegistryNode, serviceName: string, instanceId: string): Promise<number | undefined> {
  const { instances } = await node.client.unary(M.listInstances, { serviceName });
  const instance = instances.find((i) => i.instanceId === instanceId);
  return instance?.lastHeartbeat === undefined ? undefined : timestampMs(instance.lastHeartbeat);
}

/** Every event of `serviceName` on `node`'s Watch, from a snapshot on. */
async function recordEvents(node: RegistryNode, serviceName: string): Promise<{ events: WatchEvent[]; cancel: () => void }> {
  const events: WatchEvent[] = [];
  const stream = node.client.serverStream(M.watch, { serviceNames: [serviceName] });
  stream.on("data", (event: WatchEvent) => events.push(event));
  stream.on("error", () => undefined);
  await waitFor(() => events.some((e) => e.type === EventType.SYNCED), 10_000, "the recording watch synced");
  return { events, cancel: () => stream.cancel() };
}

/**
 * Kills node 0 (the helper's), then proves the heartbeats go on through node 1:
 * node 1 takes the lease, and its view of the last heartbeat moves on twice
 * after the kill. Returns when the kill was.
 */
async function killFirstNodeAndSeeHeartbeatsOnSecond(serviceName: string, instanceId: string): Promise<number> {
  const [first, second] = nodes as [RegistryNode, RegistryNode];
  expect(await holderOf(serviceName, instanceId)).toBe(first.nodeId);
  const killedAt = Date.now();
  await first.kill();
  await waitFor(async () => (await holderOf(serviceName, instanceId)) === second.nodeId, 10_000, `${second.nodeId} holding the lease`);
  let firstBeat = 0;
  await waitFor(async () => {
    const at = (await lastHeartbeatOn(second, serviceName, instanceId)) ?? 0;
    if (at > killedAt) firstBeat = at;
    return firstBeat > 0;
  }, 10_000, "a heartbeat through the second node");
  await waitFor(async () => ((await lastHeartbeatOn(second, serviceName, instanceId)) ?? 0) > firstBeat, 5_000, "another heartbeat through the second node");
  return killedAt;
}

/** Waits until the instance would have expired without heartbeats (its TTL, plus the node TTL after which node 1 adopts node 0's instances), plus a beat. */
async function outliveTheLease(killedAt: number): Promise<void> {
  await waitFor(() => Date.now() > killedAt + TTL_MS + NODE_TTL_MS + 1_000, TTL_MS + NODE_TTL_MS + 5_000, "the lease's worth of time");
}

/** The revision of the last event line printed before the first line matching `disconnected`. */
function lastRevisionBefore(lines: string[], disconnected: RegExp): number {
  const events = lines.slice(0, lines.findIndex((l) => disconnected.test(l))).filter((l) => l.startsWith("event "));
  return Number(/(\d+)$/.exec(events.at(-1)!)![1]);
}

const summary = (events: WatchEvent[], instanceId: string) => events.filter((e) => e.instance?.instanceId === instanceId).map((e) => EventType[e.type]);

/** SIGTERM: the helper closes, and its Unregister lands through the surviving node. */
async function closeAndSeeUnregistered(child: Child, recording: { events: WatchEvent[]; cancel: () => void }, instanceId: string): Promise<void> {
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
  await waitFor(() => summary(recording.events, instanceId).length === 2, 5_000, "UNREGISTERED on the second node");
  expect(summary(recording.events, instanceId)).toEqual(["REGISTERED", "UNREGISTERED"]);
  recording.cancel();
}

test("Go: Register and Watch over Dial(a,b) move to the second node when the first is killed: heartbeats go on, the watch resumes", async () => {
  const service = "go-failover";
  const recording = await recordEvents(nodes[1]!, service);
  const child = spawnChild(goExample, [], { REGISTRY: both(), SERVICE: service, INSTANCE_ID: "go-1", PORT: "7201", TTL: "3s", DRAIN: "0s" });
  children.push(child);
  await child.waitForLine(/^registered go-failover go-1$/, 15_000);
  const synced = await child.waitForLine(/^event EVENT_TYPE_SYNCED  rev \d+$/);

  const killedAt = await killFirstNodeAndSeeHeartbeatsOnSecond(service, "go-1");
  const second = `127.0.0.1:${nodes[1]!.port}`;
  await child.waitForLine(new RegExp(`^log keep-alive broke \\(.*\\); retrying on ${second} in 0s$`));

  // A change made through the second node reaches the helper's watch, resumed there after its revision.
  await nodes[1]!.client.unary(M.register, { serviceName: service, instanceId: "go-2", host: "127.0.0.1", port: 7202 });
  await child.waitForLine(/^event EVENT_TYPE_REGISTERED go-2 rev \d+$/, 10_000);
  // It asked the second node to resume after the last revision it had.
  const reconnected = await child.waitForLine(/^watch reconnected to /);
  expect(reconnected).toBe(`watch reconnected to ${second} after rev ${lastRevisionBefore(child.lines, /^watch disconnected/)}`);
  const afterSync = child.lines.slice(child.lines.indexOf(synced) + 1).filter((l) => l.startsWith("event "));
  expect(afterSync.filter((l) => /SNAPSHOT|RESET/.test(l))).toEqual([]);

  await outliveTheLease(killedAt);
  expect(summary(recording.events, "go-1")).toEqual(["REGISTERED"]);
  expect(child.lines.some((l) => l.startsWith("log registry lost the lease"))).toBe(false);

  await closeAndSeeUnregistered(child, recording, "go-1");
});

test("Python: register() and watch() given 'a,b' move to the second node when the first is killed: heartbeats go on, the watch resumes", async () => {
  const service = "py-failover";
  const recording = await recordEvents(nodes[1]!, service);
  const registrant = pythonClient.run(PYTHON_SCRIPT, { MODE: "register", REGISTRY: both(), SERVICE: service, INSTANCE_ID: "py-1", LOAD: "0.2", DRAIN_SECONDS: "0" });
  children.push(registrant);
  await registrant.waitForLine(/^registered py-1 every 1\.0s$/, 15_000);
  const follower = pythonClient.run(PYTHON_SCRIPT, { MODE: "follow", REGISTRY: both(), SERVICE: service });
  children.push(follower);
  await follower.waitForLine(/^view ready$/, 15_000);
  await follower.waitForLine(/^event SYNCED - \d+$/);

  const killedAt = await killFirstNodeAndSeeHeartbeatsOnSecond(service, "py-1");
  const second = `127.0.0.1:${nodes[1]!.port}`;
  const moved = new RegExp(`keep-alive broke \\(\\w+\\); retrying on ${second} in 0\\.00s`);
  await waitFor(() => moved.test(registrant.stderr.join("")), 5_000, "the keep-alive's move in the log");

  await nodes[1]!.client.unary(M.register, { serviceName: service, instanceId: "py-2", host: "127.0.0.1", port: 7302 });
  await follower.waitForLine(/^event REGISTERED py-2 \d+$/, 10_000);
  await follower.waitForLine(/^view py-1,py-2$/, 5_000);
  expect(await follower.waitForLine(/^reconnected /)).toBe(`reconnected ${second} ${lastRevisionBefore(follower.lines, /^disconnected$/)}`);
  expect(follower.lines.filter((l) => /^event (SNAPSHOT|RESET)/.test(l))).toEqual([expect.stringMatching(/^event SNAPSHOT py-1 \d+$/)]);

  await outliveTheLease(killedAt);
  expect(summary(recording.events, "py-1")).toEqual(["REGISTERED"]);
  expect(registrant.lines.filter((l) => l.startsWith("re-registered"))).toEqual([]);

  await closeAndSeeUnregistered(registrant, recording, "py-1");
});

test("a node that answers UNAVAILABLE (cut off from etcd) sends the Go and Python helpers' Register on to the next node", async () => {
  const health = new GrpcTestClient(Health, `127.0.0.1:${nodes[0]!.port}`);
  try {
    etcdProxy.pause();
    await waitFor(async () => (await health.unary(Health.method.check, { service: "" })).status === Serving.NOT_SERVING, 15_000, "node 0 NOT_SERVING");
  } finally {
    health.close();
  }
  // Node 0 is up and connected: only its answer says it cannot take the write.
  const refused = await nodes[0]!.client.unary(M.register, { serviceName: "cut", instanceId: "probe", host: "127.0.0.1", port: 1 }).then(
    () => undefined,
    (error: { code: number; details: string }) => error,
  );
  expect(refused).toMatchObject({ code: 14, details: expect.stringMatching(/etcd/) });

  const goChild = spawnChild(goExample, [], { REGISTRY: both(), SERVICE: "cut", INSTANCE_ID: "go-cut", PORT: "7203", TTL: "3s", DRAIN: "0s" });
  const pyChild = pythonClient.run(PYTHON_SCRIPT, { MODE: "register", REGISTRY: both(), SERVICE: "cut", INSTANCE_ID: "py-cut", DRAIN_SECONDS: "0" });
  children.push(goChild, pyChild);
  await goChild.waitForLine(/^registered cut go-cut$/, 15_000);
  await pyChild.waitForLine(/^registered py-cut every 1\.0s$/, 15_000);
  expect(await holderOf("cut", "go-cut")).toBe(nodes[1]!.nodeId);
  expect(await holderOf("cut", "py-cut")).toBe(nodes[1]!.nodeId);
  etcdProxy.resume();
});
