// Opens the store a server keeps its registry in (DISCOVERY_STORE): the one
// place that knows every implementation of the RegistryStore port. The etcd
// store is loaded only when asked for: it needs @grpc/grpc-js (a peer dependency)
// and etcd's generated messages, which the memory store never does.
import type { RegistryStore } from "../core/store";
import type { Logger } from "pino";
import { MemoryStore } from "./memory/memory-store";
import type { EtcdStoreSettings } from "./etcd/settings";
import type { StoreKind } from "./store-kinds";
import type { ClusterMembership } from "../sinks/ownership";

export { STORE_KINDS, type StoreKind } from "./store-kinds";

export interface OpenStoreOptions {
  /** The revision before the first: must exceed any revision of an earlier run of a memory store. */
  baseRevision: number;
  /** Events retained for Watch resume (WATCH_HISTORY_SIZE). */
  historySize: number;
  /** Cluster mode's settings (etcd only). */
  etcd?: Partial<EtcdStoreSettings>;
  /** The clock's time, for lease deadlines the etcd store sets itself (adoption). */
  now?: () => number;
  logger?: Logger;
}

export async function openStore(kind: StoreKind, options: OpenStoreOptions): Promise<RegistryStore> {
  switch (kind) {
    case "memory":
      return new MemoryStore(options);
    case "etcd": {
      const { EtcdStore } = await import("./etcd/etcd-store.js");
      return EtcdStore.open({ ...options.etcd, historySize: options.historySize, now: options.now ?? Date.now, logger: options.logger });
    }
  }
}

/** What a store shared by several nodes adds to the port (the etcd store has it). */
interface ClusterStore {
  readonly inSync: boolean;
  onSync(listener: (inSync: boolean) => void): () => void;
  probesHere(serviceName: string, instanceId: string): boolean;
  readonly nodeId: string;
  membersPublishing(sink: string): ReadonlySet<string>;
  onMembersChange(listener: () => void): () => void;
  readonly nodeTtlMs: number;
}

function isClusterStore(store: RegistryStore): store is RegistryStore & ClusterStore {
  const candidate = store as Partial<ClusterStore>;
  return typeof candidate.onSync === "function" && typeof candidate.probesHere === "function";
}

/**
 * Stores that follow a backend (etcd) say whether their view has caught up with
 * it: false while it is unreachable, while a reconnected watch replays what was
 * missed, and while a compaction forces a reload. `listener` hears the current
 * value at once, then each change. The memory store is always in sync.
 */
export function onStoreSync(store: RegistryStore, listener: (inSync: boolean) => void): (() => void) | undefined {
  if (!isClusterStore(store)) return undefined;
  const stop = store.onSync(listener);
  listener(store.inSync);
  return stop;
}

/** Which instances this server probes: all of them, except in cluster mode (rendezvous over the live nodes). */
export function probeOwnership(store: RegistryStore): ((serviceName: string, instanceId: string) => boolean) | undefined {
  return isClusterStore(store) ? (serviceName, instanceId) => store.probesHere(serviceName, instanceId) : undefined;
}

/** Per sink, the live nodes that publish to it, to share out the events (cluster mode); undefined for a store of one node. */
export function clusterMembership(store: RegistryStore): ((sink: string) => ClusterMembership) | undefined {
  if (!isClusterStore(store)) return undefined;
  return (sink) => ({ nodeId: store.nodeId, members: () => store.membersPublishing(sink), onMembersChange: (listener) => store.onMembersChange(listener), nodeTtlMs: store.nodeTtlMs });
}
