// Environment variables and command-line flags → one typed, validated Config.
// A flag overrides its variable. A bad value stops the server at start with a
// message naming the flag or variable it came from, never a silent default.
import {
  DEFAULT_CRITICAL_LOAD_HYSTERESIS,
  DEFAULT_CRITICAL_LOAD_THRESHOLD,
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
  MAX_HEALTH_CHECK_INTERVAL_MS,
  MAX_HEALTH_CHECK_TIMEOUT_MS,
  MIN_HEALTH_CHECK_INTERVAL_MS,
  MIN_HEALTH_CHECK_TIMEOUT_MS,
  DEFAULT_MAX_INSTANCES,
  DEFAULT_MAX_WATCHERS,
  DEFAULT_TTL_MS,
  DEFAULT_WATCH_HISTORY_SIZE,
  DEFAULT_WATCH_QUEUE_LIMIT,
  MAX_TTL_MS,
  MIN_TTL_MS,
} from "./core/limits";
import { DEFAULT_PROBE_CONCURRENCY } from "./health/prober";
import { createAddressPolicy, DEFAULT_PROBE_DENY, parseCidrList } from "./health/address-policy";
import { DEFAULT_PROBE_TICK_MS } from "./health/scheduler";
import { DEFAULT_DNS_REFRESH_MS, DEFAULT_MAX_RESOURCES_PER_STREAM, DEFAULT_MAX_XDS_STREAMS, LB_POLICIES, type LbPolicyName } from "./services/xds/xds-defaults";
import { PEER_LIMIT_DEFAULTS } from "./transport/peer-limits";
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
} from "./sinks/sink-defaults";
import { STORE_KINDS, type StoreKind } from "./store/open-store";
import { parseEtcdEndpoints } from "./store/etcd/client/endpoints";
import {
  DEFAULT_ETCD_ENDPOINTS,
  DEFAULT_ETCD_PREFIX,
  DEFAULT_LOAD_REPLICATION_INTERVAL_SECONDS,
  DEFAULT_LOAD_REPLICATION_STEP,
  DEFAULT_NODE_TTL_SECONDS,
  type EtcdStoreSettings,
} from "./store/etcd/settings";

