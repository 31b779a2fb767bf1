// Assembles the registry, the watch hub, the services and the one-port front,
// and owns their lifetime: start listening, and shut down in order.
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { Registry as PromRegistry } from "prom-client";
import { DiscoveryService, file_discovery_v1_discovery } from "../../gen/discovery/v1/discovery_pb";
import { Health, file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb";
import * as reflectionV1 from "../../gen/grpc/reflection/v1/reflection_pb";
import * as reflectionV1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb";
import type { Clock } from "../core/clock";
import { DiscoveryError } from "../core/errors";
import { DEFAULT_MAX_WATCHERS, DEFAULT_WATCH_HISTORY_SIZE, DEFAULT_WATCH_QUEUE_LIMIT, type RegistryLimits } from "../core/limits";
import { Registry } from "../core/registry";
import type { RegistryStore } from "../core/store";
import { onStoreAvailability, openStore, probeOwnership, type StoreKind } from "../store/open-store";
import type { EtcdStoreSettings } from "../store/etcd/settings";
import { createMetrics, type Metrics } from "../metrics/metrics";
import { startExpiryTimer } from "../runtime/expiry-timer";
import { createProber, type Prober } from "../health/prober";
import type { Scheduler } from "../health/scheduler";
import { WatchHub } from "../watch/watch-hub";
import { createAuthorizer } from "../services/middleware/auth";
import { createDiscoveryHandlers } from "../services/discovery/handlers";
import { createFront } from "../transport/front";
import { GrpcHttp2Server } from "../transport/grpc-http2/server";
import type { Handlers } from "../transport/contract";
import { withCallObserver, withErrorMapping } from "../services/middleware/wrap-handlers";
import { HealthBoard } from "../services/grpc-health/board";
import { createHealthHandlers } from "../services/grpc-health/handlers";
import { createHttpHandler } from "../transport/http1/handler";
import { trackHttp1Connections } from "../transport/http1/drain";
import { logRegistryEvents } from "../services/discovery/event-logging";
import { createOperatorPages } from "../services/operator-pages";
import { createReflectionHandlers } from "../services/reflection";
import { AggregatedDiscoveryService, file_envoy_service_discovery_v3_ads } from "../../gen/envoy/service/discovery/v3/ads_pb";
import { createXdsMetrics } from "../metrics/xds-metrics";
import { createAdsHandlers } from "../services/xds/ads-service";
import { XdsCatalog } from "../services/xds/catalog";
import type { HostLookup } from "../services/xds/address-book";
import type { LbPolicyName } from "../services/xds/resources";
import { createWatchEvents } from "../services/watch-events";

/** How long in-flight calls get to finish at shutdown before connections are cut. */
export const SHUTDOWN_GRACE_MS = 2_000;

export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** When set, Register, Heartbeat and Unregister require `authorization: Bearer <secret>`. */
  secret?: string;
  clock?: Clock;
  /** Where the registry lives (DISCOVERY_STORE, default memory). */
  store?: StoreKind;
  /** Cluster mode's settings (DISCOVERY_STORE=etcd). */
  etcd?: Partial<EtcdStoreSettings>;
  limits?: Partial<RegistryLimits>;
  watchQueueLimit?: number;
  maxWatchers?: number;
  shutdownGraceMs?: number;
  /** HTTP/2 keepalive pings (see GrpcHttp2ServerOptions); 0 turns them off. */
  http2PingIntervalMs?: number;
  http2PingTimeoutMs?: number;
  /** Active health probes (default on); off leaves checks declared but never run. */
  probing?: boolean;
  /** Probes in flight at most (HEALTH_CHECK_CONCURRENCY). */
  probeConcurrency?: number;
  /** Timers of probe schedules; tests pass one they fire by hand. */
  probeScheduler?: Scheduler;
  /** Probes due within one tick of this many ms start together (HEALTH_CHECK_TICK_MS). */
  probeTickMs?: number;
  /** Serves HTTP/1.1 requests that are neither RPCs nor the operator pages; 404 when absent. */
  httpFallback?: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  /** Where the metrics live (default: a fresh prom-client Registry per server, never the global one). */
  metricsRegistry?: PromRegistry;
  /** The built dashboard's folder (default: dist/dashboard). */
  dashboardDir?: string;
  /** The xDS server (XDS_* settings). */
  xds?: XdsOptions;
}

