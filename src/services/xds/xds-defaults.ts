// The xDS settings' defaults and choices, apart from the modules that use
// them: config.ts reads these, and importing the xDS modules would load every
// Envoy descriptor into each CLI start.

/** Re-resolve every hostname this often (XDS_DNS_REFRESH_SECONDS). */
export const DEFAULT_DNS_REFRESH_MS = 30_000;
/** Distinct instance hostnames kept resolved at most; instances on others are left out (XDS_DNS_MAX_HOSTS). */
export const DEFAULT_DNS_MAX_HOSTS = 10_000;
/** Hostname lookups running at once at most: getaddrinfo runs on libuv's threadpool (4 threads unless UV_THREADPOOL_SIZE), shared with file and crypto work (XDS_DNS_CONCURRENCY). */
export const DEFAULT_DNS_CONCURRENCY = 4;
/** A lookup slower than this counts as failed (XDS_DNS_TIMEOUT_SECONDS). */
export const DEFAULT_DNS_TIMEOUT_MS = 5_000;
/** xDS streams served at once at most (XDS_MAX_STREAMS). */
export const DEFAULT_MAX_XDS_STREAMS = 10_000;
/** Resource names one stream may subscribe to per type (XDS_MAX_RESOURCES_PER_STREAM). */
export const DEFAULT_MAX_RESOURCES_PER_STREAM = 1_000;
/** A service that lost its last instance keeps its resources (with no endpoints) at least this long (XDS_EMPTY_SERVICE_RETAIN_SECONDS). */
export const DEFAULT_EMPTY_SERVICE_RETAIN_MS = 600_000;
/** Such services kept at most; past it the oldest is forgotten (XDS_MAX_EMPTY_SERVICES). */
export const DEFAULT_MAX_EMPTY_SERVICES = 10_000;
/** The cluster load-balancing policies an operator may choose (XDS_LB_POLICY). */
export const LB_POLICIES = ["ROUND_ROBIN", "RING_HASH", "LEAST_REQUEST", "RANDOM", "MAGLEV"] as const;
export type LbPolicyName = (typeof LB_POLICIES)[number];