export const DEFAULT_PORT = 3004;
export const DEFAULT_HTTP2_KEEPALIVE_SECONDS = 30;
export const DEFAULT_HOST = "0.0.0.0";
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export interface Config {
  host: string;
  port: number;
  secret: string | undefined;
  defaultTtlMs: number;
  criticalLoadThreshold: number;
  criticalLoadHysteresis: number;
  watchHistorySize: number;
  watchQueueLimit: number;
  maxInstances: number;
  maxWatchers: number;
  http2KeepAliveMs: number;
  healthCheckIntervalMs: number;
  healthCheckTimeoutMs: number;
  probeConcurrency: number;
  /** Probes due within one tick start together (HEALTH_CHECK_TICK_MS). */
  probeTickMs: number;
  /** SERVICE_DISCOVERY_TOKENS_FILE: named, scoped tokens and client-certificate identities. */
  tokensFile: string | undefined;
  /** Reads need a token with the read scope too. */
  readAuth: boolean;
  /** PEM files: TLS on the port when set; mTLS with a client CA. */
  tls: { certFile: string; keyFile: string; clientCaFile?: string } | undefined;
  /** CIDRs probes may not reach, and (when set) the only ones they may. */
  probeDeny: string[];
  probeAllow: string[] | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  /** The xDS clusters' load-balancing policy (XDS_LB_POLICY). */
  xdsLbPolicy: LbPolicyName;
  xdsMaxStreams: number;
  xdsMaxResourcesPerStream: number;
  xdsDnsRefreshMs: number;
  /** Largest request message on every transport (DISCOVERY_MAX_MESSAGE_BYTES). */
  maxMessageBytes: number;
  /** Streams one HTTP/2 connection may have open (HTTP2_MAX_CONCURRENT_STREAMS). */
  http2MaxConcurrentStreams: number;
  /** Time a connection gets to send a request's headers (HTTP_HEADERS_TIMEOUT_SECONDS). */
  headersTimeoutMs: number;
  /** A connection with no request or stream open this long is closed (HTTP_IDLE_TIMEOUT_SECONDS; 0: never). */
  idleTimeoutMs: number;
  /** After a GOAWAY, the longest the connection stays for its streams (HTTP2_GOAWAY_GRACE_SECONDS). */
  goawayGraceMs: number;
  /** Bytes of rendered list answers kept (DISCOVERY_LIST_CACHE_BYTES). */
  listCacheBytes: number;
  /** The first round of probes waits this long after start (HEALTH_CHECK_STARTUP_DELAY_SECONDS). */
  probeStartupDelayMs: number;
  /** The operator's exec checks (DISCOVERY_EXEC_CHECKS_FILE) and probe secrets (DISCOVERY_PROBE_SECRETS_FILE), read at start. */
  execChecksFile: string | undefined;
  probeSecretsFile: string | undefined;
  /** Where events and summaries go besides Watch streams (undefined: no NATS, no webhooks). */
  nats: { url: string; subjectPrefix: string; summaryIntervalMs: number; bufferLimit: number } | undefined;
  webhooks:
    | { urls: URL[]; events: string[]; secret: string | undefined; queueLimit: number; concurrency: number; maxAttempts: number; timeoutMs: number }
    | undefined;
  /** Where the registry lives (DISCOVERY_STORE). */
  store: StoreKind;
  /** Cluster mode (DISCOVERY_STORE=etcd): ETCD_*, DISCOVERY_NODE_*, LOAD_REPLICATION_*. */
  etcd: EtcdStoreSettings;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

/** Every setting: its environment variable, the flag of `discovery serve` that overrides it, and what it means. */
export const SETTINGS = [
  { env: "HTTP2_KEEPALIVE_SECONDS", flag: "http2-keepalive-seconds", help: `ping each HTTP/2 connection this often and drop it when a ping goes unanswered for 10 s; 0 never pings (default ${DEFAULT_HTTP2_KEEPALIVE_SECONDS})` },
  { env: "SERVICE_DISCOVERY_PORT", flag: "port", help: `the one port for every protocol (0 picks a free port; default ${DEFAULT_PORT})` },
  { env: "SERVICE_DISCOVERY_HOST", flag: "host", help: `the address to listen on (default ${DEFAULT_HOST})` },
  { env: "SERVICE_DISCOVERY_SECRET", flag: "secret", help: "an admin token: with it (or a tokens file) every write and CheckNow requires `authorization: Bearer <token>`" },
  { env: "SERVICE_DISCOVERY_TOKENS_FILE", flag: "tokens-file", help: "JSON file of named tokens and client-certificate identities with scopes (admin, read, write:<service glob>); re-read on SIGHUP" },
  { env: "SERVICE_DISCOVERY_READ_AUTH", flag: "read-auth", help: "true: List*, Watch, GetHealthHistory and /metrics need a token with the read scope (default false)" },
  { env: "SERVICE_DISCOVERY_TLS_CERT", flag: "tls-cert", help: "PEM certificate (chain): TLS for every protocol on the port, plaintext refused; reloaded on SIGHUP" },
  { env: "SERVICE_DISCOVERY_TLS_KEY", flag: "tls-key", help: "PEM private key of the TLS certificate" },
  { env: "SERVICE_DISCOVERY_TLS_CLIENT_CA", flag: "tls-client-ca", help: "PEM CA: clients must present a certificate it signed (mTLS)" },
  { env: "DISCOVERY_PROBE_DENY", flag: "probe-deny", help: `comma-separated CIDRs health probes may not reach, checked after DNS at every probe (default ${DEFAULT_PROBE_DENY.join(",")})` },
  { env: "DISCOVERY_PROBE_ALLOW", flag: "probe-allow", help: "comma-separated CIDRs: when set, probes reach only these (and never a denied one)" },
  { env: "SERVICE_REGISTRATION_TTL_SECONDS", flag: "ttl-seconds", help: `lease of a Register that gives no ttl (default ${DEFAULT_TTL_MS / 1000})` },
  { env: "CRITICAL_LOAD_THRESHOLD", flag: "critical-load-threshold", help: `load at which an instance becomes critical (default ${DEFAULT_CRITICAL_LOAD_THRESHOLD})` },
  { env: "CRITICAL_LOAD_HYSTERESIS", flag: "critical-load-hysteresis", help: `normal again only below threshold minus this (default ${DEFAULT_CRITICAL_LOAD_HYSTERESIS})` },
  { env: "WATCH_HISTORY_SIZE", flag: "watch-history-size", help: `events kept for resuming a Watch (default ${DEFAULT_WATCH_HISTORY_SIZE})` },
  { env: "WATCH_QUEUE_LIMIT", flag: "watch-queue-limit", help: `events a subscriber may have pending before it is reset (default ${DEFAULT_WATCH_QUEUE_LIMIT})` },
  { env: "DISCOVERY_MAX_INSTANCES", flag: "max-instances", help: `registrations past this are refused (default ${DEFAULT_MAX_INSTANCES})` },
  { env: "DISCOVERY_MAX_WATCHERS", flag: "max-watchers", help: `Watch streams past this are refused (default ${DEFAULT_MAX_WATCHERS})` },
  { env: "XDS_LB_POLICY", flag: "xds-lb-policy", help: `load-balancing policy of the xDS clusters: ${LB_POLICIES.join(", ")} (default ROUND_ROBIN; proxyless gRPC clients support ROUND_ROBIN and RING_HASH)` },
  { env: "XDS_MAX_STREAMS", flag: "xds-max-streams", help: `xDS streams past this are refused (default ${DEFAULT_MAX_XDS_STREAMS})` },
  { env: "XDS_MAX_RESOURCES_PER_STREAM", flag: "xds-max-resources-per-stream", help: `resource names one xDS stream may follow per type (default ${DEFAULT_MAX_RESOURCES_PER_STREAM})` },
  { env: "XDS_DNS_REFRESH_SECONDS", flag: "xds-dns-refresh-seconds", help: `re-resolve instance hostnames for xDS this often (default ${DEFAULT_DNS_REFRESH_MS / 1000})` },
  { env: "DISCOVERY_MAX_MESSAGE_BYTES", flag: "max-message-bytes", help: `largest request message on gRPC, Connect and gRPC-Web; larger ones get RESOURCE_EXHAUSTED (default ${PEER_LIMIT_DEFAULTS.maxMessageBytes})` },
  { env: "HTTP2_MAX_CONCURRENT_STREAMS", flag: "http2-max-concurrent-streams", help: `streams one HTTP/2 connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS; default ${PEER_LIMIT_DEFAULTS.http2MaxConcurrentStreams})` },
  { env: "HTTP_HEADERS_TIMEOUT_SECONDS", flag: "headers-timeout-seconds", help: `a connection that has not sent a request's headers (HTTP/1.1) or its first frames (HTTP/2) within this is closed (default ${PEER_LIMIT_DEFAULTS.headersTimeoutMs / 1000})` },
  { env: "HTTP_IDLE_TIMEOUT_SECONDS", flag: "idle-timeout-seconds", help: `a connection with no request or stream open for this long is closed; 0 never (default ${PEER_LIMIT_DEFAULTS.idleTimeoutMs / 1000})` },
  { env: "HTTP2_GOAWAY_GRACE_SECONDS", flag: "goaway-grace-seconds", help: `after a GOAWAY either way, a connection closes when its streams end or after this (default ${PEER_LIMIT_DEFAULTS.goawayGraceMs / 1000})` },
  { env: "DISCOVERY_LIST_CACHE_BYTES", flag: "list-cache-bytes", help: `bytes of rendered List answers kept for repeat callers (default ${PEER_LIMIT_DEFAULTS.listCacheBytes})` },
  { env: "DISCOVERY_STORE", flag: "store", help: "where the registry lives: memory, in this process (default memory); etcd, shared by every node of a cluster" },
  { env: "ETCD_ENDPOINTS", flag: "etcd-endpoints", help: `cluster mode: the etcd members' client URLs, comma-separated (default ${DEFAULT_ETCD_ENDPOINTS})` },
  { env: "ETCD_PREFIX", flag: "etcd-prefix", help: `cluster mode: every key the registry writes starts with it (default ${DEFAULT_ETCD_PREFIX})` },
  { env: "DISCOVERY_NODE_ID", flag: "node-id", help: "cluster mode: this node's name among the nodes (default: a fresh id per process)" },
  { env: "DISCOVERY_NODE_TTL_SECONDS", flag: "node-ttl-seconds", help: `cluster mode: how long a node that stopped answering keeps its claim before others take its work (default ${DEFAULT_NODE_TTL_SECONDS})` },
  { env: "LOAD_REPLICATION_STEP", flag: "load-replication-step", help: `cluster mode: a heartbeat's load is written to etcd when it moved at least this much (default ${DEFAULT_LOAD_REPLICATION_STEP})` },
  { env: "LOAD_REPLICATION_INTERVAL_SECONDS", flag: "load-replication-interval-seconds", help: `cluster mode: ... or when it changed and this long passed since the last write (default ${DEFAULT_LOAD_REPLICATION_INTERVAL_SECONDS})` },
  { env: "LOG_LEVEL", flag: "log-level", help: `${LOG_LEVELS.join(", ")} (default info)` },
  { env: "HEALTH_CHECK_STARTUP_DELAY_SECONDS", flag: "health-check-startup-delay-seconds", help: "no probe runs until this long after start (default 0)" },
  { env: "DISCOVERY_EXEC_CHECKS_FILE", flag: "exec-checks-file", help: "JSON file of the exec health checks registrants may name (default: none)" },
  { env: "DISCOVERY_PROBE_SECRETS_FILE", flag: "probe-secrets-file", help: "JSON file of secrets redis probes may reference by name (default: none)" },
  { env: "NATS_URL", flag: "nats-url", help: "publish every event and periodic health summaries to this NATS server (default: off)" },
  { env: "NATS_SUBJECT_PREFIX", flag: "nats-subject-prefix", help: `subjects are <prefix>.events.<service> and <prefix>.health.<service|global> (default ${DEFAULT_NATS_SUBJECT_PREFIX})` },
  { env: "NATS_SUMMARY_INTERVAL_SECONDS", flag: "nats-summary-interval-seconds", help: `time between health summaries (default ${DEFAULT_NATS_SUMMARY_INTERVAL_MS / 1000})` },
  { env: "NATS_BUFFER_LIMIT", flag: "nats-buffer-limit", help: `messages held while NATS is slow or away; past it the oldest are dropped (default ${DEFAULT_NATS_BUFFER_LIMIT})` },
  { env: "DISCOVERY_WEBHOOK_URLS", flag: "webhook-urls", help: "comma-separated http(s) URLs that receive a POST per chosen event (default: none)" },
  { env: "DISCOVERY_WEBHOOK_EVENTS", flag: "webhook-events", help: `comma-separated event types sent to webhooks (default ${DEFAULT_WEBHOOK_EVENTS.join(",")})` },
  { env: "DISCOVERY_WEBHOOK_SECRET", flag: "webhook-secret", help: "sign webhook bodies: x-discovery-signature: sha256=<hex HMAC>" },
  { env: "DISCOVERY_WEBHOOK_QUEUE_LIMIT", flag: "webhook-queue-limit", help: `webhook deliveries queued or waiting to retry; past it the oldest are dropped (default ${DEFAULT_WEBHOOK_QUEUE_LIMIT})` },
  { env: "DISCOVERY_WEBHOOK_CONCURRENCY", flag: "webhook-concurrency", help: `webhook POSTs in flight at once (default ${DEFAULT_WEBHOOK_CONCURRENCY})` },
  { env: "DISCOVERY_WEBHOOK_MAX_ATTEMPTS", flag: "webhook-max-attempts", help: `attempts per webhook delivery, the first included (default ${DEFAULT_WEBHOOK_MAX_ATTEMPTS})` },
  { env: "DISCOVERY_WEBHOOK_TIMEOUT_SECONDS", flag: "webhook-timeout-seconds", help: `one webhook attempt's time limit (default ${DEFAULT_WEBHOOK_TIMEOUT_MS / 1000})` },
] as const;

export type SettingName = (typeof SETTINGS)[number]["env"];

/** Flag values by the variable they override (undefined: not given). */
export type Flags = Partial<Record<SettingName, string>>;

/**
 * The settings from the environment, each overridden by its flag when given.
 * Errors name the flag (`--port`) or the variable, whichever the value came from.
 */
export function loadConfig(environment: Env, flags: Flags = {}): Config {
  const given = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
  const env: Env = { ...environment, ...given };
  const flagOf = new Map<string, string>(SETTINGS.map((s) => [s.env, `--${s.flag}`]));
  const label = (name: string) => (name in given ? (flagOf.get(name) ?? name) : name);
  try {
    return readConfig(env);
  } catch (error) {
    // Messages start with the variable's name; say the flag instead when the value came from one.
    if (error instanceof ConfigError) {
      const name = SETTINGS.find((s) => error.message.startsWith(`${s.env} `))?.env;
      if (name !== undefined && label(name) !== name) throw new ConfigError(label(name) + error.message.slice(name.length));
    }
    throw error;
  }
}

function readConfig(env: Env): Config {
  const threshold = number(env, "CRITICAL_LOAD_THRESHOLD", DEFAULT_CRITICAL_LOAD_THRESHOLD, 0, 1);
  const hysteresis = number(env, "CRITICAL_LOAD_HYSTERESIS", DEFAULT_CRITICAL_LOAD_HYSTERESIS, 0, 1);
  if (hysteresis > threshold) {
    throw new ConfigError("CRITICAL_LOAD_HYSTERESIS must not exceed CRITICAL_LOAD_THRESHOLD");
  }
  const logLevel = (env.LOG_LEVEL ?? "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got ${JSON.stringify(env.LOG_LEVEL)})`);
  }
  const intervalS = number(env, "HEALTH_CHECK_INTERVAL_SECONDS", DEFAULT_HEALTH_CHECK_INTERVAL_MS / 1000, MIN_HEALTH_CHECK_INTERVAL_MS / 1000, MAX_HEALTH_CHECK_INTERVAL_MS / 1000);
  const timeoutS = number(env, "HEALTH_CHECK_TIMEOUT_SECONDS", DEFAULT_HEALTH_CHECK_TIMEOUT_MS / 1000, MIN_HEALTH_CHECK_TIMEOUT_MS / 1000, MAX_HEALTH_CHECK_TIMEOUT_MS / 1000);
  if (timeoutS > intervalS) throw new ConfigError("HEALTH_CHECK_TIMEOUT_SECONDS must not exceed HEALTH_CHECK_INTERVAL_SECONDS");
  const lbPolicy = (env.XDS_LB_POLICY ?? "ROUND_ROBIN").toUpperCase();
  if (!(LB_POLICIES as readonly string[]).includes(lbPolicy)) {
    throw new ConfigError(`XDS_LB_POLICY must be one of ${LB_POLICIES.join(", ")} (got ${JSON.stringify(env.XDS_LB_POLICY)})`);
  }
  const host = env.SERVICE_DISCOVERY_HOST ?? DEFAULT_HOST;
  if (host.trim() === "") throw new ConfigError("SERVICE_DISCOVERY_HOST must not be empty");
  const secret = env.SERVICE_DISCOVERY_SECRET === "" ? undefined : env.SERVICE_DISCOVERY_SECRET;
  const tokensFile = nonEmpty(env.SERVICE_DISCOVERY_TOKENS_FILE);
  const readAuth = boolean(env, "SERVICE_DISCOVERY_READ_AUTH", false);
  if (readAuth && secret === undefined && tokensFile === undefined) {
    throw new ConfigError("SERVICE_DISCOVERY_READ_AUTH needs SERVICE_DISCOVERY_SECRET or SERVICE_DISCOVERY_TOKENS_FILE (nobody could read otherwise)");
  }
  const probeDeny = env.DISCOVERY_PROBE_DENY === undefined ? [...DEFAULT_PROBE_DENY] : parseCidrList(env.DISCOVERY_PROBE_DENY);
  const allowText = nonEmpty(env.DISCOVERY_PROBE_ALLOW);
  const probeAllow = allowText === undefined ? undefined : parseCidrList(allowText);
  try {
    createAddressPolicy(probeDeny, probeAllow);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}`);
  }
  return {
    store: storeKind(env),
    host,
    port: integer(env, "SERVICE_DISCOVERY_PORT", DEFAULT_PORT, 0, 65535),
    secret,
    tokensFile,
    readAuth,
    tls: readTls(env),
    probeDeny,
    probeAllow,
    defaultTtlMs: number(env, "SERVICE_REGISTRATION_TTL_SECONDS", DEFAULT_TTL_MS / 1000, MIN_TTL_MS / 1000, MAX_TTL_MS / 1000) * 1000,
    criticalLoadThreshold: threshold,
    criticalLoadHysteresis: hysteresis,
    watchHistorySize: integer(env, "WATCH_HISTORY_SIZE", DEFAULT_WATCH_HISTORY_SIZE, 0, 10_000_000),
    watchQueueLimit: integer(env, "WATCH_QUEUE_LIMIT", DEFAULT_WATCH_QUEUE_LIMIT, 1, 10_000_000),
    maxInstances: integer(env, "DISCOVERY_MAX_INSTANCES", DEFAULT_MAX_INSTANCES, 1, 100_000_000),
    maxWatchers: integer(env, "DISCOVERY_MAX_WATCHERS", DEFAULT_MAX_WATCHERS, 1, 10_000_000),
    http2KeepAliveMs: number(env, "HTTP2_KEEPALIVE_SECONDS", DEFAULT_HTTP2_KEEPALIVE_SECONDS, 0, 3600) * 1000,
    healthCheckIntervalMs: intervalS * 1000,
    healthCheckTimeoutMs: timeoutS * 1000,
    probeConcurrency: integer(env, "HEALTH_CHECK_CONCURRENCY", DEFAULT_PROBE_CONCURRENCY, 1, 100_000),
    probeTickMs: integer(env, "HEALTH_CHECK_TICK_MS", DEFAULT_PROBE_TICK_MS, 1, 1000),
    logLevel: logLevel as Config["logLevel"],
    xdsLbPolicy: lbPolicy as LbPolicyName,
    xdsMaxStreams: integer(env, "XDS_MAX_STREAMS", DEFAULT_MAX_XDS_STREAMS, 1, 10_000_000),
    xdsMaxResourcesPerStream: integer(env, "XDS_MAX_RESOURCES_PER_STREAM", DEFAULT_MAX_RESOURCES_PER_STREAM, 1, 1_000_000),
    xdsDnsRefreshMs: number(env, "XDS_DNS_REFRESH_SECONDS", DEFAULT_DNS_REFRESH_MS / 1000, 1, 86_400) * 1000,
    maxMessageBytes: integer(env, "DISCOVERY_MAX_MESSAGE_BYTES", PEER_LIMIT_DEFAULTS.maxMessageBytes, 1024, 1024 * 1024 * 1024),
    http2MaxConcurrentStreams: integer(env, "HTTP2_MAX_CONCURRENT_STREAMS", PEER_LIMIT_DEFAULTS.http2MaxConcurrentStreams, 1, 1_000_000),
    headersTimeoutMs: number(env, "HTTP_HEADERS_TIMEOUT_SECONDS", PEER_LIMIT_DEFAULTS.headersTimeoutMs / 1000, 0.1, 3600) * 1000,
    idleTimeoutMs: number(env, "HTTP_IDLE_TIMEOUT_SECONDS", PEER_LIMIT_DEFAULTS.idleTimeoutMs / 1000, 0, 86_400) * 1000,
    goawayGraceMs: number(env, "HTTP2_GOAWAY_GRACE_SECONDS", PEER_LIMIT_DEFAULTS.goawayGraceMs / 1000, 0, 3600) * 1000,
    listCacheBytes: integer(env, "DISCOVERY_LIST_CACHE_BYTES", PEER_LIMIT_DEFAULTS.listCacheBytes, 0, 16 * 1024 * 1024 * 1024),
    probeStartupDelayMs: number(env, "HEALTH_CHECK_STARTUP_DELAY_SECONDS", 0, 0, 3600) * 1000,
    execChecksFile: env.DISCOVERY_EXEC_CHECKS_FILE || undefined,
    probeSecretsFile: env.DISCOVERY_PROBE_SECRETS_FILE || undefined,
    nats: readNats(env),
    webhooks: readWebhooks(env),
    etcd: etcdSettings(env),
  };
}

const NATS_SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

function readNats(env: Env): Config["nats"] {
  const url = env.NATS_URL?.trim();
  if (url === undefined || url === "") return undefined;
  const subjectPrefix = env.NATS_SUBJECT_PREFIX?.trim() || DEFAULT_NATS_SUBJECT_PREFIX;
  if (!NATS_SUBJECT_PREFIX.test(subjectPrefix)) {
    throw new ConfigError(`NATS_SUBJECT_PREFIX must be dot-separated tokens of letters, digits, '_' or '-' (got ${JSON.stringify(subjectPrefix)})`);
  }
  return {
    url,
    subjectPrefix,
    summaryIntervalMs: number(env, "NATS_SUMMARY_INTERVAL_SECONDS", DEFAULT_NATS_SUMMARY_INTERVAL_MS / 1000, 0.05, 86_400) * 1000,
    bufferLimit: integer(env, "NATS_BUFFER_LIMIT", DEFAULT_NATS_BUFFER_LIMIT, 1, 10_000_000),
  };
}

function readWebhooks(env: Env): Config["webhooks"] {
  const list = (name: string) => (env[name] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  const urls = list("DISCOVERY_WEBHOOK_URLS").map((text) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError(`DISCOVERY_WEBHOOK_URLS entry ${JSON.stringify(text)} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(`DISCOVERY_WEBHOOK_URLS entry ${JSON.stringify(text)} must be http or https`);
    return url;
  });
  if (urls.length === 0) return undefined;
  const events = list("DISCOVERY_WEBHOOK_EVENTS").map((e) => e.toUpperCase());
  for (const event of events) {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event)) {
      throw new ConfigError(`DISCOVERY_WEBHOOK_EVENTS entry ${JSON.stringify(event)} is not one of ${WEBHOOK_EVENT_TYPES.join(", ")}`);
    }
  }
  return {
    urls,
    events: events.length > 0 ? events : [...DEFAULT_WEBHOOK_EVENTS],
    secret: env.DISCOVERY_WEBHOOK_SECRET === "" ? undefined : env.DISCOVERY_WEBHOOK_SECRET,
    queueLimit: integer(env, "DISCOVERY_WEBHOOK_QUEUE_LIMIT", DEFAULT_WEBHOOK_QUEUE_LIMIT, 1, 1_000_000),
    concurrency: integer(env, "DISCOVERY_WEBHOOK_CONCURRENCY", DEFAULT_WEBHOOK_CONCURRENCY, 1, 1000),
    maxAttempts: integer(env, "DISCOVERY_WEBHOOK_MAX_ATTEMPTS", DEFAULT_WEBHOOK_MAX_ATTEMPTS, 1, 100),
    timeoutMs: number(env, "DISCOVERY_WEBHOOK_TIMEOUT_SECONDS", DEFAULT_WEBHOOK_TIMEOUT_MS / 1000, 0.1, 300) * 1000,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env[name])?.trim().toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(`${name} must be true or false (got ${JSON.stringify(env[name])})`);
}

