// Cluster mode: a registry node cut off from etcd for longer than the history it
// needs survives (real registry processes, real 3-member etcd). While it is away
// the others change the registry and etcd compacts past its watch; when etcd is
// reachable again the node reloads, sends its Watch subscribers RESET and a fresh
// snapshot, and goes on serving live events and writes, neither erroring nor stalling.
import { DiscoveryService, EventType, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../gen/grpc/health/v1/health_pb";
import { StreamReader } from "../helpers/grpc-client";
import { startCutOffPair, type CutOffPair } from "../helpers/cut-off-pair";
import type { RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(120_000);
const M = DiscoveryService.method;
const PREFIX = "/cluster-resync/";
const SERVICE = "resync";

let pair: CutOffPair;
let cut: RegistryNode;
let other: RegistryNode;

beforeAll(async () => {
  // The node under test reaches etcd only through a proxy the test can pause.
  pair = await startCutOffPair({ prefix: PREFIX, name: "resync" });
  ({ cut, other } = pair);
});

afterAll(() => pair?.close());

const register = (node: RegistryNode, instanceId: string) =>
  node.client.unary(M.register, { serviceName: SERVICE, instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: 60n } });
const list = async (node: RegistryNode) => (await node.client.unary(M.listInstances, { serviceName: SERVICE })).instances.map((i) => i.instanceId).sort();
const serverHealth = async () => (await pair.cutHealth.unary(Health.method.check, { service: "" })).status;

test("a node whose last revision was compacted while etcd was unreachable reloads and RESETs its watchers with a fresh snapshot, then serves on", async () => {
  await register(other, "before-1");
  await register(other, "before-2");
  await waitFor(async () => (await list(cut)).length === 2, 10_000, "both instances on the node under test");

  const stream = cut.client.serverStream(M.watch, { serviceNames: [SERVICE] });
  stream.on("error", () => undefined);
  const reader = new StreamReader<WatchEvent>(stream);
  const initial: WatchEvent[] = [];
  let initialSynced: WatchEvent;
  for (initialSynced = await reader.next(10_000); initialSynced.type !== EventType.SYNCED; initialSynced = await reader.next(10_000)) initial.push(initialSynced);
  expect(initial.filter((e) => e.type === EventType.SNAPSHOT).map((e) => e.instance?.instanceId).sort()).toEqual(["before-1", "before-2"]);

  pair.proxy.pause();
  await waitFor(async () => (await serverHealth()) === Serving.NOT_SERVING, 20_000, "NOT_SERVING while etcd is unreachable");

  // Meanwhile the rest of the cluster moves on, and etcd forgets the history in between.
  await other.client.unary(M.unregister, { serviceName: SERVICE, instanceId: "before-1" });
  await register(other, "during-1");
  await register(other, "during-2");
  const compactedAt = await pair.etcd.compact();
  expect(await list(cut)).toEqual(["before-1", "before-2"]); // still the last known state

  pair.proxy.resume();
  // The stream stays open: RESET (history-compacted), the new state, SYNCED.
  const reset = await reader.next(30_000);
  expect(EventType[reset.type]).toBe("RESET");
  expect(reset.reason).toBe("history-compacted");
  expect(Number(reset.revision)).toBeGreaterThanOrEqual(compactedAt);
  const resynced: WatchEvent[] = [];
  let synced: WatchEvent;
  for (synced = await reader.next(10_000); synced.type !== EventType.SYNCED; synced = await reader.next(10_000)) resynced.push(synced);
  expect(resynced.map((e) => [EventType[e.type], e.instance?.instanceId]).sort()).toEqual([
    ["SNAPSHOT", "before-2"],
    ["SNAPSHOT", "during-1"],
    ["SNAPSHOT", "during-2"],
  ]);
  expect(synced.revision).toBe(reset.revision);
  expect(await list(cut)).toEqual(["before-2", "during-1", "during-2"]);
  await waitFor(async () => (await serverHealth()) === Serving.SERVING, 20_000, "SERVING again");

  // Live events follow on the same stream, from either node; writes through the node under test work.
  await register(other, "after-1");
  const live = await reader.next(10_000);
  expect([EventType[live.type], live.instance?.instanceId]).toEqual(["REGISTERED", "after-1"]);
  expect(live.revision).toBeGreaterThan(synced.revision);
  await register(cut, "after-2");
  const own = await reader.next(10_000);
  expect([EventType[own.type], own.instance?.instanceId]).toEqual(["REGISTERED", "after-2"]);
  await waitFor(async () => (await list(other)).includes("after-2"), 10_000, "the write through the node under test on the other node");
  stream.cancel();

  // A gateway resuming on it from before the compaction gets a RESET and the snapshot, never an error.
  expect(Number(initialSynced.revision)).toBeLessThan(compactedAt);
  const resumed = cut.client.serverStream(M.watch, { serviceNames: [SERVICE], sinceRevision: initialSynced.revision });
  resumed.on("error", () => undefined);
  const resumedReader = new StreamReader<WatchEvent>(resumed);
  const first = await resumedReader.next(10_000);
  expect([EventType[first.type], first.reason]).toEqual(["RESET", "history-compacted"]);
  resumed.cancel();
});
