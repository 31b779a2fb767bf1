// Cluster mode: the sinks after a compaction resync (real registry processes, real
// 3-member etcd, real nats-server, a real webhook receiver). While a node is cut off
// from etcd, the rest of the cluster registers, unregisters, re-registers, updates,
// marks unhealthy and loads instances, and etcd compacts past the node's watch. When
// it reloads, its NATS and webhook sinks publish the differences as events marked
// reason "history-compacted", and a NATS subscriber that built its view from the
// events ends with the registry's view.
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DiscoveryService, EventType, HealthStatus, WatchEventSchema, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { startCutOffPair, type CutOffPair } from "../helpers/cut-off-pair";
import { startNatsServer, type PeerProcess } from "../helpers/real-peers";
import type { RegistryNode } from "../helpers/registry-nodes";
import { waitFor } from "../helpers/wait-for";
import { summarize, WatchState } from "../helpers/watch-state";
import { Receiver } from "../helpers/webhook-receiver";

jest.setTimeout(180_000);
const M = DiscoveryService.method;
const SERVICE = "resync-sinks";
const RESYNC_REASON = "history-compacted";

let nats: PeerProcess;
let receiver: Receiver;
let pair: CutOffPair;
let cut: RegistryNode;
let other: RegistryNode;
let subscriber: NatsConnection;
/** What a NATS subscriber heard from the node under test, in order, and the view it built. */
const heard: { event: WatchEvent; json: Record<string, unknown> }[] = [];
const natsView = new WatchState();

beforeAll(async () => {
  nats = await startNatsServer();
  receiver = await Receiver.start();
  subscriber = await connect({ servers: `127.0.0.1:${nats.port}` });
  subscriber.subscribe("discovery.events.>", {
    callback: (_error, msg) => {
      const json = JSON.parse(new TextDecoder().decode(msg.data)) as Record<string, unknown>;
      const event = fromJson(WatchEventSchema, json as JsonValue);
      heard.push({ event, json });
      natsView.apply(event);
    },
  });
  await subscriber.flush();
  // Only the node under test publishes: what the subscriber knows comes from it alone.
  pair = await startCutOffPair({
    prefix: "/cluster-resync-sinks/",
    name: "resync-sinks",
    cutEnv: { NATS_URL: `127.0.0.1:${nats.port}`, DISCOVERY_WEBHOOK_URLS: receiver.url.href, DISCOVERY_WEBHOOK_EVENTS: "REGISTERED,UPDATED,HEALTH_CHANGED,LOAD_CRITICAL,LOAD_NORMAL,UNREGISTERED,EXPIRED" },
  });
  ({ cut, other } = pair);
  await waitFor(() => pair.cut.process.logs.some((entry) => entry.msg === "NATS sink connected"), 30_000, "the NATS sink connected");
});

afterAll(async () => {
  await pair?.close();
  await subscriber?.close();
  await receiver?.close();
  await nats?.stop();
});

const register = (instanceId: string, metadata: Record<string, string> = {}) =>
  other.client.unary(M.register, { serviceName: SERVICE, instanceId, host: "10.0.0.1", port: 8080, ttl: { seconds: 120n }, metadata });
const unregister = (instanceId: string) => other.client.unary(M.unregister, { serviceName: SERVICE, instanceId });
const listed = async (node: RegistryNode) => (await node.client.unary(M.listInstances, { serviceName: SERVICE })).instances;

test("after a compaction resync, NATS and webhooks get the differences as events and a NATS subscriber ends with the registry's view", async () => {
  for (const id of ["same", "gone", "meta", "sick", "hot", "back"]) await register(id, { v: "1" });
  await waitFor(async () => summarize(await listed(cut)).length === 6, 15_000, "six instances on the node under test");
  await waitFor(async () => JSON.stringify(natsView.summary()) === JSON.stringify(summarize(await listed(cut))), 15_000, "the NATS view before the cut");

  pair.proxy.pause();
  await unregister("gone");
  await register("new", { v: "1" });
  await register("meta", { v: "2" }); // attributes changed: UPDATED
  await other.client.unary(M.heartbeat, { serviceName: SERVICE, instanceId: "sick", status: HealthStatus.UNHEALTHY });
  await other.client.unary(M.heartbeat, { serviceName: SERVICE, instanceId: "hot", loadPercentage: 0.95 });
  await unregister("back");
  await register("back", { v: "1" }); // left and came back
  const compactedAt = await pair.etcd.compact();
  const heardBeforeResume = heard.length;
  pair.proxy.resume();

  // The subscriber's view, built from events alone, becomes the registry's.
  const expected = summarize(await listed(other));
  expect(expected).toHaveLength(6);
  await waitFor(async () => JSON.stringify(natsView.summary()) === JSON.stringify(expected), 60_000, "the NATS view after the resync");
  expect(summarize(await listed(cut))).toEqual(expected);
  expect(natsView.instances.get(`${SERVICE}/meta`)?.metadata).toEqual({ v: "2" });

  const reconstructed = heard.slice(heardBeforeResume);
  expect(reconstructed.every(({ json }) => json.reason === RESYNC_REASON)).toBe(true);
  expect(reconstructed.every(({ event }) => Number(event.revision) > 0 && Number(event.revision) <= Number(reconstructed.at(-1)!.event.revision))).toBe(true);
  expect(reconstructed.map(({ event }) => [EventType[event.type], event.instance?.instanceId]).sort()).toEqual(
    [
      ["HEALTH_CHANGED", "sick"],
      ["LOAD_CRITICAL", "hot"],
      ["REGISTERED", "back"],
      ["REGISTERED", "new"],
      ["UNREGISTERED", "back"],
      ["UNREGISTERED", "gone"],
      ["UPDATED", "meta"],
    ].sort(),
  );
  const sick = reconstructed.find(({ event }) => event.type === EventType.HEALTH_CHANGED)!.event;
  expect([sick.previousStatus, sick.instance?.status]).toEqual([HealthStatus.HEALTHY, HealthStatus.UNHEALTHY]);
  // The instance that left came back: UNREGISTERED before REGISTERED.
  const back = reconstructed.filter(({ event }) => event.instance?.instanceId === "back").map(({ event }) => EventType[event.type]);
  expect(back).toEqual(["UNREGISTERED", "REGISTERED"]);
  expect(Number(reconstructed.find(({ event }) => event.type === EventType.UNREGISTERED && event.instance?.instanceId === "gone")!.event.revision)).toBeGreaterThanOrEqual(compactedAt);

  // The webhook receiver gets the same reconstructed events, each marked.
  await waitFor(() => receiver.hooks.filter((h) => h.body.includes(RESYNC_REASON)).length === reconstructed.length, 30_000, "the reconstructed webhooks");
  const hooks = receiver.hooks.filter((h) => h.body.includes(RESYNC_REASON)).map((h) => [h.headers["x-discovery-event"], (JSON.parse(h.body) as { instance: { instanceId: string } }).instance.instanceId]);
  expect(hooks.sort()).toEqual(reconstructed.map(({ event }) => [EventType[event.type], event.instance?.instanceId]).sort());
});