/** TLS needs a certificate and its key together; a client CA only with both. */
function readTls(env: Env): Config["tls"] {
  const certFile = nonEmpty(env.SERVICE_DISCOVERY_TLS_CERT);
  const keyFile = nonEmpty(env.SERVICE_DISCOVERY_TLS_KEY);
  const clientCaFile = nonEmpty(env.SERVICE_DISCOVERY_TLS_CLIENT_CA);
  if (certFile === undefined && keyFile === undefined) {
    if (clientCaFile !== undefined) throw new ConfigError("SERVICE_DISCOVERY_TLS_CLIENT_CA needs SERVICE_DISCOVERY_TLS_CERT and SERVICE_DISCOVERY_TLS_KEY");
    return undefined;
  }
  if (certFile === undefined) throw new ConfigError("SERVICE_DISCOVERY_TLS_CERT is required with SERVICE_DISCOVERY_TLS_KEY");
  if (keyFile === undefined) throw new ConfigError("SERVICE_DISCOVERY_TLS_KEY is required with SERVICE_DISCOVERY_TLS_CERT");
  return clientCaFile === undefined ? { certFile, keyFile } : { certFile, keyFile, clientCaFile };
}

/** Cluster mode's settings; read (and checked) whatever the store, so a typo fails before it matters. */
function etcdSettings(env: Env): EtcdStoreSettings {
  const endpoints = env.ETCD_ENDPOINTS?.trim() || DEFAULT_ETCD_ENDPOINTS;
  try {
    parseEtcdEndpoints(endpoints);
  } catch (error) {
    throw new ConfigError(`ETCD_ENDPOINTS ${(error as Error).message.replace(/^ETCD_ENDPOINTS: /, "")}`);
  }
  const prefix = env.ETCD_PREFIX ?? DEFAULT_ETCD_PREFIX;
  if (!prefix.startsWith("/") || !prefix.endsWith("/")) throw new ConfigError(`ETCD_PREFIX must start and end with "/" (got ${JSON.stringify(prefix)})`);
  const nodeId = env.DISCOVERY_NODE_ID?.trim() || undefined;
  if (nodeId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(nodeId)) {
    throw new ConfigError(`DISCOVERY_NODE_ID must be 1 to 63 letters, digits, ".", "_" or "-" (got ${JSON.stringify(env.DISCOVERY_NODE_ID)})`);
  }
  return {
    endpoints,
    prefix,
    nodeId,
    nodeTtlSeconds: integer(env, "DISCOVERY_NODE_TTL_SECONDS", DEFAULT_NODE_TTL_SECONDS, 2, 3600),
    loadReplicationStep: number(env, "LOAD_REPLICATION_STEP", DEFAULT_LOAD_REPLICATION_STEP, 0, 1),
    loadReplicationIntervalMs: number(env, "LOAD_REPLICATION_INTERVAL_SECONDS", DEFAULT_LOAD_REPLICATION_INTERVAL_SECONDS, 0.1, 86_400) * 1000,
  };
}

