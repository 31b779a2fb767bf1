// The server entry point (`grpc-discovery`): run the registry in a process of
// your own. Clients import `grpc-discovery/client` instead.
export { startServer, SHUTDOWN_GRACE_MS, type DiscoveryServer, type ServerOptions } from "./server/create-server";
export { loadConfig, ConfigError, type Config } from "./config";
export { Registry, type RegistryOptions } from "./core/registry";
export type { RegistryStore, StoreWrite, StoreStep, StoredInstance, StoreSnapshot, ReplayAnswer } from "./core/store";
export { MemoryStore, type MemoryStoreOptions } from "./store/memory/memory-store";
export { DiscoveryError, type DiscoveryErrorReason } from "./core/errors";
export type { HealthStatus, InstanceView, RegistryEvent, ChangeType } from "./core/types";
export type { RegistryLimits } from "./core/limits";
