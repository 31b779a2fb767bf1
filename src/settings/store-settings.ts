// Rows of the settings table for where the registry lives: the store, and
// cluster mode's etcd settings (Config.etcd, read and checked whatever the
// store, so a typo fails before it matters).
import { parseEtcdEndpoints } from "../store/etcd/client/endpoints";
import {
  DEFAULT_ETCD_ENDPOINTS,
  DEFAULT_ETCD_PREFIX,
  DEFAULT_LOAD_REPLICATION_INTERVAL_SECONDS,
  DEFAULT_LOAD_REPLICATION_STEP,
  DEFAULT_NODE_TTL_SECONDS,
  INSTANCE_LEASE_TTL_FACTOR,
  MIN_INSTANCE_LEASE_NODE_TTLS,
  MIN_INSTANCE_LEASE_SECONDS,
} from "../store/etcd/settings";
import { STORE_KINDS } from "../store/store-kinds";
import { ConfigError, decimal, integer, oneOf, secondsAsMs, type SettingKind } from "./kinds";
import { setting } from "./table";

/** The etcd members' URLs, kept as written (trimmed) once every entry parses. */
function endpoints(): SettingKind<string> {
  return {
    fallback: DEFAULT_ETCD_ENDPOINTS,
    defaultText: DEFAULT_ETCD_ENDPOINTS,
    rangeText: "comma-separated http:// URLs (or host:port)",
    parse: (raw, label) => {
      const value = raw.trim() || DEFAULT_ETCD_ENDPOINTS;
      try {
        parseEtcdEndpoints(value);
      } catch (error) {
        throw new ConfigError(`${label} ${(error as Error).message.replace(/^ETCD_ENDPOINTS: /, "")}`);
      }
      return value;
    },
  };
}

/** Text that must pass `check` as given (no trimming: an empty value is checked too). */
function checkedText(fallback: string, rangeText: string, check: (value: string) => boolean, rule: string): SettingKind<string> {
  return {
    fallback,
    defaultText: fallback,
    rangeText,
    parse: (raw, label) => {
      if (!check(raw)) throw new ConfigError(`${label} must ${rule} (got ${JSON.stringify(raw)})`);
      return raw;
    },
  };
}

/** A name that may be absent (blank: absent), else trimmed and checked. */
function optionalName(rangeText: string, check: (value: string) => boolean, rule: string): SettingKind<string | undefined> {
  return {
    fallback: undefined,
    defaultText: "unset",
    rangeText,
    parse: (raw, label) => {
      const value = raw.trim();
      if (value === "") return undefined;
      if (!check(value)) throw new ConfigError(`${label} must ${rule} (got ${JSON.stringify(raw)})`);
      return value;
    },
  };
}

/** A whole number from `min` to `max` that may be absent (blank: absent, `unsetText` says what holds then). */
function optionalInteger(unsetText: string, { min, max }: { min: number; max: number }): SettingKind<number | undefined> {
  return {
    fallback: undefined,
    defaultText: unsetText,
    rangeText: `whole, ${min} to ${max}`,
    parse: (raw, label) => {
      if (raw.trim() === "") return undefined;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${label} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      return value;
    },
  };
}

export const STORE_SETTINGS = [
  setting({
    key: "store",
    env: "DISCOVERY_STORE",
    flag: "store",
    help: "where the registry lives: memory (this process) or etcd (cluster mode)",
    more: "See [Cluster mode](#cluster-mode)",
    kind: oneOf(STORE_KINDS, "memory"),
  }),
  setting({
    key: "endpoints",
    group: "etcd",
    env: "ETCD_ENDPOINTS",
    flag: "etcd-endpoints",
    help: "cluster mode: the etcd members' client URLs, comma-separated",
    more: "With no member reachable at start the server exits naming this variable",
    kind: endpoints(),
  }),
  setting({
    key: "prefix",
    group: "etcd",
    env: "ETCD_PREFIX",
    flag: "etcd-prefix",
    help: "cluster mode: every key the registry writes starts with it",
    kind: checkedText(DEFAULT_ETCD_PREFIX, "starts and ends with /", (v) => v.startsWith("/") && v.endsWith("/"), 'start and end with "/"'),
  }),
  setting({
    key: "nodeId",
    group: "etcd",
    env: "DISCOVERY_NODE_ID",
    flag: "node-id",
    help: "cluster mode: this node's name among the nodes (unset: a fresh id per process)",
    more: "Keep it across restarts to take back the node's own instances at once",
    kind: optionalName("1 to 63 letters, digits, ., _ or -", (v) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v), 'be 1 to 63 letters, digits, ".", "_" or "-"'),
  }),
  setting({
    key: "nodeTtlSeconds",
    group: "etcd",
    env: "DISCOVERY_NODE_TTL_SECONDS",
    flag: "node-ttl-seconds",
    help: "cluster mode: how long a node that stopped answering keeps its claim before the others take its work",
    kind: integer(DEFAULT_NODE_TTL_SECONDS, { min: 2, max: 3600 }),
  }),
  setting({
    key: "instanceLeaseSeconds",
    group: "etcd",
    env: "DISCOVERY_INSTANCE_LEASE_SECONDS",
    flag: "instance-lease-seconds",
    help: "cluster mode: the TTL of the etcd lease this node's instance keys hang on (how long they outlive every node of the cluster)",
    more: `At least ${MIN_INSTANCE_LEASE_NODE_TTLS} × DISCOVERY_NODE_TTL_SECONDS, so survivors adopt a dead node's instances first`,
    kind: optionalInteger(`${INSTANCE_LEASE_TTL_FACTOR} × DISCOVERY_NODE_TTL_SECONDS, at least ${MIN_INSTANCE_LEASE_SECONDS}`, { min: 4, max: 86_400 }),
  }),
  setting({
    key: "loadReplicationStep",
    group: "etcd",
    env: "LOAD_REPLICATION_STEP",
    flag: "load-replication-step",
    help: "cluster mode: a heartbeat's load is written to etcd when it moved at least this much since the last write",
    kind: decimal(DEFAULT_LOAD_REPLICATION_STEP, { min: 0, max: 1 }),
  }),
  setting({
    key: "loadReplicationIntervalMs",
    group: "etcd",
    env: "LOAD_REPLICATION_INTERVAL_SECONDS",
    flag: "load-replication-interval-seconds",
    help: "cluster mode: ... or when it changed and this long passed since the last write",
    kind: secondsAsMs(DEFAULT_LOAD_REPLICATION_INTERVAL_SECONDS * 1000, { min: 100, max: 86_400_000 }),
  }),
] as const;
