// A grpc-js name resolver for `discovery://registry-host:3004/users` (several
// registry nodes: `discovery://node-a:3004,node-b:3004/users`): the
// channel's addresses are the healthy instances of `users`, kept current by a
// Watch (healthyView), balanced round_robin. The grpc-js resolver API is
// experimental and changed shape in 1.14: this file is the only one that uses
// it, and it is tested against the pinned @grpc/grpc-js.
import { experimental, status, type ChannelOptions } from "@grpc/grpc-js";
import type { Instance } from "../../gen/discovery/v1/discovery_pb";
import type { BackoffOptions } from "./backoff";
import type { TlsOptions } from "./connection";
import { healthyView, type HealthyView } from "./healthy-view";
import type { ClientLogger } from "./util";

type Listener = experimental.ResolverListener;
type ServiceConfigResult = Parameters<Listener>[2];

/** The URI scheme the resolver answers. */
export const DISCOVERY_SCHEME = "discovery";

export interface DiscoveryResolverOptions {
  /**
   * Leave out instances at critical load while others remain. Default true;
   * a channel can override it with the option `grpc-discovery.avoid_critical_load` (0 or 1).
   */
  avoidCriticalLoad?: boolean;
  /** How the resolver reaches the registry (default "grpc", plain text unless tls is set). */
  protocol?: "grpc" | "connect";
  tls?: TlsOptions;
  secret?: string;
  backoff?: BackoffOptions;
  logger?: ClientLogger;
}

/** The channel option that overrides avoidCriticalLoad for one channel. */
export const AVOID_CRITICAL_LOAD_OPTION = "grpc-discovery.avoid_critical_load";

const ROUND_ROBIN: ServiceConfigResult = experimental.statusOrFromValue({ loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] });

/**
 * Registers the `discovery:` scheme with grpc-js. Call it once, before creating
 * channels to `discovery://host:port/service` (registering is never done at import).
 */
export function registerDiscoveryResolver(options: DiscoveryResolverOptions = {}): void {
  experimental.registerResolver(DISCOVERY_SCHEME, makeResolverClass(options));
}

type ResolverClass = Parameters<typeof experimental.registerResolver>[1];

function makeResolverClass(options: DiscoveryResolverOptions): ResolverClass {
  return class DiscoveryResolver implements experimental.Resolver {
    private view: HealthyView | undefined;
    private readonly registryUrls: string[];
    private readonly service: string;
    private readonly avoidCritical: boolean;
    private pending = false;
    private destroyed = false;

    constructor(
      target: experimental.GrpcUri,
      private readonly listener: Listener,
      channelOptions: ChannelOptions,
    ) {
      this.service = serviceOf(target);
      if (target.authority === undefined || target.authority === "") {
        throw new Error(`discovery: target ${experimental.uriToString(target)} names no registry (discovery://host:port/service)`);
      }
      const scheme = options.tls === undefined ? "http" : "https";
      this.registryUrls = target.authority.split(",").map((address) => `${scheme}://${address.trim()}`);
      const override = channelOptions[AVOID_CRITICAL_LOAD_OPTION] as unknown;
      this.avoidCritical = override === undefined ? options.avoidCriticalLoad !== false : Boolean(override);
    }

    static getDefaultAuthority(target: experimental.GrpcUri): string {
      return serviceOf(target);
    }

    updateResolution(): void {
      this.destroyed = false;
      if (this.view === undefined) {
        this.view = healthyView(this.service, {
          url: this.registryUrls,
          protocol: options.protocol,
          tls: options.tls,
          secret: options.secret,
          backoff: options.backoff,
          logger: options.logger,
          avoidCriticalLoad: this.avoidCritical,
          onDisconnect: (error) => {
            // Before the first snapshot there is nothing to fall back on; after it, the last addresses stay.
            if (this.view?.synced !== true) this.report(error);
          },
        });
        this.view.onChange(() => this.report());
        this.view.ready().then(
          () => this.report(),
          () => {},
        );
      } else if (this.view.synced) {
        this.report();
      }
    }

    destroy(): void {
      this.destroyed = true;
      this.view?.close();
      this.view = undefined;
    }

    /** Reports the current addresses (or an error), never synchronously, coalescing bursts. */
    private report(error?: unknown): void {
      if (this.pending) return;
      this.pending = true;
      setImmediate(() => {
        this.pending = false;
        const view = this.view;
        if (this.destroyed || view === undefined) return;
        if (!view.synced) {
          const details = `registry ${this.registryUrls.join(",")} unreachable: ${error instanceof Error ? error.message : String(error)}`;
          this.listener(experimental.statusOrFromError({ code: status.UNAVAILABLE, details }), {}, null, details);
          return;
        }
        this.listener(experimental.statusOrFromValue(view.instances.map(endpointOf)), {}, ROUND_ROBIN, `discovery:${this.service}`);
      });
    }
  };
}

function serviceOf(target: experimental.GrpcUri): string {
  const service = target.path.replace(/^\/+/, "");
  if (service === "") throw new Error(`discovery: target ${experimental.uriToString(target)} names no service (discovery://host:port/service)`);
  return service;
}

function endpointOf(instance: Instance): experimental.Endpoint {
  return { addresses: [{ host: instance.host, port: instance.port }] };
}
