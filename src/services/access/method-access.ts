// Which access each RPC needs, one table per service, and the wrapper that
// enforces it before a handler runs. A method without a row needs `admin`:
// a method added later is closed until someone decides who may call it.
import type { DescService } from "@bufbuild/protobuf";
import type { DiscoveryService } from "../../../gen/discovery/v1/discovery_pb";
import type { Health } from "../../../gen/grpc/health/v1/health_pb";
import type { AnyHandler, Handlers } from "../../transport/contract";
import { wrapEach } from "../middleware/wrap-handlers";
import { runAsActor } from "../../runtime/actor";
import { ANONYMOUS, type Authorizer } from "./authorizer";

export type MethodRule =
  | { kind: "public" | "read" | "admin" }
  /** Changes one service's instances: needs admin or a write scope matching the request's service. */
  | { kind: "write"; serviceOf: (request: { serviceName: string }) => string }
  /** A stream of writes (KeepAlive): any write scope opens it; the handler checks each message's service. */
  | { kind: "write-stream" };

/** A rule for every method: adding an RPC to the proto fails the build until it has one. */
export type AccessTable<S extends DescService> = { [K in keyof S["method"]]: MethodRule };

const serviceName = (request: { serviceName: string }) => request.serviceName;

export const DISCOVERY_ACCESS: AccessTable<typeof DiscoveryService> = {
  register: { kind: "write", serviceOf: serviceName },
  heartbeat: { kind: "write", serviceOf: serviceName },
  unregister: { kind: "write", serviceOf: serviceName },
  keepAlive: { kind: "write-stream" },
  // Makes the server dial an address now and records what it saw.
  checkNow: { kind: "admin" },
  listHealthy: { kind: "read" },
  listInstances: { kind: "read" },
  listServices: { kind: "read" },
  watch: { kind: "read" },
  getHealthHistory: { kind: "read" },
};

/** The server's own health stays open: load balancers and orchestrators probe it without credentials. */
export const HEALTH_ACCESS: AccessTable<typeof Health> = {
  check: { kind: "public" },
  list: { kind: "public" },
  watch: { kind: "public" },
};

/** One rule for every method of a service (reflection is public: it describes the API, not the registry). */
export function sameAccess<S extends DescService>(service: S, rule: MethodRule): AccessTable<S> {
  return Object.fromEntries(service.methods.map((m) => [m.localName, rule])) as AccessTable<S>;
}

/**
 * Checks each call against its method's rule before the handler runs; a write
 * runs with its credential's name as the actor of the changes it logs.
 */
export function withAccessControl<S extends DescService>(
  service: S,
  handlers: Handlers<S>,
  table: Partial<Record<string, MethodRule>>,
  authorize: Authorizer,
): Handlers<S> {
  if (!authorize.enabled) return handlers;
  return wrapEach(service, handlers, (method, handler): AnyHandler => {
    const rule: MethodRule = table[method.localName] ?? { kind: "admin" };
    switch (rule.kind) {
      case "public":
        return handler;
      case "read":
        return (input, context) => {
          authorize({ kind: "read", credentials: context });
          return handler(input, context);
        };
      case "write":
      case "admin":
        return (input, context) => {
          const service = rule.kind === "write" ? rule.serviceOf(input as { serviceName: string }) : undefined;
          const principal = authorize({ kind: rule.kind, service, credentials: context });
          // The registry changes a write makes happen synchronously, inside this call.
          return principal === ANONYMOUS ? handler(input, context) : runAsActor(principal.name, () => handler(input, context));
        };
      case "write-stream":
        return (input, context) => {
          authorize({ kind: "write", credentials: context });
          return handler(input, context);
        };
    }
  });
}
