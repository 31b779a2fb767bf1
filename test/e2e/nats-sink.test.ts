// The NATS sink against a real nats-server (Debian's): events as Connect JSON
// on <prefix>.events.<service>, summaries on <prefix>.health.*, a bounded buffer
// while NATS is away, the buffered events delivered when it comes back.
import { fromJson } from "@bufbuild/protobuf";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import pino from "pino";
import { Registry as PromRegistry } from "prom-client";
import { EventType, WatchEventSchema } from "../../gen/discovery/v1/discovery_pb";
import { Registry } from "../../src/core/registry";
import { MemoryStore } from "../../src/store/memory/memory-store";
import type { RegistryEvent } from "../../src/core/types";
import { startNatsSink, type NatsSink } from "../../src/sinks/nats-sink";
import { createSinkMetrics } from "../../src/sinks/sink-metrics";
import { ManualClock } from "../helpers/manual-clock";
import { parsePrometheus, valueOf } from "../helpers/prometheus-text";
import { startGate, startNatsServer, type PeerProcess } from "../helpers/real-peers";
import { waitFor } from "../helpers/wait-for";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const decoder = new TextDecoder();

interface Received {
  subject: string;
  json: Record<string, unknown>;
}

/** A subscriber that collects what arrives on `subject`, connected straight to nats-server. */
async function subscriber(port: number, subject: string): Promise<{ nc: NatsConnection; sub: Subscription; received: Received[] }> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
  const received: Received[] = [];
  const sub = nc.subscribe(subject, { callback: (_error, msg) => {
      received.push({ subject: msg.subject, json: JSON.parse(decoder.decode(msg.data)) as Record<string, unknown> });
    },
  });
  await nc.flush();
  return { nc, sub, received };
}

const register = (registry: Registry, serviceName: string, instanceId: string, load?: number) =>
  registry.register({ serviceName, instanceId, host: "10.0.0.1", port: 80, healthEndpoint: "", metadata: {}, ttlMs: undefined, load });

