// The xDS settings' defaults and choices, apart from the modules that use
// them: config.ts reads these, and importing the xDS modules would load every
// Envoy descriptor into each CLI start.

/** Re-resolve every hostname this often (XDS_DNS_REFRESH_SECONDS). */
export const DEFAULT_DNS_REFRESH_MS = 30_000;
/** xDS streams served at once at most (XDS_MAX_STREAMS). */
export const DEFAULT_MAX_XDS_STREAMS = 10_000;
/** Resource names one stream may subscribe to per type (XDS_MAX_RESOURCES_PER_STREAM). */
export const DEFAULT_MAX_RESOURCES_PER_STREAM = 1_000;
/** The cluster load-balancing policies an operator may choose (XDS_LB_POLICY). */
export const LB_POLICIES = ["ROUND_ROBIN", "RING_HASH", "LEAST_REQUEST", "RANDOM", "MAGLEV"] as const;
export type LbPolicyName = (typeof LB_POLICIES)[number];
