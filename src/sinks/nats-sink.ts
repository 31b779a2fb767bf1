// Publishes registry events and periodic health summaries to NATS. Events wait
// in a bounded queue; a pump publishes them in batches and waits for the
// server's PONG (flush) before the next batch, so the NATS client's own outbound
// buffer (unbounded while it reconnects) never holds more than one batch. While
// NATS is away the queue fills and then drops its oldest, counted: the registry
// never blocks or grows on NATS. A batch whose acknowledgement fails (the
// connection broke under it) is queued again, so a message may arrive twice.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { Registry } from "../core/registry";
import type { RegistryEvent } from "../core/types";
import { BoundedQueue } from "./bounded-queue";
import { eventToJson, summariesOf } from "./event-json";
import { SINGLE_NODE, type SinkOwnership } from "./ownership";
import { onSinkEvents } from "./resync-events";
import type { SinkMetrics } from "./sink-metrics";
import {
  DEFAULT_NATS_BUFFER_LIMIT,
  DEFAULT_NATS_RECONNECT_WAIT_MS,
  DEFAULT_NATS_SUBJECT_PREFIX,
  DEFAULT_NATS_SUMMARY_INTERVAL_MS,
  NATS_PUBLISH_BATCH,
} from "./sink-defaults";


export interface NatsSinkOptions {
  url: string;
  registry: Registry;
  logger: Logger;
  /** Stops the sink and closes the connection. */
  signal: AbortSignal;
  subjectPrefix?: string;
  summaryIntervalMs?: number;
  bufferLimit?: number;
  reconnectWaitMs?: number;
  ownership?: SinkOwnership;
  metrics?: SinkMetrics;
  /** Wall clock for the summaries' time field and the occurredAt of events reconstructed after a resync. */
  now?: () => number;
}

export interface NatsSink {
  /** Messages waiting for NATS. */
  readonly queued: number;
  /** Takes and queues one summary round now (the timer calls this every interval). */
  publishSummaries(): void;
  /** Resolves once the connection is closed after the signal aborted. */
  readonly closed: Promise<void>;
}

interface Outgoing {
  subject: string;
  data: string;
}

export function startNatsSink(options: NatsSinkOptions): NatsSink {
  const { registry, logger, signal } = options;
  const prefix = options.subjectPrefix ?? DEFAULT_NATS_SUBJECT_PREFIX;
  const ownership = options.ownership ?? SINGLE_NODE;
  const now = options.now ?? Date.now;
  const queue = new BoundedQueue<Outgoing>(options.bufferLimit ?? DEFAULT_NATS_BUFFER_LIMIT);
  let connection: NatsConnection | undefined;
  let connected = false;
  let pumping = false;
  let reportedDrops = 0;
  options.metrics?.queued("nats", () => queue.length);

  const countDrops = () => {
    if (queue.dropped === reportedDrops) return;
    options.metrics?.count("nats", "dropped", queue.dropped - reportedDrops);
    if (reportedDrops === 0) logger.warn({ limit: queue.limit }, "NATS buffer full: dropping the oldest messages");
    reportedDrops = queue.dropped;
  };
  const enqueue = (message: Outgoing) => {
    queue.push(message);
    countDrops();
    void pump();
  };

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (connected && connection !== undefined && queue.length > 0 && !signal.aborted) {
        const batch = queue.take(NATS_PUBLISH_BATCH);
        try {
          for (const message of batch) connection.publish(message.subject, message.data);
          await connection.flush();
          options.metrics?.count("nats", "delivered", batch.length);
        } catch (error) {
          // Not acknowledged: the connection broke under the batch. Keep it for the next connection.
          logger.debug({ err: error }, "NATS flush failed; batch kept for the reconnect");
          queue.unshift(batch);
          countDrops();
          break;
        }
      }
    } finally {
      pumping = false;
    }
  }

  const publish = (event: RegistryEvent, reason?: string) =>
    enqueue({ subject: `${prefix}.events.${event.instance.serviceName}`, data: JSON.stringify(eventToJson(event, reason)) });
  const unsubscribe = onSinkEvents(registry.store, now, (event: RegistryEvent, reason?: string) => ownership.admit(event, reason, publish));

  const publishSummaries = () => {
    if (!ownership.ownsSummaries()) return;
    const { services, global } = summariesOf(registry.store.summaries(), now());
    for (const summary of services) enqueue({ subject: `${prefix}.health.${summary.service_name}`, data: JSON.stringify(summary) });
    enqueue({ subject: `${prefix}.health.global`, data: JSON.stringify(global) });
  };
  const timer = setInterval(publishSummaries, options.summaryIntervalMs ?? DEFAULT_NATS_SUMMARY_INTERVAL_MS);
  timer.unref();

  const closed = (async () => {
    connection = await firstConnection(options, logger);
    if (connection === undefined) return;
    if (signal.aborted) return void (await connection.close());
    connected = true;
    logger.info({ url: options.url, server: connection.getServer() }, "NATS sink connected");
    void pump();
    const stop = () => void connection?.close();
    signal.addEventListener("abort", stop, { once: true });
    for await (const status of connection.status()) {
      if (status.type === "disconnect" || status.type === "reconnecting" || status.type === "staleConnection") {
        if (connected) logger.warn({ status: status.type }, "NATS connection lost; buffering");
        connected = false;
      } else if (status.type === "reconnect") {
        connected = true;
        logger.info({ server: status.server, queued: queue.length }, "NATS reconnected");
        void pump();
      }
    }
    await connection.closed();
  })().finally(() => {
    clearInterval(timer);
    unsubscribe();
  });

  return {
    get queued() {
      return queue.length;
    },
    publishSummaries,
    closed,
  };
}

/**
 * Connects, retrying every reconnect wait until it succeeds or the signal aborts
 * (nats.js's own waitOnFirstConnect cannot be cancelled). Later losses are
 * retried by the client itself.
 */
async function firstConnection(options: NatsSinkOptions, logger: Logger): Promise<NatsConnection | undefined> {
  const wait = options.reconnectWaitMs ?? DEFAULT_NATS_RECONNECT_WAIT_MS;
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    try {
      return await connect({ servers: options.url, name: "grpc-discovery", reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: wait });
    } catch (error) {
      if (attempt === 1) logger.warn({ err: error, url: options.url }, "NATS unreachable; retrying and buffering");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          options.signal.removeEventListener("abort", done);
          resolve();
        }
        options.signal.addEventListener("abort", done, { once: true });
      });
    }
  }
  return undefined;
}
