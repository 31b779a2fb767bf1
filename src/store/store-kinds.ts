// The stores DISCOVERY_STORE may name, apart from open-store.ts so that reading
// settings (config.ts, every CLI command) does not load the stores themselves.

/** The stores DISCOVERY_STORE may name. */
export const STORE_KINDS = ["memory", "etcd"] as const;
export type StoreKind = (typeof STORE_KINDS)[number];
