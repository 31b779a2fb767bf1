// Webhooks against a real HTTP receiver on loopback: the chosen event types,
// signed bodies, retries with backoff after failures, bounded in flight and
// queued with counted drops, and targets vetted before every attempt.
import { createHmac } from "node:crypto";
import pino from "pino";
import { Registry as PromRegistry } from "prom-client";
import { Registry } from "../../src/core/registry";
import { MemoryStore } from "../../src/store/memory/memory-store";
import { createSinkMetrics } from "../../src/sinks/sink-metrics";
import { startWebhookSink, type WebhookSinkOptions } from "../../src/sinks/webhook-sink";
import { ManualClock } from "../helpers/manual-clock";
import { parsePrometheus, valueOf } from "../helpers/prometheus-text";
import { waitFor } from "../helpers/wait-for";
import { Receiver } from "../helpers/webhook-receiver";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

describe("webhook sink", () => {
  let receiver: Receiver;
  let lifetime: AbortController;
  let registry: Registry;
  let metricsRegistry: PromRegistry;
  let closers: Promise<void>[];

  beforeEach(async () => {
    receiver = await Receiver.start();
    lifetime = new AbortController();
    registry = new Registry({ store: new MemoryStore({ baseRevision: 1000, historySize: 100 }), clock: new ManualClock(), newInstanceId: () => "generated" });
    metricsRegistry = new PromRegistry();
    closers = [];
  });
  afterEach(async () => {
    lifetime.abort();
    await receiver.close();
    await Promise.all(closers);
  });

  const start = (options: Partial<WebhookSinkOptions> = {}) => {
    const sink = startWebhookSink({ urls: [receiver.url], registry, logger, signal: lifetime.signal, metrics: createSinkMetrics(metricsRegistry), backoffBaseMs: 5, backoffMaxMs: 20, ...options });
    closers.push(sink.closed);
    return sink;
  };
  const count = async (result: string) => valueOf(parsePrometheus(await metricsRegistry.metrics()), "discovery_sink_messages_total", { sink: "webhook", result }) ?? 0;
  const register = (id: string, load?: number) => registry.register({ serviceName: "orders", instanceId: id, host: "10.0.0.1", port: 80, healthEndpoint: "", metadata: {}, ttlMs: undefined, load });
  const critical = (id: string) => registry.heartbeat({ serviceName: "orders", instanceId: id, load: 0.99 });

  test("POSTs the chosen event types as Connect JSON, signed with the secret's HMAC", async () => {
    start({ secret: "hook-secret" });
    register("o-1"); // REGISTERED: not in the default set
    critical("o-1"); // LOAD_CRITICAL: sent
    // Counted once the receiver's answer is read, which is after it recorded the request.
    await waitFor(async () => (await count("delivered")) === 1, 5000, "one delivery");
    expect(receiver.hooks).toHaveLength(1);
    const [hook] = receiver.hooks;
    expect(hook!.headers["x-discovery-event"]).toBe("LOAD_CRITICAL");
    expect(hook!.headers["content-type"]).toBe("application/json");
    const expected = "sha256=" + createHmac("sha256", "hook-secret").update(hook!.body).digest("hex");
    expect(hook!.headers["x-discovery-signature"]).toBe(expected);
    expect(JSON.parse(hook!.body)).toMatchObject({ type: "EVENT_TYPE_LOAD_CRITICAL", instance: { serviceName: "orders", instanceId: "o-1", criticalLoad: true } });
  });

  test("DISCOVERY_WEBHOOK_EVENTS chooses the types; every URL gets each event", async () => {
    const second = await Receiver.start();
    try {
      start({ urls: [receiver.url, second.url], events: ["REGISTERED"] });
      register("o-1");
      critical("o-1");
      await waitFor(() => receiver.hooks.length === 1 && second.hooks.length === 1, 5000, "one webhook at each URL");
      expect(receiver.hooks[0]!.headers["x-discovery-event"]).toBe("REGISTERED");
      expect(receiver.hooks[0]!.headers["x-discovery-signature"]).toBeUndefined();
    } finally {
      await second.close();
    }
  });

  test("a failing target is retried with backoff until it accepts; retries are counted", async () => {
    receiver.answers = [503, 500, 429];
    start();
    register("o-1");
    critical("o-1");
    await waitFor(async () => (await count("delivered")) === 1, 5000, "the delivery");
    expect(receiver.hooks.map((h) => h.headers["x-discovery-attempt"])).toEqual(["1", "2", "3", "4"]);
    expect(new Set(receiver.hooks.map((h) => h.headers["x-discovery-delivery"])).size).toBe(1);
    expect(valueOf(parsePrometheus(await metricsRegistry.metrics()), "discovery_sink_retries_total", { sink: "webhook" })).toBe(3);
  });

  test("a refusal that will not pass later (400) is not retried; attempts stop at the maximum", async () => {
    receiver.answers = [400, 503, 503];
    start({ maxAttempts: 2 });
    register("o-1");
    critical("o-1");
    registry.heartbeat({ serviceName: "orders", instanceId: "o-1", load: 0.1 }); // LOAD_NORMAL
    await waitFor(async () => (await count("failed")) === 2, 5000, "two failed deliveries");
    expect(receiver.hooks).toHaveLength(3); // one for the 400, two attempts for the 503s
  });

  test("in flight and queued are bounded; past the queue limit the oldest are dropped and counted", async () => {
    receiver.hang = true;
    const sink = start({ concurrency: 2, queueLimit: 3 });
    for (let i = 0; i < 8; i++) {
      register(`o-${i}`);
      critical(`o-${i}`);
    }
    await waitFor(() => receiver.hooks.length === 2, 5000, "two in flight");
    expect(sink.inFlight).toBe(2);
    expect(sink.held).toBe(5); // 2 in flight + 3 queued
    expect(await count("dropped")).toBe(3);
    receiver.release();
    await waitFor(async () => (await count("delivered")) === 5, 5000, "the kept deliveries");
    expect(receiver.maxInFlight).toBe(2);
    // The oldest queued were dropped: the last three events are the ones that arrived after the first two.
    expect(receiver.hooks.slice(2).map((h) => (JSON.parse(h.body) as { instance: { instanceId: string } }).instance.instanceId)).toEqual(["o-5", "o-6", "o-7"]);
  });

  test("an attempt that gets no answer times out and is retried", async () => {
    receiver.hang = true;
    start({ timeoutMs: 100, maxAttempts: 2 });
    register("o-1");
    critical("o-1");
    await waitFor(async () => (await count("failed")) === 1, 5000, "the delivery failed after its second timeout");
    expect(receiver.hooks).toHaveLength(2);
    expect(await count("delivered")).toBe(0);
  });

  test("a target the address check refuses is never dialled and fails without retries", async () => {
    start({ checkTarget: async (host) => Promise.reject(new Error(`address of ${host} is refused by DISCOVERY_PROBE_DENY`)) });
    register("o-1");
    critical("o-1");
    await waitFor(async () => (await count("failed")) === 1, 5000, "the refused delivery");
    expect(receiver.hooks).toHaveLength(0);
  });
});
