// Rows of the settings table for where events go besides Watch streams: NATS
// and webhooks. Each group is off (undefined in Config) until its URL is set.
import {
  DEFAULT_NATS_BUFFER_LIMIT,
  DEFAULT_NATS_SUBJECT_PREFIX,
  DEFAULT_NATS_SUMMARY_INTERVAL_MS,
  DEFAULT_WEBHOOK_CONCURRENCY,
  DEFAULT_WEBHOOK_EVENTS,
  DEFAULT_WEBHOOK_MAX_ATTEMPTS,
  DEFAULT_WEBHOOK_QUEUE_LIMIT,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  WEBHOOK_EVENT_TYPES,
} from "../sinks/sink-defaults";
import { integer, matching, optionalTrimmed, optionalText, secondsAsMs } from "./kinds";
import { httpUrl, list, wordList } from "./list-kinds";
import { setting } from "./table";

/** The row of each group whose value turns the group on. */
export const SINK_SWITCHES = { nats: ["url"], webhooks: ["urls"] } as const;

export const SINK_SETTINGS = [
  setting({
    key: "url",
    group: "nats",
    env: "NATS_URL",
    flag: "nats-url",
    help: "publish every event and periodic health summaries to this NATS server",
    more: "See [Alerts: NATS and webhooks](#alerts-nats-and-webhooks)",
    kind: optionalTrimmed("host:port or nats://host:port"),
  }),
  setting({
    key: "subjectPrefix",
    group: "nats",
    env: "NATS_SUBJECT_PREFIX",
    flag: "nats-subject-prefix",
    help: "subjects are `<prefix>.events.<service>`, `<prefix>.health.<service>` and `<prefix>.health.global`",
    kind: matching(DEFAULT_NATS_SUBJECT_PREFIX, /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "dot-separated tokens of letters, digits, '_' or '-'"),
  }),
  setting({
    key: "summaryIntervalMs",
    group: "nats",
    env: "NATS_SUMMARY_INTERVAL_SECONDS",
    flag: "nats-summary-interval-seconds",
    help: "time between health summaries",
    kind: secondsAsMs(DEFAULT_NATS_SUMMARY_INTERVAL_MS, { min: 50, max: 86_400_000 }),
  }),
  setting({
    key: "bufferLimit",
    group: "nats",
    env: "NATS_BUFFER_LIMIT",
    flag: "nats-buffer-limit",
    help: "messages held while NATS is slow or away; past it the oldest are dropped and counted",
    kind: integer(DEFAULT_NATS_BUFFER_LIMIT, { min: 1, max: 10_000_000 }),
  }),
  setting({
    key: "urls",
    group: "webhooks",
    env: "DISCOVERY_WEBHOOK_URLS",
    flag: "webhook-urls",
    help: "comma-separated http(s) URLs that receive a POST per chosen event",
    kind: list<URL>([], "comma-separated http or https URLs", httpUrl),
  }),
  setting({
    key: "events",
    group: "webhooks",
    env: "DISCOVERY_WEBHOOK_EVENTS",
    flag: "webhook-events",
    help: "event types sent to webhooks",
    kind: wordList(WEBHOOK_EVENT_TYPES, DEFAULT_WEBHOOK_EVENTS),
  }),
  setting({
    key: "secret",
    group: "webhooks",
    env: "DISCOVERY_WEBHOOK_SECRET",
    flag: "webhook-secret",
    help: "sign each body: `x-discovery-signature: sha256=<hex HMAC-SHA256 of the body>`",
    kind: optionalText("any text; empty means unset"),
  }),
  setting({
    key: "queueLimit",
    group: "webhooks",
    env: "DISCOVERY_WEBHOOK_QUEUE_LIMIT",
    flag: "webhook-queue-limit",
    help: "deliveries queued or waiting to retry; past it the oldest are dropped and counted",
    kind: integer(DEFAULT_WEBHOOK_QUEUE_LIMIT, { min: 1, max: 1_000_000 }),
  }),
  setting({
    key: "concurrency",
    group: "webhooks",
    env: "DISCOVERY_WEBHOOK_CONCURRENCY",
    flag: "webhook-concurrency",
    help: "webhook POSTs in flight at once",
    kind: integer(DEFAULT_WEBHOOK_CONCURRENCY, { min: 1, max: 1000 }),
  }),
  setting({
    key: "maxAttempts",
    group: "webhooks",
    env: "DISCOVERY_WEBHOOK_MAX_ATTEMPTS",
    flag: "webhook-max-attempts",
    help: "attempts per webhook delivery, the first included",
    kind: integer(DEFAULT_WEBHOOK_MAX_ATTEMPTS, { min: 1, max: 100 }),
  }),
  setting({
    key: "timeoutMs",
    group: "webhooks",
    env: "DISCOVERY_WEBHOOK_TIMEOUT_SECONDS",
    flag: "webhook-timeout-seconds",
    help: "one webhook attempt's time limit",
    kind: secondsAsMs(DEFAULT_WEBHOOK_TIMEOUT_MS, { min: 100, max: 300_000 }),
  }),
] as const;
