// The client entry point (`grpc-discovery/client`): what service authors and
// gateway authors use. Everything else under src/client is internal.
export { register, DEFAULT_DRAIN_MS, type RegisterOptions, type Registration } from "./register";
export { watch, RECONNECT_RESET_REASON, type WatchOptions } from "./watch";
export { healthyView, type HealthyView, type HealthyViewListener, type HealthyViewOptions } from "./healthy-view";
export {
  registerDiscoveryResolver,
  DISCOVERY_SCHEME,
  AVOID_CRITICAL_LOAD_OPTION,
  type DiscoveryResolverOptions,
} from "./grpc-resolver";
export { createConnection, type ConnectionOptions, type DiscoveryConnection, type TlsOptions } from "./connection";
export type { BackoffOptions } from "./backoff";
export type { ClientLogger } from "./util";
export { EventType, HealthStatus, type Instance, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
