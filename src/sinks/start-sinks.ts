// Starts the configured sinks beside the server and gives back one promise
// that settles when all of them have stopped (after the server's signal aborts).
import type { Logger } from "pino";
import type { Registry as PromRegistry } from "prom-client";
import type { Registry } from "../core/registry";
import { startNatsSink } from "./nats-sink";
import { clusterOwnership, SINGLE_NODE, type ClusterMembership, type SinkOwnership } from "./ownership";
import { createSinkMetrics, type SinkName } from "./sink-metrics";
import { DEFAULT_NATS_BUFFER_LIMIT, DEFAULT_WEBHOOK_QUEUE_LIMIT } from "./sink-defaults";
import type { WebhookTargetCheck } from "./webhook-delivery";
import { startWebhookSink } from "./webhook-sink";

export interface SinksOptions {
  nats?: { url: string; subjectPrefix?: string; summaryIntervalMs?: number; bufferLimit?: number };
  webhooks?: { urls: readonly URL[]; events?: readonly string[]; secret?: string; queueLimit?: number; concurrency?: number; maxAttempts?: number; timeoutMs?: number };
  /** Cluster mode: per sink, the live nodes that publish to it, one of which publishes each event (default: this node publishes everything). */
  cluster?: (sink: SinkName) => ClusterMembership;
  /** Vets webhook targets before each attempt (the probe address policy). */
  checkWebhookTarget?: WebhookTargetCheck;
}

export function startSinks(options: SinksOptions, context: { registry: Registry; metrics: PromRegistry; logger: Logger; signal: AbortSignal }): Promise<void> {
  const stopped: Promise<void>[] = [];
  if (options.nats === undefined && options.webhooks === undefined) return Promise.resolve();
  const metrics = createSinkMetrics(context.metrics);
  const common = { registry: context.registry, signal: context.signal, metrics };
  // Each sink holds, for other owners, at most as many events as its queue.
  const ownership = (sink: SinkName, maxHeld: number): SinkOwnership =>
    options.cluster === undefined
      ? SINGLE_NODE
      : clusterOwnership({ membership: options.cluster(sink), maxHeld, now: Date.now, signal: context.signal, onEvicted: () => metrics.count(sink, "hold_evicted") });
  if (options.nats !== undefined) {
    const logger = context.logger.child({ module: "nats-sink" });
    stopped.push(startNatsSink({ ...common, ...options.nats, ownership: ownership("nats", options.nats.bufferLimit ?? DEFAULT_NATS_BUFFER_LIMIT), logger }).closed);
  }
  if (options.webhooks !== undefined) {
    const logger = context.logger.child({ module: "webhook-sink" });
    const held = ownership("webhook", options.webhooks.queueLimit ?? DEFAULT_WEBHOOK_QUEUE_LIMIT);
    stopped.push(startWebhookSink({ ...common, ...options.webhooks, ownership: held, checkTarget: options.checkWebhookTarget, logger }).closed);
  }
  return Promise.all(stopped).then(() => undefined);
}
