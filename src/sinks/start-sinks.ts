// Starts the configured sinks beside the server and gives back one promise
// that settles when all of them have stopped (after the server's signal aborts).
import type { Logger } from "pino";
import type { Registry as PromRegistry } from "prom-client";
import type { Registry } from "../core/registry";
import { startNatsSink } from "./nats-sink";
import type { SinkOwnership } from "./ownership";
import { createSinkMetrics } from "./sink-metrics";
import type { WebhookTargetCheck } from "./webhook-delivery";
import { startWebhookSink } from "./webhook-sink";

export interface SinksOptions {
  nats?: { url: string; subjectPrefix?: string; summaryIntervalMs?: number; bufferLimit?: number };
  webhooks?: { urls: readonly URL[]; events?: readonly string[]; secret?: string; queueLimit?: number; concurrency?: number; maxAttempts?: number; timeoutMs?: number };
  /** Which node publishes what (cluster mode); default: this node publishes everything. */
  ownership?: SinkOwnership;
  /** Vets webhook targets before each attempt (the probe address policy). */
  checkWebhookTarget?: WebhookTargetCheck;
}

export function startSinks(options: SinksOptions, context: { registry: Registry; metrics: PromRegistry; logger: Logger; signal: AbortSignal }): Promise<void> {
  const stopped: Promise<void>[] = [];
  if (options.nats === undefined && options.webhooks === undefined) return Promise.resolve();
  const metrics = createSinkMetrics(context.metrics);
  const common = { registry: context.registry, signal: context.signal, ownership: options.ownership, metrics };
  if (options.nats !== undefined) {
    stopped.push(startNatsSink({ ...common, ...options.nats, logger: context.logger.child({ module: "nats-sink" }) }).closed);
  }
  if (options.webhooks !== undefined) {
    const logger = context.logger.child({ module: "webhook-sink" });
    stopped.push(startWebhookSink({ ...common, ...options.webhooks, checkTarget: options.checkWebhookTarget, logger }).closed);
  }
  return Promise.all(stopped).then(() => undefined);
}
