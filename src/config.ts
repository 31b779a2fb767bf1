// Every setting in one table: its environment variable, the `discovery serve`
// flag that overrides it, its default, range and help. The typed Config, the
// flags and their --help, and the README's table are all generated from it.
// A bad value stops the server at start with a message naming the flag or
// variable it came from, never a silent default.
import { ConfigError } from "./settings/kinds";
import { PROBE_SETTINGS } from "./settings/probe-settings";
import { SERVER_SETTINGS } from "./settings/server-settings";
import { SINK_SETTINGS, SINK_SWITCHES } from "./settings/sink-settings";
import { STORE_SETTINGS } from "./settings/store-settings";
import { MIN_INSTANCE_LEASE_NODE_TTLS } from "./store/etcd/settings";
import { readSettings, type GroupsOf, type Labeller, type ValuesOf } from "./settings/table";
import { TRANSPORT_SETTINGS } from "./settings/transport-settings";
import { XDS_SETTINGS } from "./settings/xds-settings";

export { ConfigError };
export { DEFAULT_HOST, DEFAULT_PORT } from "./settings/server-settings";

/** Every setting. Add a row to one of these lists and it becomes a Config field, a flag, a line of --help and of the README. */
export const SETTINGS = [...SERVER_SETTINGS, ...STORE_SETTINGS, ...TRANSPORT_SETTINGS, ...PROBE_SETTINGS, ...XDS_SETTINGS, ...SINK_SETTINGS] as const;

/** Per group of rows (one Config object each), the rows whose values turn it on; etcd is always on. */
export const GROUP_SWITCHES = { ...SINK_SWITCHES, tls: ["certFile", "keyFile"] } as const;

/** The server's settings: one field per row of SETTINGS, one object (undefined while off) per group. */
export type Config = ValuesOf<typeof SETTINGS, typeof GROUP_SWITCHES>;

export type SettingName = (typeof SETTINGS)[number]["env"];

/** Flag values by the variable they override (undefined: not given). */
export type Flags = Partial<Record<SettingName, string>>;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The settings from the environment, each overridden by its flag when given.
 * Errors name the flag (`--port`) or the variable, whichever the value came from.
 */
export function loadConfig(environment: Env, flags: Flags = {}): Config {
  const { values: config, groups, label } = readSettings(SETTINGS, GROUP_SWITCHES, environment, flags);
  if (config.criticalLoadHysteresis > config.criticalLoadThreshold) {
    throw new ConfigError(`${label("CRITICAL_LOAD_HYSTERESIS")} must not exceed ${label("CRITICAL_LOAD_THRESHOLD")}`);
  }
  if (config.healthCheckTimeoutMs > config.healthCheckIntervalMs) {
    throw new ConfigError(`${label("HEALTH_CHECK_TIMEOUT_SECONDS")} must not exceed ${label("HEALTH_CHECK_INTERVAL_SECONDS")}`);
  }
  if (config.readAuth && config.secret === undefined && config.tokensFile === undefined) {
    throw new ConfigError(
      `${label("SERVICE_DISCOVERY_READ_AUTH")} needs ${label("SERVICE_DISCOVERY_SECRET")} or ${label("SERVICE_DISCOVERY_TOKENS_FILE")} (nobody could read otherwise)`,
    );
  }
  const { instanceLeaseSeconds, nodeTtlSeconds } = groups.etcd;
  if (instanceLeaseSeconds !== undefined && instanceLeaseSeconds < nodeTtlSeconds * MIN_INSTANCE_LEASE_NODE_TTLS) {
    throw new ConfigError(`${label("DISCOVERY_INSTANCE_LEASE_SECONDS")} must be at least ${MIN_INSTANCE_LEASE_NODE_TTLS} × ${label("DISCOVERY_NODE_TTL_SECONDS")} (survivors adopt a dead node's instances within one node TTL)`);
  }
  checkTls(groups.tls, label);
  return config;
}

/** TLS needs a certificate and its key together; a client CA only with both. */
function checkTls({ certFile, keyFile, clientCaFile }: GroupsOf<typeof SETTINGS>["tls"], label: Labeller): void {
  const cert = certFile !== undefined;
  const key = keyFile !== undefined;
  if (!cert && !key) {
    if (clientCaFile !== undefined) {
      throw new ConfigError(`${label("SERVICE_DISCOVERY_TLS_CLIENT_CA")} needs ${label("SERVICE_DISCOVERY_TLS_CERT")} and ${label("SERVICE_DISCOVERY_TLS_KEY")}`);
    }
    return;
  }
  if (!cert) throw new ConfigError(`${label("SERVICE_DISCOVERY_TLS_CERT")} is required with ${label("SERVICE_DISCOVERY_TLS_KEY")}`);
  if (!key) throw new ConfigError(`${label("SERVICE_DISCOVERY_TLS_KEY")} is required with ${label("SERVICE_DISCOVERY_TLS_CERT")}`);
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
