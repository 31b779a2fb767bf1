// Cluster mode: a node that fell behind etcd says so (real registry processes, real
// 3-member etcd). Cut off from etcd while another node changes the registry, it reports
// NOT_SERVING (the server "" and the discovery API) until it has taken in everything etcd
// had when its watch came back, or reloaded after a compaction; SERVING comes only once
// its ListInstances shows the changes it missed.
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving, type HealthCheckResponse } from "../../gen/grpc/health/v1/health_pb";
import { StreamReader } from "../helpers/grpc-client";
import { startCutOffPair, type CutOffPair } from "../helpers/cut-off-pair";
import type { RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(180_000);
const M = DiscoveryService.method;
const PREFIX = "/cluster-catch-up/";
const SERVICE = "catch-up";
/** Enough missed changes (about 3 MB of records) that replaying them takes the node a while after its watch is back. */
const MISSED = 600;
const METADATA = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, "v".repeat(480)]));

let pair: CutOffPair;
let cut: RegistryNode;
let other: RegistryNode;

beforeAll(async () => {
  // The node under test reaches etcd only through a proxy the test can pause.
  pair = await startCutOffPair({ prefix: PREFIX, name: "catch-up" });
  ({ cut, other } = pair);
});

afterAll(() => pair?.close());

const register = (node: RegistryNode, instanceId: string) =>
  node.client.unary(M.register, { serviceName: SERVICE, instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: 120n }, metadata: METADATA });
const list = async (node: RegistryNode) => (await node.client.unary(M.listInstances, { serviceName: SERVICE })).instances.map((i) => i.instanceId).sort();
const check = async (service: string) => (await pair.cutHealth.unary(Health.method.check, { service })).status;

/** Registers `ids` through `node`, a few calls in flight at a time. */
async function registerAll(node: RegistryNode, ids: readonly string[]): Promise<void> {
  const queue = [...ids];
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) await register(node, id);
  }));
}

/** The health of "" on the node under test, as its Watch stream reports it. */
function watchServerHealth(): { reader: StreamReader<HealthCheckResponse>; cancel: () => void } {
  const stream = pair.cutHealth.serverStream(Health.method.watch, { service: "" });
  stream.on("error", () => undefined);
  return { reader: new StreamReader<HealthCheckResponse>(stream), cancel: () => stream.cancel() };
}

/** Waits for SERVING, opens a health Watch on the node under test, cuts it off and reads NOT_SERVING. */
async function cutOff(): Promise<{ reader: StreamReader<HealthCheckResponse>; cancel: () => void }> {
  await waitFor(async () => (await check("")) === Serving.SERVING, 15_000, "SERVING before the cut");
  const health = watchServerHealth();
  expect((await health.reader.next(10_000)).status).toBe(Serving.SERVING);
  pair.proxy.pause();
  expect((await health.reader.next(20_000)).status).toBe(Serving.NOT_SERVING);
  return health;
}

/** Reads the Watch until it says `status`; the view is read the moment it does. */
async function untilStatus(reader: StreamReader<HealthCheckResponse>, status: Serving, timeoutMs: number): Promise<string[]> {
  for (;;) {
    const message = await reader.next(timeoutMs);
    if (message.status === status) return list(cut);
  }
}

test("a node whose watch was cut reports NOT_SERVING until it has caught up with the changes made meanwhile, SERVING once its reads show them", async () => {
  await registerAll(other, ["kept", "removed"]);
  await waitFor(async () => (await list(cut)).length === 2, 15_000, "both instances on the node under test");
  const health = await cutOff();
  try {
    expect(await check(DiscoveryService.typeName)).toBe(Serving.NOT_SERVING);

    // The rest of the cluster moves on while the node is away.
    const missed = Array.from({ length: MISSED }, (_, i) => `missed-${String(i).padStart(4, "0")}`);
    await other.client.unary(M.unregister, { serviceName: SERVICE, instanceId: "removed" });
    await registerAll(other, missed);
    const expected = ["kept", ...missed].sort();
    expect(await list(other)).toEqual(expected);
    expect(await check("")).toBe(Serving.NOT_SERVING);

    pair.proxy.resume();
    // The first SERVING the node reports after the outage already comes with every change it missed.
    expect(await untilStatus(health.reader, Serving.SERVING, 60_000)).toEqual(expected);
    expect(await check(DiscoveryService.typeName)).toBe(Serving.SERVING);
  } finally {
    health.cancel();
  }
});

test("a node whose watch position was compacted away stays NOT_SERVING through the reload, SERVING once its reads show the fresh state", async () => {
  const before = await list(other);
  const health = await cutOff();
  try {
    await other.client.unary(M.unregister, { serviceName: SERVICE, instanceId: "kept" });
    await registerAll(other, ["after-compaction-1", "after-compaction-2"]);
    await pair.etcd.compact();
    const expected = [...before.filter((id) => id !== "kept"), "after-compaction-1", "after-compaction-2"].sort();

    pair.proxy.resume();
    expect(await untilStatus(health.reader, Serving.SERVING, 60_000)).toEqual(expected);
  } finally {
    health.cancel();
  }
});

test("a catch-up larger than one gRPC message (ETCD_MAX_RECEIVE_BYTES) still completes: etcd sends it in fragments", async () => {
  // 300 instances with the largest metadata the registry takes: about 11 MB of records missed, more than 8 MiB.
  const biggest = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`key-${String(i).padStart(2, "0")}`, "v".repeat(512)]));
  const ids = Array.from({ length: 300 }, (_, i) => `big-${String(i).padStart(3, "0")}`);
  const health = await cutOff();
  try {
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift())
          await other.client.unary(M.register, { serviceName: "catch-up-big", instanceId: id, host: "10.0.0.1", port: 8080, ttl: { seconds: 120n }, metadata: biggest });
      }),
    );
    const written = await other.client.unary(M.listServices, {});
    pair.proxy.resume();
    expect((await health.reader.next(90_000)).status).toBe(Serving.SERVING);
    // (A ListInstances of them all would pass the test client's own 4 MiB limit.)
    const seen = await cut.client.unary(M.listServices, {});
    expect(seen.services.find((s) => s.serviceName === "catch-up-big")?.instanceCount).toBe(ids.length);
    expect(seen.revision).toBeGreaterThanOrEqual(written.revision);
  } finally {
    health.cancel();
  }
});
