// Webhooks: each registry event of a chosen type is POSTed, signed, to every
// configured URL. Deliveries wait in one bounded queue (oldest dropped and
// counted when full), at most `concurrency` are in flight, and a failed one is
// retried with exponential backoff and full jitter up to `maxAttempts`.
// Retries waiting for their turn count against the same bound, so the sink
// holds at most queueLimit + concurrency deliveries whatever the targets do.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Registry } from "../core/registry";
import type { RegistryEvent } from "../core/types";
import { BoundedQueue } from "./bounded-queue";
import { eventToJson, eventTypeName } from "./event-json";
import { SINGLE_NODE, type SinkOwnership } from "./ownership";
import { onSinkEvents } from "./resync-events";
import type { SinkMetrics } from "./sink-metrics";
import { attemptDelivery, resolveAnyAddress, signBody, type WebhookTargetCheck } from "./webhook-delivery";
import { backoffDelayMs } from "./backoff";
import {
  DEFAULT_WEBHOOK_BACKOFF_BASE_MS,
  DEFAULT_WEBHOOK_BACKOFF_MAX_MS,
  DEFAULT_WEBHOOK_CONCURRENCY,
  DEFAULT_WEBHOOK_EVENTS,
  DEFAULT_WEBHOOK_MAX_ATTEMPTS,
  DEFAULT_WEBHOOK_QUEUE_LIMIT,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
} from "./sink-defaults";


export interface WebhookSinkOptions {
  urls: readonly URL[];
  registry: Registry;
  logger: Logger;
  signal: AbortSignal;
  /** Event type names (e.g. "LOAD_CRITICAL"); default DEFAULT_WEBHOOK_EVENTS. */
  events?: readonly string[];
  /** Signs every body (x-discovery-signature) when set. */
  secret?: string;
  queueLimit?: number;
  concurrency?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Resolves and vets each target before every attempt (the probe address policy). */
  checkTarget?: WebhookTargetCheck;
  ownership?: SinkOwnership;
  metrics?: SinkMetrics;
  /** Jitter source, [0, 1). */
  random?: () => number;
  /** Wall clock for the occurredAt of events reconstructed after a resync. */
  now?: () => number;
}

interface Delivery {
  id: string;
  url: URL;
  type: string;
  body: string;
  attempt: number;
}

export interface WebhookSink {
  /** Deliveries held: queued, waiting to retry, or in flight. */
  readonly held: number;
  readonly inFlight: number;
  /** Resolves when the signal aborted and every attempt in flight has ended. */
  readonly closed: Promise<void>;
}

export function startWebhookSink(options: WebhookSinkOptions): WebhookSink {
  const { registry, logger, signal } = options;
  const wanted = new Set(options.events ?? DEFAULT_WEBHOOK_EVENTS);
  const ownership = options.ownership ?? SINGLE_NODE;
  const limit = options.queueLimit ?? DEFAULT_WEBHOOK_QUEUE_LIMIT;
  const concurrency = options.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY;
  const maxAttempts = options.maxAttempts ?? DEFAULT_WEBHOOK_MAX_ATTEMPTS;
  const queue = new BoundedQueue<Delivery>(limit);
  const waiting = new Map<Delivery, NodeJS.Timeout>();
  const metrics = options.metrics;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  metrics?.queued("webhook", () => queue.length + waiting.size + inFlight);

  let dropped = 0;
  /** Queues a delivery; at the bound the oldest held delivery (queued, else waiting to retry) gives way. */
  const enqueue = (delivery: Delivery) => {
    if (queue.length + waiting.size >= limit) {
      if (queue.length > 0) queue.shift();
      else {
        const [oldest, timer] = waiting.entries().next().value!;
        clearTimeout(timer);
        waiting.delete(oldest);
      }
      metrics?.count("webhook", "dropped");
      // Logged on the first drop and every thousandth after it, not per event.
      if (dropped++ % 1000 === 0) logger.warn({ dropped, limit }, "webhook queue full: dropping the oldest deliveries");
    }
    queue.push(delivery);
    pump();
  };

  const pump = () => {
    while (inFlight < concurrency && queue.length > 0 && !signal.aborted) {
      const delivery = queue.shift()!;
      inFlight++;
      void send(delivery).finally(() => {
        inFlight--;
        if (signal.aborted && inFlight === 0) idle?.();
        pump();
      });
    }
  };

  const send = async (delivery: Delivery) => {
    const headers: Record<string, string> = {
      "user-agent": "grpc-discovery-webhook",
      "x-discovery-event": delivery.type,
      "x-discovery-delivery": delivery.id,
      "x-discovery-attempt": String(delivery.attempt),
    };
    if (options.secret !== undefined) headers["x-discovery-signature"] = signBody(options.secret, delivery.body);
    const result = await attemptDelivery({
      url: delivery.url,
      body: delivery.body,
      headers,
      timeoutMs: options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      checkTarget: options.checkTarget ?? resolveAnyAddress,
      signal,
    });
    if (result.ok) return void metrics?.count("webhook", "delivered");
    const context = { url: delivery.url.origin + delivery.url.pathname, delivery: delivery.id, attempt: delivery.attempt, reason: result.reason };
    if (!result.retry || delivery.attempt >= maxAttempts || signal.aborted) {
      metrics?.count("webhook", "failed");
      logger.warn(context, "webhook delivery failed");
      return;
    }
    metrics?.retry("webhook");
    logger.debug(context, "webhook delivery failed; retrying");
    const next = { ...delivery, attempt: delivery.attempt + 1 };
    const delay = backoffDelayMs(delivery.attempt, options.backoffBaseMs ?? DEFAULT_WEBHOOK_BACKOFF_BASE_MS, options.backoffMaxMs ?? DEFAULT_WEBHOOK_BACKOFF_MAX_MS, options.random ?? Math.random);
    const timer = setTimeout(() => {
      waiting.delete(next);
      enqueue(next);
    }, delay);
    timer.unref();
    waiting.set(next, timer);
  };

  const publish = (event: RegistryEvent, reason?: string) => {
    const body = JSON.stringify(eventToJson(event, reason));
    for (const url of options.urls) enqueue({ id: randomUUID(), url, type: eventTypeName(event), body, attempt: 1 });
  };
  const unsubscribe = onSinkEvents(registry.store, options.now ?? Date.now, (event: RegistryEvent, reason?: string) => {
    if (wanted.has(eventTypeName(event))) ownership.admit(event, reason, publish);
  });

  const closed = new Promise<void>((resolve) => {
    const stop = () => {
      unsubscribe();
      for (const timer of waiting.values()) clearTimeout(timer);
      waiting.clear();
      if (inFlight === 0) resolve();
      else idle = resolve;
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });

  return {
    get held() {
      return queue.length + waiting.size + inFlight;
    },
    get inFlight() {
      return inFlight;
    },
    closed,
  };
}
