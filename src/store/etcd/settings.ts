// Cluster mode's tunables (config.ts maps them to env variables and flags).

/** ETCD_ENDPOINTS: the etcd members' client URLs, comma-separated. */
export const DEFAULT_ETCD_ENDPOINTS = "http://127.0.0.1:2379";
/** ETCD_PREFIX: every key cluster mode writes starts with it. */
export const DEFAULT_ETCD_PREFIX = "/discovery/";
/** DISCOVERY_NODE_TTL_SECONDS: how long a silent node keeps its claim before survivors take its work. */
export const DEFAULT_NODE_TTL_SECONDS = 5;
/** LOAD_REPLICATION_STEP: a heartbeat's load is written to etcd when it moved at least this much. */
export const DEFAULT_LOAD_REPLICATION_STEP = 0.05;
/** LOAD_REPLICATION_INTERVAL_SECONDS: ... or when it changed and this long passed since the last write. */
export const DEFAULT_LOAD_REPLICATION_INTERVAL_SECONDS = 10;
/**
 * A node's instance keys hang on a lease this many times its membership TTL
 * (at least MIN_INSTANCE_LEASE_SECONDS): long enough for survivors to notice the
 * node is gone (one membership TTL) and adopt them, short enough that instances
 * of a cluster that lost every node do not linger.
 */
export const INSTANCE_LEASE_TTL_FACTOR = 6;
export const MIN_INSTANCE_LEASE_SECONDS = 30;
/**
 * DISCOVERY_INSTANCE_LEASE_SECONDS, when set, replaces that rule. It must leave
 * survivors at least one membership TTL to adopt: at least this many node TTLs.
 */
export const MIN_INSTANCE_LEASE_NODE_TTLS = 2;

/** The TTL of the etcd lease a node's instance keys hang on. */
export function instanceLeaseSecondsOf(settings: Pick<EtcdStoreSettings, "nodeTtlSeconds" | "instanceLeaseSeconds">): number {
  return settings.instanceLeaseSeconds ?? Math.max(MIN_INSTANCE_LEASE_SECONDS, settings.nodeTtlSeconds * INSTANCE_LEASE_TTL_FACTOR);
}
/** How long opening the store waits for any etcd member before it gives up naming ETCD_ENDPOINTS. */
export const ETCD_CONNECT_TIMEOUT_MS = 5_000;
/** Instance keys fetched per Range page when a node loads the registry. */
export const SNAPSHOT_PAGE_SIZE = 1_000;

export interface EtcdStoreSettings {
  endpoints: string;
  prefix: string;
  /** Undefined: a fresh id per process. */
  nodeId: string | undefined;
  nodeTtlSeconds: number;
  /** Undefined: INSTANCE_LEASE_TTL_FACTOR node TTLs, at least MIN_INSTANCE_LEASE_SECONDS. */
  instanceLeaseSeconds: number | undefined;
  loadReplicationStep: number;
  loadReplicationIntervalMs: number;
  /** The sinks this node publishes to ("nats", "webhook"), told in its membership key: each event goes out from one node that has the sink. */
  sinks: readonly string[];
}

export const DEFAULT_ETCD_STORE_SETTINGS: Readonly<EtcdStoreSettings> = {
  endpoints: DEFAULT_ETCD_ENDPOINTS,
  prefix: DEFAULT_ETCD_PREFIX,
  nodeId: undefined,
  nodeTtlSeconds: DEFAULT_NODE_TTL_SECONDS,
  instanceLeaseSeconds: undefined,
  loadReplicationStep: DEFAULT_LOAD_REPLICATION_STEP,
  loadReplicationIntervalMs: DEFAULT_LOAD_REPLICATION_INTERVAL_SECONDS * 1000,
  sinks: [],
};
