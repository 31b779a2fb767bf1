// The sinks' tunables and their defaults, apart from the sinks themselves so
// that reading settings (config.ts, every CLI command) does not load the NATS client.

/** Subject prefix (NATS_SUBJECT_PREFIX). */
export const DEFAULT_NATS_SUBJECT_PREFIX = "discovery";
/** Seconds between health summaries (NATS_SUMMARY_INTERVAL_SECONDS), as seed 004 publishes them. */
export const DEFAULT_NATS_SUMMARY_INTERVAL_MS = 15_000;
/** Messages held while NATS is slow or away (NATS_BUFFER_LIMIT); past it the oldest are dropped. */
export const DEFAULT_NATS_BUFFER_LIMIT = 10_000;
/** Messages published before waiting for the server to acknowledge them (one PING/PONG). */
export const NATS_PUBLISH_BATCH = 256;
/** Pause between reconnect attempts. */
export const DEFAULT_NATS_RECONNECT_WAIT_MS = 2_000;

/** Event types sent when DISCOVERY_WEBHOOK_EVENTS is not set. */
export const DEFAULT_WEBHOOK_EVENTS = ["LOAD_CRITICAL", "LOAD_NORMAL", "HEALTH_CHANGED", "EXPIRED"] as const;
/** Every event type a webhook may subscribe to. */
export const WEBHOOK_EVENT_TYPES = ["REGISTERED", "UPDATED", "HEALTH_CHANGED", "LOAD_CRITICAL", "LOAD_NORMAL", "UNREGISTERED", "EXPIRED"] as const;
/** Deliveries held, queued or waiting to retry (DISCOVERY_WEBHOOK_QUEUE_LIMIT). */
export const DEFAULT_WEBHOOK_QUEUE_LIMIT = 1_000;
/** POSTs in flight at once (DISCOVERY_WEBHOOK_CONCURRENCY). */
export const DEFAULT_WEBHOOK_CONCURRENCY = 4;
/** Attempts per delivery, the first included (DISCOVERY_WEBHOOK_MAX_ATTEMPTS). */
export const DEFAULT_WEBHOOK_MAX_ATTEMPTS = 5;
/** One attempt's time limit (DISCOVERY_WEBHOOK_TIMEOUT_SECONDS). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;
/** First retry's delay ceiling; doubled per attempt up to the maximum. */
export const DEFAULT_WEBHOOK_BACKOFF_BASE_MS = 500;
export const DEFAULT_WEBHOOK_BACKOFF_MAX_MS = 30_000;
