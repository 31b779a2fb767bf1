// Cluster mode: a registry node cut off from etcd (etcd itself up) for longer than
// its instance lease (real registry processes, real 3-member etcd, the node's link
// cut through a pausable proxy). etcd drops both of its leases meanwhile; the other
// node adopts its instances. When the link returns the node catches up, grants
// itself fresh leases and takes writes again; clients that kept heartbeating
// through the other node never lose their instance, silent ones expire once.
import type { ClientReadableStream } from "@grpc/grpc-js";
import { DiscoveryService, EventType, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../gen/grpc/health/v1/health_pb";
import { startCutOffPair, type CutOffPair } from "../helpers/cut-off-pair";
import type { RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";
import { WatchState } from "../helpers/watch-state";

jest.setTimeout(150_000);
const M = DiscoveryService.method;
const PREFIX = "/cluster-lease-loss/";
const SERVICE = "leaseloss";
/** The cut node's instance lease (DISCOVERY_INSTANCE_LEASE_SECONDS), shortened so the test waits seconds, not 30. */
const INSTANCE_LEASE_SECONDS = 5;
/** How long the node stays cut off: past its instance lease, whatever the last renewal before the cut. */
const CUT_MS = (INSTANCE_LEASE_SECONDS + 4) * 1000;
const KEPT = ["kept-1", "kept-2"];
const SILENT = "silent";

let pair: CutOffPair;
let cut: RegistryNode;
let other: RegistryNode;

/** Every event one node's Watch sent, and the state it describes. */
interface Recorded {
  readonly stream: ClientReadableStream<WatchEvent>;
  readonly events: WatchEvent[];
  readonly state: WatchState;
}

beforeAll(async () => {
  pair = await startCutOffPair({ prefix: PREFIX, name: "lease-loss", env: { DISCOVERY_INSTANCE_LEASE_SECONDS: String(INSTANCE_LEASE_SECONDS) } });
  ({ cut, other } = pair);
});

afterAll(() => pair?.close());

const register = (node: RegistryNode, instanceId: string, ttlSeconds = 3n) =>
  node.client.unary(M.register, { serviceName: SERVICE, instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: ttlSeconds } });
const heartbeat = (node: RegistryNode, instanceId: string) => node.client.unary(M.heartbeat, { serviceName: SERVICE, instanceId });
const list = async (node: RegistryNode) => (await node.client.unary(M.listInstances, { serviceName: SERVICE })).instances.map((i) => i.instanceId).sort();
const cutServing = async () => (await pair.cutHealth.unary(Health.method.check, { service: "" })).status === Serving.SERVING;

function record(node: RegistryNode): Recorded {
  const stream = node.client.serverStream(M.watch, { serviceNames: [SERVICE] });
  const recorded: Recorded = { stream, events: [], state: new WatchState() };
  stream.on("data", (event: WatchEvent) => {
    recorded.events.push(event);
    recorded.state.apply(event);
  });
  stream.on("error", () => undefined);
  return recorded;
}

/** The removals (EXPIRED, UNREGISTERED) a Watch sent for `instanceId`. */
const removalsOf = (recorded: Recorded, instanceId: string) =>
  recorded.events.filter((e) => e.instance?.instanceId === instanceId && (e.type === EventType.EXPIRED || e.type === EventType.UNREGISTERED)).map((e) => EventType[e.type]);

test("a node cut off from etcd longer than its instance lease catches up, takes writes again, and loses no heartbeating instance", async () => {
  for (const id of [...KEPT, SILENT]) await register(cut, id);
  await waitFor(async () => (await list(other)).length === 3, 10_000, "the cut node's instances on the other node");
  const watches = [record(cut), record(other)];
  await waitFor(() => watches.every((w) => w.state.synced && w.state.instances.size === 3), 10_000, "both Watches synced");

  // The kept instances' clients heartbeat throughout: through the cut node first, then (as the SDK fails over) the other.
  let via = cut;
  let cutOff = false;
  const heartbeatFailures: string[] = [];
  let heartbeating = true;
  const heartbeats = (async () => {
    while (heartbeating) {
      const target = via;
      await Promise.all(KEPT.map((id) => heartbeat(target, id).catch((error: Error) => void ((target === other || !cutOff) && heartbeatFailures.push(`${id} via ${target.nodeId}: ${error.message}`)))));
      await new Promise((r) => setTimeout(r, 400));
    }
  })();

  try {
    cutOff = true;
    pair.proxy.pause();
    via = other;
    const cutAt = Date.now();
    await waitFor(async () => !(await cutServing()), 20_000, "the cut node NOT_SERVING");
    await register(other, "during-cut", 60n);
    // The silent client's instance is adopted by the other node and expires there.
    await waitFor(async () => !(await list(other)).includes(SILENT), 20_000, "the silent instance expired on the other node");
    await new Promise((r) => setTimeout(r, Math.max(0, CUT_MS - (Date.now() - cutAt))));
    pair.proxy.resume();

    // Writes through the cut node, as soon as it says it serves again.
    await waitFor(cutServing, 30_000, "the cut node SERVING again");
    await register(cut, "after-cut", 60n);
    await heartbeat(cut, "after-cut");
    await heartbeat(cut, "during-cut");
    await cut.client.unary(M.unregister, { serviceName: SERVICE, instanceId: "after-cut" });
    await register(cut, "after-cut-2", 60n);
    // A kept client comes back to the cut node: its heartbeats move the lease there again.
    cutOff = false;
    via = cut;
    await heartbeat(cut, "kept-1");

    const expected = ["after-cut-2", "during-cut", ...KEPT].sort();
    await waitFor(async () => JSON.stringify(await list(other)) === JSON.stringify(expected), 10_000, "the other node's reads");
    expect(await list(cut)).toEqual(expected);
    await waitFor(() => watches.every((w) => JSON.stringify(w.state.summary()) === JSON.stringify(watches[1]!.state.summary()) && w.state.instances.size === expected.length), 10_000, "both Watches agree");

    // Past the kept instances' TTL (3 s) and a node TTL (2 s) more: heartbeats, now through the cut node, keep them.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await list(cut)).toEqual(expected);
    expect(await list(other)).toEqual(expected);
  } finally {
    heartbeating = false;
    await heartbeats;
  }
  expect(heartbeatFailures).toEqual([]);
  for (const w of watches) {
    for (const id of KEPT) expect(removalsOf(w, id)).toEqual([]);
    expect(removalsOf(w, SILENT)).toEqual(["EXPIRED"]);
    expect(removalsOf(w, "after-cut")).toEqual(["UNREGISTERED"]);
    expect(w.state.resets).toBe(0);
    w.stream.cancel();
  }
  // The scenario happened: etcd had dropped the cut node's instance lease, and the node granted itself a fresh one.
  expect(cut.process.logs.some((l) => l.msg === "instance lease lost; granted a fresh one")).toBe(true);
});