export interface XdsOptions {
  lbPolicy?: LbPolicyName;
  maxStreams?: number;
  maxResourcesPerStream?: number;
  dnsRefreshMs?: number;
  /** Resolves instance hostnames (default: the system resolver). */
  lookup?: HostLookup;
}

export interface DiscoveryServer {
  readonly host: string;
  readonly port: number;
  /** The rules: every change goes through them. */
  readonly registry: Registry;
  /** The state: every read comes from it. */
  readonly store: RegistryStore;
  readonly hub: WatchHub;
  readonly metrics: Metrics;
  /** The health prober (undefined when probing is off). */
  readonly prober: Prober | undefined;
  /** Aborts when shutdown begins. */
  readonly shutdownSignal: AbortSignal;
  /** Graceful shutdown: NOT_SERVING, stop accepting, end watches with UNAVAILABLE, close. */
  close(): Promise<void>;
}

const systemClock: Clock = { now: () => Date.now() };

/** The gRPC services this server answers, by full name, for reflection and health. */
const SERVED = [
  DiscoveryService.typeName,
  Health.typeName,
  reflectionV1.ServerReflection.typeName,
  reflectionV1alpha.ServerReflection.typeName,
  AggregatedDiscoveryService.typeName,
];
const SERVED_FILES: DescFile[] = [
  file_discovery_v1_discovery,
  file_envoy_service_discovery_v3_ads,
  file_grpc_health_v1_health,
  reflectionV1.file_grpc_reflection_v1_reflection,
  reflectionV1alpha.file_grpc_reflection_v1alpha_reflection,
];

