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
}

export const DEFAULT_REGISTRY_LIMITS: Readonly<RegistryLimits> = {
  defaultTtlMs: DEFAULT_TTL_MS,
  criticalLoadThreshold: DEFAULT_CRITICAL_LOAD_THRESHOLD,
  criticalLoadHysteresis: DEFAULT_CRITICAL_LOAD_HYSTERESIS,
  historySize: DEFAULT_WATCH_HISTORY_SIZE,
  maxInstances: DEFAULT_MAX_INSTANCES,
};
