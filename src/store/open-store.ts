// Opens the store a server keeps its registry in (DISCOVERY_STORE): the one
// place that knows every implementation of the RegistryStore port.
import type { RegistryStore } from "../core/store";
import { MemoryStore } from "./memory/memory-store";

/** The stores DISCOVERY_STORE may name. "etcd" (cluster mode) is listed once its store lands. */
export const STORE_KINDS = ["memory"] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface OpenStoreOptions {
  /** The revision before the first: must exceed any revision of an earlier run of a memory store. */
  baseRevision: number;
  /** Events retained for Watch resume (WATCH_HISTORY_SIZE). */
  historySize: number;
}

export async function openStore(kind: StoreKind, options: OpenStoreOptions): Promise<RegistryStore> {
  switch (kind) {
    case "memory":
      return new MemoryStore(options);
  }
}
