// Every setting in one table: its environment variable, the `discovery serve`
// flag that overrides it, its default, range and help. The typed Config, the
// flags and their --help, and the README's table are all generated from it.
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
import { DEFAULT_PROBE_CONCURRENCY, DEFAULT_PROBE_TICK_MS } from "./health/probe-defaults";
import { ConfigError, decimal, integer, oneOf, optionalText, secondsAsMs, text } from "./settings/kinds";
import { readSettings, setting, type ValuesOf } from "./settings/table";
import { DEFAULT_HTTP2_KEEPALIVE_MS, DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS } from "./transport/grpc-http2/keepalive-defaults";
import { DEFAULT_DNS_REFRESH_MS, DEFAULT_MAX_RESOURCES_PER_STREAM, DEFAULT_MAX_XDS_STREAMS, LB_POLICIES } from "./services/xds/xds-defaults";
import { PEER_LIMIT_DEFAULTS } from "./transport/peer-limits";

export { ConfigError };

export const DEFAULT_PORT = 3004;
export const DEFAULT_HOST = "0.0.0.0";
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every setting. Add a row here and it becomes a Config field, a flag, a line of --help and of the README. */
export const SETTINGS = [
  setting({
    key: "host",
    env: "SERVICE_DISCOVERY_HOST",
    flag: "host",
    help: "the address to listen on",
    kind: text(DEFAULT_HOST, "an IP address or host name"),
  }),
  setting({
    key: "port",
    env: "SERVICE_DISCOVERY_PORT",
    flag: "port",
    help: "the one port for every protocol (0 picks a free port)",
    kind: integer(DEFAULT_PORT, { min: 0, max: 65535 }),
  }),
  setting({
    key: "secret",
    env: "SERVICE_DISCOVERY_SECRET",
    flag: "secret",
    help: "require `authorization: Bearer <secret>` on Register, Heartbeat and Unregister",
    more: "Reads stay open. Without it, the server warns at start if it listens beyond loopback",
    kind: optionalText("any text; empty means unset"),
  }),
  setting({
    key: "defaultTtlMs",
    env: "SERVICE_REGISTRATION_TTL_SECONDS",
    flag: "ttl-seconds",
    help: "lease of a Register that gives no ttl",
    more: "Requests may ask for 1 s to 1 h",
    kind: secondsAsMs(DEFAULT_TTL_MS, { min: MIN_TTL_MS, max: MAX_TTL_MS }),
  }),
  setting({
    key: "criticalLoadThreshold",
    env: "CRITICAL_LOAD_THRESHOLD",
    flag: "critical-load-threshold",
    help: "load at which an instance becomes critical",
    kind: decimal(DEFAULT_CRITICAL_LOAD_THRESHOLD, { min: 0, max: 1 }),
  }),
  setting({
    key: "criticalLoadHysteresis",
    env: "CRITICAL_LOAD_HYSTERESIS",
    flag: "critical-load-hysteresis",
    help: "normal again only below threshold minus this",
    more: "At most the threshold",
    kind: decimal(DEFAULT_CRITICAL_LOAD_HYSTERESIS, { min: 0, max: 1 }),
  }),
  setting({
    key: "watchHistorySize",
    env: "WATCH_HISTORY_SIZE",
    flag: "watch-history-size",
    help: "events kept for resuming a Watch",
    kind: integer(DEFAULT_WATCH_HISTORY_SIZE, { min: 0, max: 10_000_000 }),
  }),
  setting({
    key: "watchQueueLimit",
    env: "WATCH_QUEUE_LIMIT",
    flag: "watch-queue-limit",
    help: "events a subscriber may have pending before it is reset",
    kind: integer(DEFAULT_WATCH_QUEUE_LIMIT, { min: 1, max: 10_000_000 }),
  }),
  setting({
    key: "maxInstances",
    env: "DISCOVERY_MAX_INSTANCES",
    flag: "max-instances",
    help: "registrations past this are refused with RESOURCE_EXHAUSTED",
    kind: integer(DEFAULT_MAX_INSTANCES, { min: 1, max: 100_000_000 }),
  }),
  setting({
    key: "maxWatchers",
    env: "DISCOVERY_MAX_WATCHERS",
    flag: "max-watchers",
    help: "Watch streams past this are refused with RESOURCE_EXHAUSTED",
    kind: integer(DEFAULT_MAX_WATCHERS, { min: 1, max: 10_000_000 }),
  }),
  setting({
    key: "http2KeepAliveMs",
    env: "HTTP2_KEEPALIVE_SECONDS",
    flag: "http2-keepalive-seconds",
    help: "ping each HTTP/2 connection this often; 0 never pings",
    more:
      "A connection whose ping goes unanswered for HTTP2_KEEPALIVE_TIMEOUT_SECONDS is dropped, so a peer that vanished without closing " +
      "(a pulled cable, a NAT timeout) releases its calls: its KeepAlive streams break and its instances turn UNHEALTHY",
    kind: secondsAsMs(DEFAULT_HTTP2_KEEPALIVE_MS, { min: 0, max: 3_600_000 }),
  }),
  setting({
    key: "http2KeepAliveTimeoutMs",
    env: "HTTP2_KEEPALIVE_TIMEOUT_SECONDS",
    flag: "http2-keepalive-timeout-seconds",
    help: "drop an HTTP/2 connection whose keepalive ping goes unanswered this long",
    kind: secondsAsMs(DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS, { min: 1, max: 600_000 }),
  }),
  setting({
    key: "healthCheckIntervalMs",
    env: "HEALTH_CHECK_INTERVAL_SECONDS",
    flag: "health-check-interval-seconds",
    help: "time between probes of a check that gives no interval",
    kind: secondsAsMs(DEFAULT_HEALTH_CHECK_INTERVAL_MS, { min: MIN_HEALTH_CHECK_INTERVAL_MS, max: MAX_HEALTH_CHECK_INTERVAL_MS }),
  }),
  setting({
    key: "healthCheckTimeoutMs",
    env: "HEALTH_CHECK_TIMEOUT_SECONDS",
    flag: "health-check-timeout-seconds",
    help: "a probe slower than this fails, for a check that gives no timeout",
    more: "At most the interval",
    kind: secondsAsMs(DEFAULT_HEALTH_CHECK_TIMEOUT_MS, { min: MIN_HEALTH_CHECK_TIMEOUT_MS, max: MAX_HEALTH_CHECK_TIMEOUT_MS }),
  }),
  setting({
    key: "probeConcurrency",
    env: "HEALTH_CHECK_CONCURRENCY",
    flag: "health-check-concurrency",
    help: "probes in flight at most, over all instances; the others wait their turn",
    kind: integer(DEFAULT_PROBE_CONCURRENCY, { min: 1, max: 100_000 }),
  }),
  setting({
    key: "probeTickMs",
    env: "HEALTH_CHECK_TICK_MS",
    flag: "health-check-tick-ms",
    help: "probes due within one tick of this many ms start together, at most this late",
    more: "Waking up once per probe costs more CPU than the probe",
    kind: integer(DEFAULT_PROBE_TICK_MS, { min: 1, max: 1000 }),
  }),
  setting({
    key: "xdsLbPolicy",
    env: "XDS_LB_POLICY",
    flag: "xds-lb-policy",
    help: "the xDS clusters' load-balancing policy",
    more: "Proxyless gRPC clients support ROUND_ROBIN and RING_HASH and reject the others; Envoy supports all",
    kind: oneOf(LB_POLICIES, "ROUND_ROBIN"),
  }),
  setting({
    key: "xdsMaxStreams",
    env: "XDS_MAX_STREAMS",
    flag: "xds-max-streams",
    help: "xDS streams past this are refused with RESOURCE_EXHAUSTED",
    kind: integer(DEFAULT_MAX_XDS_STREAMS, { min: 1, max: 10_000_000 }),
  }),
  setting({
    key: "xdsMaxResourcesPerStream",
    env: "XDS_MAX_RESOURCES_PER_STREAM",
    flag: "xds-max-resources-per-stream",
    help: "resource names one xDS stream may follow per type; more are refused with RESOURCE_EXHAUSTED",
    kind: integer(DEFAULT_MAX_RESOURCES_PER_STREAM, { min: 1, max: 1_000_000 }),
  }),
  setting({
    key: "xdsDnsRefreshMs",
    env: "XDS_DNS_REFRESH_SECONDS",
    flag: "xds-dns-refresh-seconds",
    help: "instance hostnames are re-resolved for xDS this often",
    kind: secondsAsMs(DEFAULT_DNS_REFRESH_MS, { min: 1_000, max: 86_400_000 }),
  }),
  setting({
    key: "maxMessageBytes",
    env: "DISCOVERY_MAX_MESSAGE_BYTES",
    flag: "max-message-bytes",
    help: "largest request message on gRPC, Connect and gRPC-Web; larger ones get RESOURCE_EXHAUSTED",
    kind: integer(PEER_LIMIT_DEFAULTS.maxMessageBytes, { min: 1024, max: 1024 * 1024 * 1024 }),
  }),
  setting({
    key: "http2MaxConcurrentStreams",
    env: "HTTP2_MAX_CONCURRENT_STREAMS",
    flag: "http2-max-concurrent-streams",
    help: "streams one HTTP/2 connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS)",
    kind: integer(PEER_LIMIT_DEFAULTS.http2MaxConcurrentStreams, { min: 1, max: 1_000_000 }),
  }),
  setting({
    key: "headersTimeoutMs",
    env: "HTTP_HEADERS_TIMEOUT_SECONDS",
    flag: "headers-timeout-seconds",
    help: "a connection that has not sent a request's headers (HTTP/1.1) or its first frames (HTTP/2) within this is closed",
    kind: secondsAsMs(PEER_LIMIT_DEFAULTS.headersTimeoutMs, { min: 100, max: 3_600_000 }),
  }),
  setting({
    key: "idleTimeoutMs",
    env: "HTTP_IDLE_TIMEOUT_SECONDS",
    flag: "idle-timeout-seconds",
    help: "a connection with no request or stream open for this long is closed; 0 never",
    kind: secondsAsMs(PEER_LIMIT_DEFAULTS.idleTimeoutMs, { min: 0, max: 86_400_000 }),
  }),
  setting({
    key: "goawayGraceMs",
    env: "HTTP2_GOAWAY_GRACE_SECONDS",
    flag: "goaway-grace-seconds",
    help: "after a GOAWAY either way, a connection closes when its streams end or after this",
    kind: secondsAsMs(PEER_LIMIT_DEFAULTS.goawayGraceMs, { min: 0, max: 3_600_000 }),
  }),
  setting({
    key: "listCacheBytes",
    env: "DISCOVERY_LIST_CACHE_BYTES",
    flag: "list-cache-bytes",
    help: "bytes of rendered List answers kept for repeat callers",
    kind: integer(PEER_LIMIT_DEFAULTS.listCacheBytes, { min: 0, max: 16 * 1024 * 1024 * 1024 }),
  }),
  setting({
    key: "logLevel",
    env: "LOG_LEVEL",
    flag: "log-level",
    help: "how much to log",
    more: "Every state change is logged at info; nothing per heartbeat above debug",
    kind: oneOf(LOG_LEVELS, "info"),
  }),
] as const;

/** The server's settings, one field per row of SETTINGS. */
export type Config = ValuesOf<typeof SETTINGS>;

export type SettingName = (typeof SETTINGS)[number]["env"];

/** Flag values by the variable they override (undefined: not given). */
export type Flags = Partial<Record<SettingName, string>>;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The settings from the environment, each overridden by its flag when given.
 * Errors name the flag (`--port`) or the variable, whichever the value came from.
 */
export function loadConfig(environment: Env, flags: Flags = {}): Config {
  const { values: config, label } = readSettings(SETTINGS, environment, flags);
  if (config.criticalLoadHysteresis > config.criticalLoadThreshold) {
    throw new ConfigError(`${label("CRITICAL_LOAD_HYSTERESIS")} must not exceed ${label("CRITICAL_LOAD_THRESHOLD")}`);
  }
  if (config.healthCheckTimeoutMs > config.healthCheckIntervalMs) {
    throw new ConfigError(`${label("HEALTH_CHECK_TIMEOUT_SECONDS")} must not exceed ${label("HEALTH_CHECK_INTERVAL_SECONDS")}`);
  }
  return config;
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