/** DISCOVERY_STORE: memory (default) or etcd. */
function storeKind(env: Env): StoreKind {
  const raw = env.DISCOVERY_STORE;
  if (raw === undefined || raw.trim() === "") return "memory";
  const kind = raw.trim().toLowerCase();
  if ((STORE_KINDS as readonly string[]).includes(kind)) return kind as StoreKind;
  throw new ConfigError(`DISCOVERY_STORE must be one of ${STORE_KINDS.join(", ")} (got ${JSON.stringify(raw)})`);
}

function number(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = number(env, name, fallback, min, max);
  if (!Number.isInteger(value)) throw new ConfigError(`${name} must be a whole number (got ${JSON.stringify(env[name])})`);
  return value;
}

/** True when the host accepts connections only from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** What an operator should hear about at start: risky settings, not errors. */
export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.secret === undefined && config.tokensFile === undefined && !isLoopback(config.host)) {
    warnings.push(
      "SERVICE_DISCOVERY_SECRET is not set (nor SERVICE_DISCOVERY_TOKENS_FILE) and the server listens beyond loopback: anyone who can reach it can register and unregister instances",
    );
  }
  if (config.tls === undefined && (config.secret !== undefined || config.tokensFile !== undefined) && !isLoopback(config.host)) {
    warnings.push("tokens are required but TLS is off (SERVICE_DISCOVERY_TLS_CERT): they cross the network in clear");
  }
  return warnings;
}