export async function startServer(options: ServerOptions): Promise<DiscoveryServer> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const lifetime = new AbortController();

  // A memory store's revisions start at the start time in microseconds: never reused across restarts.
  const store = await openStore(options.store ?? "memory", {
    baseRevision: clock.now() * 1000,
    historySize: options.limits?.historySize ?? DEFAULT_WATCH_HISTORY_SIZE,
    etcd: options.etcd,
    now: () => clock.now(),
    logger: logger.child({ module: "store" }),
  });
  const registry = new Registry({ store, clock, newInstanceId: randomUUID, limits: options.limits });
  const hub = new WatchHub({
    store,
    queueLimit: options.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT,
    maxWatchers: options.maxWatchers ?? DEFAULT_MAX_WATCHERS,
  });
  const board = new HealthBoard(store, [DiscoveryService.typeName]);
  onStoreAvailability(store, (available) => board.setStoreAvailable(available));
  logRegistryEvents(store, logger.child({ module: "registry" }));
  const metricsRegistry = options.metricsRegistry ?? new PromRegistry();
  const metrics = createMetrics({ register: metricsRegistry, store, hub });

  const prober =
    options.probing === false
      ? undefined
      : createProber({
          registry,
          logger: logger.child({ module: "prober" }),
          concurrency: options.probeConcurrency,
          scheduler: options.probeScheduler,
          tickMs: options.probeTickMs,
          signal: lifetime.signal,
          onProbe: metrics.observeProbe,
          owns: probeOwnership(store),
        });

  const rpcLogger = logger.child({ module: "rpc" });
  // Errors get their wire code first, so the observer counts the code clients see.
  const serve = <S extends DescService>(service: S, handlers: Handlers<S>) =>
    withCallObserver(service, withErrorMapping(service, handlers, rpcLogger), metrics.rpcObserver);
  const discovery = serve(
    DiscoveryService,
    createDiscoveryHandlers({
      registry,
      hub,
      authorize: createAuthorizer(options.secret),
      onHeartbeat: metrics.heartbeat,
      logger: logger.child({ module: "keep-alive" }),
      prober,
    }),
  );
  const health = serve(Health, createHealthHandlers(board));
  const xdsLogger = logger.child({ module: "xds" });
  const xds = serve(
    AggregatedDiscoveryService,
    createAdsHandlers({
      catalog: new XdsCatalog({
        hub,
        lbPolicy: options.xds?.lbPolicy ?? "ROUND_ROBIN",
        logger: xdsLogger,
        signal: lifetime.signal,
        dns: { refreshMs: options.xds?.dnsRefreshMs, lookup: options.xds?.lookup },
      }),
      logger: xdsLogger,
      maxStreams: options.xds?.maxStreams,
      maxResourcesPerStream: options.xds?.maxResourcesPerStream,
      observer: createXdsMetrics(metricsRegistry),
    }),
  );
  const reflection = createReflectionHandlers(SERVED_FILES, SERVED);

  const grpcServer = new GrpcHttp2Server({
    logger: logger.child({ module: "grpc" }),
    pingIntervalMs: options.http2PingIntervalMs,
    pingTimeoutMs: options.http2PingTimeoutMs,
  });
  grpcServer.addService(DiscoveryService, discovery);
  grpcServer.addService(Health, health);
  grpcServer.addService(AggregatedDiscoveryService, xds);
  grpcServer.addService(reflectionV1.ServerReflection, serve(reflectionV1.ServerReflection, reflection.v1));
  grpcServer.addService(reflectionV1alpha.ServerReflection, serve(reflectionV1alpha.ServerReflection, reflection.v1alpha));

  const httpServer = http.createServer(
    createHttpHandler({
      routes: (router) => {
        router.service(DiscoveryService, discovery);
        router.service(Health, health);
      },
      // GET /v1/watch (Server-Sent Events) runs the same Watch handler as gRPC and Connect.
      fallback: createWatchEvents({
        watch: discovery.watch!,
        logger: logger.child({ module: "watch-events" }),
        next: createOperatorPages({
          metrics: metricsRegistry,
          dashboardDir: options.dashboardDir,
          next: options.httpFallback ?? notFound,
          logger: logger.child({ module: "pages" }),
        }),
      }),
      logger: logger.child({ module: "http" }),
    }),
  );
  httpServer.on("clientError", (_error, socket) => socket.destroy());
  const http1 = trackHttp1Connections(httpServer);

  const front = createFront({
    onHttp2: (socket) => grpcServer.accept(socket),
    onHttp1: (socket) => httpServer.emit("connection", socket),
  });
  await listen(front.server, options.host, options.port);
  const address = front.server.address() as AddressInfo;
  const expiryLogger = logger.child({ module: "expiry" });
  startExpiryTimer(registry, { signal: lifetime.signal, onError: (error) => expiryLogger.warn({ err: error }, "expired leases not removed; retrying") });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      lifetime.abort();
      board.setShuttingDown();
      const closed = front.close();
      hub.close(new DiscoveryError("unavailable", "the registry is shutting down; reconnect to another node"));
      const grace = options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
      grpcServer.drain();
      http1.drain();
      const timer = setTimeout(() => front.destroyAll(), grace);
      await closed;
      clearTimeout(timer);
      grpcServer.destroy();
      httpServer.close();
      registry.close();
      await store.close();
    })();
    return closing;
  };

  logger.info({ host: address.address, port: address.port }, "discovery server listening");
  return { host: address.address, port: address.port, registry, store, hub, metrics, prober, shutdownSignal: lifetime.signal, close };
}

function listen(server: import("node:net").Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
}

function notFound(_request: http.IncomingMessage, response: http.ServerResponse): void {
  response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  response.end("not found\n");
}