describe("NATS sink", () => {
  let nats: PeerProcess;
  let lifetime: AbortController;
  let registry: Registry;
  let sinks: NatsSink[];
  let subscribers: NatsConnection[];

  beforeEach(async () => {
    nats = await startNatsServer();
    lifetime = new AbortController();
    registry = new Registry({ store: new MemoryStore({ baseRevision: 1000, historySize: 100 }), clock: new ManualClock(), newInstanceId: () => "generated" });
    sinks = [];
    subscribers = [];
  });
  afterEach(async () => {
    lifetime.abort();
    await Promise.all(sinks.map((s) => s.closed));
    await Promise.all(subscribers.map((nc) => nc.close()));
    await nats.stop();
  });

  const start = (options: Partial<Parameters<typeof startNatsSink>[0]> & { url: string }) => {
    const sink = startNatsSink({ registry, logger, signal: lifetime.signal, reconnectWaitMs: 50, ...options });
    sinks.push(sink);
    return sink;
  };
  const listen = async (port: number, subject: string) => {
    const s = await subscriber(port, subject);
    subscribers.push(s.nc);
    return s;
  };

  test("publishes every event as the Connect JSON of WatchEvent on <prefix>.events.<service>", async () => {
    const { received } = await listen(nats.port, "disco.events.>");
    start({ url: `127.0.0.1:${nats.port}`, subjectPrefix: "disco" });
    register(registry, "orders", "o-1");
    registry.heartbeat({ serviceName: "orders", instanceId: "o-1", load: 0.95 });
    register(registry, "users", "u-1");
    await waitFor(() => received.length === 3, 5000, "three events");
    expect(received.map((r) => r.subject)).toEqual(["disco.events.orders", "disco.events.orders", "disco.events.users"]);
    const events = received.map((r) => fromJson(WatchEventSchema, r.json as never));
    expect(events.map((e) => e.type)).toEqual([EventType.REGISTERED, EventType.LOAD_CRITICAL, EventType.REGISTERED]);
    expect(events[1]!.instance).toMatchObject({ serviceName: "orders", instanceId: "o-1", loadPercentage: 0.95, criticalLoad: true });
    expect(received[1]!.json).toMatchObject({ type: "EVENT_TYPE_LOAD_CRITICAL", instance: { serviceName: "orders", criticalLoad: true } });
  });

  test("publishes a summary per service and a global one every interval", async () => {
    const { received } = await listen(nats.port, "discovery.health.>");
    register(registry, "orders", "o-1", 0.9);
    register(registry, "orders", "o-2", 0.5);
    register(registry, "users", "u-1", 0.1);
    start({ url: `127.0.0.1:${nats.port}`, summaryIntervalMs: 50, now: () => Date.UTC(2026, 0, 1) });
    await waitFor(() => received.filter((r) => r.subject === "discovery.health.global").length >= 2, 5000, "two summary rounds");
    const [orders, users, global] = received.slice(0, 3);
    expect(orders).toMatchObject({ subject: "discovery.health.orders", json: { service_name: "orders", scope: "service", instance_count: 2, healthy_count: 2, critical_load_count: 1, average_load: 0.7, time: "2026-01-01T00:00:00.000Z" } });
    expect(users).toMatchObject({ subject: "discovery.health.users", json: { instance_count: 1, critical_load_count: 0, average_load: 0.1 } });
    expect(global).toMatchObject({ subject: "discovery.health.global", json: { scope: "global", instance_count: 3, healthy_count: 3, critical_load_count: 1 } });
    expect(global!.json.average_load as number).toBeCloseTo(0.5);
  });

  test("while NATS is away it buffers; when NATS comes back the buffered events arrive in order", async () => {
    const gate = await startGate(nats.port);
    const { nc: watcher, received } = await listen(nats.port, "discovery.events.>");
    start({ url: `127.0.0.1:${gate.port}` });
    register(registry, "orders", "before");
    await waitFor(() => received.length === 1, 5000, "the first event");

    // NATS goes away: the server process stops, and the sink's way to it closes.
    const reconnected = waitForStatus(watcher, "reconnect");
    await gate.close();
    await nats.stop();
    for (const id of ["away-1", "away-2", "away-3"]) register(registry, "orders", id);
    // One may be in a batch handed to the client before it saw the loss; its failed flush puts it back.
    await waitFor(() => sinks[0]!.queued === 3, 5000, "three buffered");

    // NATS comes back on the same port; the watcher resubscribes before the sink may reach it.
    nats = await startNatsServer(nats.port);
    await reconnected;
    await watcher.flush();
    await gate.open();
    await waitFor(() => received.length === 4, 10_000, "the buffered events");
    expect(received.map((r) => (r.json.instance as { instanceId: string }).instanceId)).toEqual(["before", "away-1", "away-2", "away-3"]);
    expect(sinks[0]!.queued).toBe(0);
    await gate.close();
  });

  test("past NATS_BUFFER_LIMIT the oldest are dropped and counted; the registry never waits", async () => {
    const gate = await startGate(nats.port);
    const { received } = await listen(nats.port, "discovery.events.>");
    const metricsRegistry = new PromRegistry();
    start({ url: `127.0.0.1:${gate.port}`, bufferLimit: 5, metrics: createSinkMetrics(metricsRegistry) });
    register(registry, "orders", "first");
    await waitFor(() => received.length === 1, 5000, "the first event");
    await gate.close();
    const started = performance.now();
    for (let i = 1; i <= 8; i++) register(registry, "orders", `away-${i}`);
    expect(performance.now() - started).toBeLessThan(100);
    expect(sinks[0]!.queued).toBeLessThanOrEqual(5);
    const dropped = async () => valueOf(parsePrometheus(await metricsRegistry.metrics()), "discovery_sink_messages_total", { sink: "nats", result: "dropped" });
    await waitFor(async () => (await dropped()) === 3, 5000, "three dropped");
    const text = await metricsRegistry.metrics();
    expect(valueOf(parsePrometheus(text), "discovery_sink_messages_total", { sink: "nats", result: "dropped" })).toBe(3);
    expect(valueOf(parsePrometheus(text), "discovery_sink_queue_length", { sink: "nats" })).toBe(5);
    await gate.open();
    await waitFor(() => received.length === 6, 10_000, "the kept events");
    expect(received.slice(1).map((r) => (r.json.instance as { instanceId: string }).instanceId)).toEqual(["away-4", "away-5", "away-6", "away-7", "away-8"]);
    // "delivered" counts a batch once NATS acknowledges it, which can come after the subscriber saw it.
    const delivered = async () => valueOf(parsePrometheus(await metricsRegistry.metrics()), "discovery_sink_messages_total", { sink: "nats", result: "delivered" });
    await waitFor(async () => (await delivered()) === 6, 5_000, "the six acknowledged");
    expect(await delivered()).toBe(6);
    await gate.close();
  });

  test("with an ownership that declines, this node publishes nothing (cluster mode's hook)", async () => {
    const { received } = await listen(nats.port, "discovery.>");
    const owned = (event: RegistryEvent) => event.instance.serviceName === "mine";
    start({ url: `127.0.0.1:${nats.port}`, ownership: { admit: (event, reason, publish) => owned(event) && publish(event, reason), ownsSummaries: () => false } });
    register(registry, "theirs", "t-1");
    register(registry, "mine", "m-1");
    await waitFor(() => received.length >= 1, 5000, "the owned event");
    sinks[0]!.publishSummaries();
    register(registry, "mine", "m-2");
    await waitFor(() => received.length >= 2, 5000, "the second owned event");
    expect(received.map((r) => r.subject)).toEqual(["discovery.events.mine", "discovery.events.mine"]);
  });

  test("a NATS that is down at start is retried; events wait for it", async () => {
    const gate = await startGate(nats.port);
    await gate.close();
    const { received } = await listen(nats.port, "discovery.events.>");
    start({ url: `127.0.0.1:${gate.port}` });
    register(registry, "orders", "early");
    await new Promise((resolve) => setTimeout(resolve, 150)); // a few failed connect attempts
    expect(sinks[0]!.queued).toBe(1);
    await gate.open();
    await waitFor(() => received.length === 1, 10_000, "the early event");
    await gate.close();
  });
});

/** Resolves at the connection's next status of this type. */
async function waitForStatus(nc: NatsConnection, type: string): Promise<void> {
  for await (const status of nc.status()) if (status.type === type) return;
}
