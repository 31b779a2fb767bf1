// The registry's tunables and their defaults. Config (src/config.ts) overrides
// them from the environment; tests override them directly.

/** Lease length when a Register request gives none (SERVICE_REGISTRATION_TTL_SECONDS). */
export const DEFAULT_TTL_MS = 30_000;
/** Shortest lease a request may ask for. */
export const MIN_TTL_MS = 1_000;
/** Longest lease a request may ask for. */
export const MAX_TTL_MS = 3_600_000;
/** Longest drain period an Unregister may ask for. */
export const MAX_DRAIN_MS = 3_600_000;
/** Load at which an instance becomes critical (CRITICAL_LOAD_THRESHOLD). */
export const DEFAULT_CRITICAL_LOAD_THRESHOLD = 0.8;
/** How far below the threshold load must fall to be normal again (CRITICAL_LOAD_HYSTERESIS). */
export const DEFAULT_CRITICAL_LOAD_HYSTERESIS = 0.1;
/** Events retained for Watch resume (WATCH_HISTORY_SIZE). */
export const DEFAULT_WATCH_HISTORY_SIZE = 10_000;
/** Pending events a subscriber may hold before it is reset (WATCH_QUEUE_LIMIT). */
export const DEFAULT_WATCH_QUEUE_LIMIT = 1_000;
/** Instances the registry holds at most (DISCOVERY_MAX_INSTANCES). */
export const DEFAULT_MAX_INSTANCES = 100_000;
/** Concurrent Watch subscribers at most (DISCOVERY_MAX_WATCHERS). */
export const DEFAULT_MAX_WATCHERS = 10_000;

/** Time between probes when a check gives none (HEALTH_CHECK_INTERVAL_SECONDS). */
export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 30_000;
/** A probe slower than this fails, when a check gives no timeout (HEALTH_CHECK_TIMEOUT_SECONDS). */
export const DEFAULT_HEALTH_CHECK_TIMEOUT_MS = 5_000;
/** Consecutive passes that make an instance HEALTHY when a check gives none. */
export const DEFAULT_HEALTHY_THRESHOLD = 2;
/** Consecutive failures that make an instance UNHEALTHY when a check gives none. */
export const DEFAULT_UNHEALTHY_THRESHOLD = 3;
/** Probe results kept per instance for GetHealthHistory and uptime. */
export const DEFAULT_HEALTH_HISTORY_SIZE = 64;
export const MIN_HEALTH_CHECK_INTERVAL_MS = 1_000;
export const MAX_HEALTH_CHECK_INTERVAL_MS = 3_600_000;
export const MIN_HEALTH_CHECK_TIMEOUT_MS = 1;
export const MAX_HEALTH_CHECK_TIMEOUT_MS = 60_000;
export const MAX_HEALTH_THRESHOLD = 100;
export const HTTP_PROBE_MAX_HEADERS = 32;
/** Longest name of an operator-defined secret or exec check a probe may reference. */
export const PROBE_REF_MAX_LENGTH = 128;
/** Longest user or database name a redis or postgres probe sends (PostgreSQL's own limit is 63 bytes). */
export const PROBE_NAME_MAX_BYTES = 63;
export const HTTP_PROBE_HEADER_VALUE_MAX_BYTES = 1024;
export const HEALTH_PATH_MAX_LENGTH = 1024;

export const SERVICE_NAME_MAX_LENGTH = 63;
export const INSTANCE_ID_MAX_LENGTH = 128;
export const HOST_MAX_LENGTH = 253;
export const METADATA_MAX_ENTRIES = 64;
export const METADATA_KEY_MAX_LENGTH = 63;
export const METADATA_VALUE_MAX_BYTES = 512;

/** Tunables of one registry. */
export interface RegistryLimits {
  defaultTtlMs: number;
  criticalLoadThreshold: number;
  criticalLoadHysteresis: number;
  historySize: number;
  maxInstances: number;
  healthCheckIntervalMs: number;
  healthCheckTimeoutMs: number;
  healthHistorySize: number;
}

export const DEFAULT_REGISTRY_LIMITS: Readonly<RegistryLimits> = {
  defaultTtlMs: DEFAULT_TTL_MS,
  criticalLoadThreshold: DEFAULT_CRITICAL_LOAD_THRESHOLD,
  criticalLoadHysteresis: DEFAULT_CRITICAL_LOAD_HYSTERESIS,
  historySize: DEFAULT_WATCH_HISTORY_SIZE,
  maxInstances: DEFAULT_MAX_INSTANCES,
  healthCheckIntervalMs: DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  healthCheckTimeoutMs: DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
  healthHistorySize: DEFAULT_HEALTH_HISTORY_SIZE,
};
