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
import { DEFAULT_PROBE_TICK_MS } from "./health/scheduler";
import { DEFAULT_DNS_REFRESH_MS } from "./services/xds/address-book";
import { DEFAULT_MAX_XDS_STREAMS } from "./services/xds/ads-service";
import { DEFAULT_MAX_RESOURCES_PER_STREAM } from "./services/xds/ads-stream";
import { LB_POLICIES, type LbPolicyName } from "./services/xds/resources";
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
  logLevel: (typeof LOG_LEVELS)[number];
  /** The xDS clusters' load-balancing policy (XDS_LB_POLICY). */
  xdsLbPolicy: LbPolicyName;
  xdsMaxStreams: number;
  xdsMaxResourcesPerStream: number;
  xdsDnsRefreshMs: number;
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
  { env: "SERVICE_DISCOVERY_SECRET", flag: "secret", help: "require `authorization: Bearer <secret>` on Register, Heartbeat and Unregister" },
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
  { env: "DISCOVERY_STORE", flag: "store", help: "where the registry lives: memory, in this process (default memory); etcd, shared by every node of a cluster" },
  { env: "ETCD_ENDPOINTS", flag: "etcd-endpoints", help: `cluster mode: the etcd members' client URLs, comma-separated (default ${DEFAULT_ETCD_ENDPOINTS})` },
  { env: "ETCD_PREFIX", flag: "etcd-prefix", help: `cluster mode: every key the registry writes starts with it (default ${DEFAULT_ETCD_PREFIX})` },
  { env: "DISCOVERY_NODE_ID", flag: "node-id", help: "cluster mode: this node's name among the nodes (default: a fresh id per process)" },
  { env: "DISCOVERY_NODE_TTL_SECONDS", flag: "node-ttl-seconds", help: `cluster mode: how long a node that stopped answering keeps its claim before others take its work (default ${DEFAULT_NODE_TTL_SECONDS})` },
  { env: "LOAD_REPLICATION_STEP", flag: "load-replication-step", help: `cluster mode: a heartbeat's load is written to etcd when it moved at least this much (default ${DEFAULT_LOAD_REPLICATION_STEP})` },
  { env: "LOAD_REPLICATION_INTERVAL_SECONDS", flag: "load-replication-interval-seconds", help: `cluster mode: ... or when it changed and this long passed since the last write (default ${DEFAULT_LOAD_REPLICATION_INTERVAL_SECONDS})` },
  { env: "LOG_LEVEL", flag: "log-level", help: `${LOG_LEVELS.join(", ")} (default info)` },
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
  return {
    host,
    port: integer(env, "SERVICE_DISCOVERY_PORT", DEFAULT_PORT, 0, 65535),
    secret: env.SERVICE_DISCOVERY_SECRET === "" ? undefined : env.SERVICE_DISCOVERY_SECRET,
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
    store: storeKind(env),
    etcd: etcdSettings(env),
  };
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
  if (config.secret === undefined && !isLoopback(config.host)) {
    warnings.push(
      "SERVICE_DISCOVERY_SECRET is not set and the server listens beyond loopback: anyone who can reach it can register and unregister instances",
    );
  }
  return warnings;
}
