// Assembles the registry, the watch hub, the services and the one-port front,
// and owns their lifetime: start listening, and shut down in order.
import { setMaxListeners } from "node:events";
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
import { clusterMembership, onStoreSync, openStore, probeOwnership, type StoreKind } from "../store/open-store";
import type { EtcdStoreSettings } from "../store/etcd/settings";
import { createMetrics, type Metrics } from "../metrics/metrics";
import { startExpiryTimer } from "../runtime/expiry-timer";
import { createProber, type Prober } from "../health/prober";
import type { Scheduler } from "../health/scheduler";
import type { ProbeResources } from "../health/probe-files";
import { WatchHub } from "../watch/watch-hub";
import { createAuthorizer } from "../services/access/authorizer";
import { createCredentialStore } from "../services/access/credential-store";
import { DISCOVERY_ACCESS, HEALTH_ACCESS, sameAccess, withAccessControl, type MethodRule } from "../services/access/method-access";
import { checkLiteralHost, createAddressPolicy, type AddressPolicy } from "../health/address-policy";
import { resolveAllowed, type Lookup } from "../health/probe-address";
import { createTlsListener, type TlsFiles } from "../transport/tls-listener";
import { createDiscoveryHandlers } from "../services/discovery/handlers";
import { ListCache } from "../services/discovery/list-cache";
import { createFront } from "../transport/front";
import { GrpcHttp2Server } from "../transport/grpc-http2/server";
import { createGrpcJsTransport } from "../transport/grpc-js/transport";
import type { Handlers, Transport } from "../transport/contract";
import { createDiscoveryCodecs } from "../services/discovery/codecs";
import { withCallObserver, withErrorMapping } from "../services/middleware/wrap-handlers";
import { HealthBoard } from "../services/grpc-health/board";
import { createHealthHandlers } from "../services/grpc-health/handlers";
import { createHttpHandler } from "../transport/http1/handler";
import { drainConnections } from "../transport/drain-connections";
import { trackHttp1Connections } from "../transport/http1/drain";
import { limitHttp1Connections } from "../transport/http1/connection-timeouts";
import { PEER_LIMIT_DEFAULTS, type PeerLimits } from "../transport/peer-limits";
import { logRegistryEvents } from "../services/discovery/event-logging";
import { createOperatorPages } from "../services/operator-pages";
import { createReflectionHandlers } from "../services/reflection";
import { AggregatedDiscoveryService, file_envoy_service_discovery_v3_ads } from "../../gen/envoy/service/discovery/v3/ads_pb";
import { createXdsMetrics } from "../metrics/xds-metrics";
import { createAdsHandlers } from "../services/xds/ads-service";
import { createAdsCodecs } from "../services/xds/ads-codecs";
import { XdsCatalog } from "../services/xds/catalog";
import type { HostLookup } from "../services/xds/address-book";
import type { LbPolicyName } from "../services/xds/resources";
import { createWatchEvents } from "../services/watch-events";
import { createRestRoutes } from "../services/rest/rest-routes";
import { startSinks, type SinksOptions } from "../sinks/start-sinks";

/** How long in-flight calls get to finish at shutdown before connections are cut. */
export const SHUTDOWN_GRACE_MS = 2_000;

export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** When set, every write and admin call requires `authorization: Bearer <secret>` (an admin token). */
  secret?: string;
  /** SERVICE_DISCOVERY_TOKENS_FILE: named tokens and certificate identities with scopes; re-read by reload(). */
  tokensFile?: string;
  /** SERVICE_DISCOVERY_READ_AUTH: reads (List*, Watch, GetHealthHistory, /metrics) need the `read` scope. */
  readAuth?: boolean;
  /** TLS (and mTLS with a client CA) for every protocol on the port; plaintext is then refused. */
  tls?: TlsFiles;
  /** Addresses probes may reach (DISCOVERY_PROBE_DENY / _ALLOW; default: DEFAULT_PROBE_DENY). */
  probeAddressPolicy?: AddressPolicy;
  /** Name resolution for probes (tests point names at chosen addresses). */
  probeLookup?: Lookup;
  clock?: Clock;
  /** Where the registry lives (DISCOVERY_STORE, default memory). */
  store?: StoreKind;
  /** Cluster mode's settings (DISCOVERY_STORE=etcd). */
  etcd?: Partial<EtcdStoreSettings>;
  limits?: Partial<RegistryLimits>;
  watchQueueLimit?: number;
  maxWatchers?: number;
  shutdownGraceMs?: number;
  /** HTTP/2 keepalive pings (HTTP2_KEEPALIVE_SECONDS, see GrpcHttp2ServerOptions); 0 turns them off. */
  http2KeepAliveMs?: number;
  /** An unanswered keepalive ping drops its connection after this long (HTTP2_KEEPALIVE_TIMEOUT_SECONDS). */
  http2KeepAliveTimeoutMs?: number;
  /** Which gRPC server runs behind the front: ours (node:http2, the default) or grpc-js's (a bench target). */
  grpcTransport?: "http2" | "grpc-js";
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
  /** The operator's exec checks and probe secrets (DISCOVERY_EXEC_CHECKS_FILE, DISCOVERY_PROBE_SECRETS_FILE). */
  probeResources?: ProbeResources;
  /** No scheduled probe runs before this many ms after start (HEALTH_CHECK_STARTUP_DELAY_SECONDS). */
  probeStartupDelayMs?: number;
  /** NATS and webhook sinks (default: none). */
  sinks?: SinksOptions;
  /** The xDS server (XDS_* settings). */
  xds?: XdsOptions;
  /** What one peer may make the server hold or keep open (README "Limits"). */
  peerLimits?: Partial<PeerLimits>;
}

export interface XdsOptions {
  lbPolicy?: LbPolicyName;
  maxStreams?: number;
  maxResourcesPerStream?: number;
  dnsRefreshMs?: number;
  /** Hostnames kept resolved at most (XDS_DNS_MAX_HOSTS). */
  dnsMaxHosts?: number;
  /** Lookups at once at most (XDS_DNS_CONCURRENCY). */
  dnsConcurrency?: number;
  /** A slower lookup counts as failed (XDS_DNS_TIMEOUT_SECONDS). */
  dnsTimeoutMs?: number;
  /** A service that lost its last instance keeps its resources at least this long (XDS_EMPTY_SERVICE_RETAIN_SECONDS). */
  emptyServiceRetainMs?: number;
  /** Such services kept at most (XDS_MAX_EMPTY_SERVICES). */
  maxEmptyServices?: number;
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
  /**
   * Re-reads the tokens file and the TLS certificates (SIGHUP). Whatever is bad
   * keeps its old value and is logged; the result says what was reloaded.
   */
  reload(): { tokens: boolean | undefined; tls: boolean | undefined };
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
  const peerLimits: PeerLimits = { ...PEER_LIMIT_DEFAULTS, ...options.peerLimits };
  const logger = options.logger;
  // Shutdown is this one signal: the hub, the health board, the prober, the
  // expiry timer, the sinks, the xDS catalog and every KeepAlive, Watch and ADS
  // stream (through CallContext.shutdownSignal) subscribe to it.
  const lifetime = new AbortController();
  // One listener per open stream is the design, not a leak: no cap (Node warns past 10).
  setMaxListeners(0, lifetime.signal);

  const probePolicy = options.probeAddressPolicy ?? createAddressPolicy();
  // A memory store's revisions start at the start time in microseconds: never reused across restarts.
  const store = await openStore(options.store ?? "memory", {
    baseRevision: clock.now() * 1000,
    historySize: options.limits?.historySize ?? DEFAULT_WATCH_HISTORY_SIZE,
    // Told to the other nodes: each event goes to a sink from one node that has it.
    etcd: { ...options.etcd, sinks: [...(options.sinks?.nats ? ["nats"] : []), ...(options.sinks?.webhooks ? ["webhook"] : [])] },
    now: () => clock.now(),
    logger: logger.child({ module: "store" }),
  });
  const registry = new Registry({ store, clock, newInstanceId: randomUUID, limits: options.limits, probeHostRule: (host) => checkLiteralHost(probePolicy, host) });
  // Read before anything listens: a missing or bad tokens file or certificate stops the start.
  const accessLogger = logger.child({ module: "access" });
  const credentialStore = options.tokensFile === undefined ? undefined : createCredentialStore(options.tokensFile, accessLogger);
  const tlsListener = options.tls === undefined ? undefined : createTlsListener(options.tls, logger.child({ module: "tls" }));
  const authorize = createAuthorizer({ secret: options.secret, credentials: credentialStore?.current, readAuth: options.readAuth });
  const hub = new WatchHub({
    store,
    queueLimit: options.watchQueueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT,
    maxWatchers: options.maxWatchers ?? DEFAULT_MAX_WATCHERS,
    signal: lifetime.signal,
  });
  const board = new HealthBoard(store, [DiscoveryService.typeName], { signal: lifetime.signal });
  onStoreSync(store, (inSync) => board.setStoreInSync(inSync));
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
          addressPolicy: probePolicy,
          lookup: options.probeLookup,
          resources: options.probeResources,
          startupDelayMs: options.probeStartupDelayMs,
          owns: probeOwnership(store),
        });

  const rpcLogger = logger.child({ module: "rpc" });
  // Errors get their wire code first, so the observer counts the code clients see.
  // Access is checked first, inside the error mapping, so refusals reach the wire with their codes.
  const serve = <S extends DescService>(service: S, handlers: Handlers<S>, access: Partial<Record<string, MethodRule>>) =>
    withCallObserver(service, withErrorMapping(service, withAccessControl(service, handlers, access, authorize), rpcLogger), metrics.rpcObserver);
  const discovery = serve(
    DiscoveryService,
    createDiscoveryHandlers({
      registry,
      hub,
      authorizeWrite: authorize.enabled ? (context, service) => authorize({ kind: "write", service, credentials: context }) : undefined,
      onHeartbeat: metrics.heartbeat,
      logger: logger.child({ module: "keep-alive" }),
      prober,
      listCache: new ListCache(peerLimits.listCacheBytes),
      probeResources: options.probeResources,
    }),
    DISCOVERY_ACCESS,
  );
  const health = serve(Health, createHealthHandlers(board), HEALTH_ACCESS);
  const xdsLogger = logger.child({ module: "xds" });
  const xds = serve(
    AggregatedDiscoveryService,
    createAdsHandlers({
      catalog: new XdsCatalog({
        hub,
        lbPolicy: options.xds?.lbPolicy ?? "ROUND_ROBIN",
        logger: xdsLogger,
        signal: lifetime.signal,
        emptyServices: { retainMs: options.xds?.emptyServiceRetainMs, max: options.xds?.maxEmptyServices },
        dns: {
          refreshMs: options.xds?.dnsRefreshMs,
          maxHosts: options.xds?.dnsMaxHosts,
          maxLookups: options.xds?.dnsConcurrency,
          lookupTimeoutMs: options.xds?.dnsTimeoutMs,
          lookup: options.xds?.lookup,
        },
      }),
      logger: xdsLogger,
      maxStreams: options.xds?.maxStreams,
      maxResourcesPerStream: options.xds?.maxResourcesPerStream,
      observer: createXdsMetrics(metricsRegistry),
    }),
    // ADS streams the registry's endpoints to proxyless clients: a read.
    sameAccess(AggregatedDiscoveryService, { kind: "read" }),
  );
  const reflection = createReflectionHandlers(SERVED_FILES, SERVED);

  const transportOptions = {
    logger: logger.child({ module: "grpc" }),
    keepAliveMs: options.http2KeepAliveMs,
    keepAliveTimeoutMs: options.http2KeepAliveTimeoutMs,
    onFault: () => metrics.streamFault(),
    maxReceiveMessageBytes: peerLimits.maxMessageBytes,
    maxConcurrentStreams: peerLimits.http2MaxConcurrentStreams,
    headersTimeoutMs: peerLimits.headersTimeoutMs,
    idleTimeoutMs: peerLimits.idleTimeoutMs,
    goawayGraceMs: peerLimits.goawayGraceMs,
    shutdownSignal: lifetime.signal,
  };
  const grpcServer: Transport = options.grpcTransport === "grpc-js" ? createGrpcJsTransport(transportOptions) : new GrpcHttp2Server(transportOptions);
  grpcServer.addService(DiscoveryService, discovery, createDiscoveryCodecs());
  grpcServer.addService(Health, health);
  grpcServer.addService(AggregatedDiscoveryService, xds, createAdsCodecs());
  const reflectionAccess = { kind: "public" } as const;
  grpcServer.addService(reflectionV1.ServerReflection, serve(reflectionV1.ServerReflection, reflection.v1, sameAccess(reflectionV1.ServerReflection, reflectionAccess)));
  grpcServer.addService(
    reflectionV1alpha.ServerReflection,
    serve(reflectionV1alpha.ServerReflection, reflection.v1alpha, sameAccess(reflectionV1alpha.ServerReflection, reflectionAccess)),
  );

  const httpServer = http.createServer(
    createHttpHandler({
      routes: (mount) => {
        mount(DiscoveryService, discovery);
        mount(Health, health);
      },
      // GET /v1/watch (Server-Sent Events) runs the same Watch handler as gRPC and Connect.
      fallback: createWatchEvents({
        watch: discovery.watch!,
        logger: logger.child({ module: "watch-events" }),
        shutdownSignal: lifetime.signal,
        next: createOperatorPages({
          metrics: metricsRegistry,
          dashboardDir: options.dashboardDir,
          next: createRestRoutes({
            discovery,
            serving: () => !board.isShuttingDown,
            next: options.httpFallback ?? notFound,
            logger: logger.child({ module: "rest" }),
            shutdownSignal: lifetime.signal,
          }),
          logger: logger.child({ module: "pages" }),
          authorize,
        }),
      }),
      logger: logger.child({ module: "http" }),
      maxMessageBytes: peerLimits.maxMessageBytes,
      shutdownSignal: lifetime.signal,
    }),
  );
  httpServer.on("clientError", (_error, socket) => socket.destroy());
  const http1 = trackHttp1Connections(httpServer);
  limitHttp1Connections(httpServer, peerLimits.headersTimeoutMs, peerLimits.bodyTimeoutMs);

  const front = createFront({
    onHttp2: (socket) => grpcServer.accept(socket),
    onHttp1: (socket) => httpServer.emit("connection", socket),
    tls: tlsListener,
  });
  await listen(front.server, options.host, options.port);
  const address = front.server.address() as AddressInfo;
  const expiryLogger = logger.child({ module: "expiry" });
  startExpiryTimer(registry, { signal: lifetime.signal, onError: (error) => expiryLogger.warn({ err: error }, "expired leases not removed; retrying") });
  // Webhooks dial only where probes may: the probe address policy, after resolution.
  const sinks: SinksOptions = {
    cluster: clusterMembership(store),
    ...options.sinks,
    checkWebhookTarget: options.sinks?.checkWebhookTarget ?? ((host, signal) => resolveAllowed(probePolicy, host, { lookup: options.probeLookup, signal })),
  };
  const sinksStopped = startSinks(sinks, { registry, metrics: metricsRegistry, logger, signal: lifetime.signal });

  let closing: Promise<void> | undefined;
  const close = () => {
    // The services end their long-lived calls themselves; what is left is the
    // connections: no new ones, GOAWAY / Connection: close, cut after the grace.
    lifetime.abort(new DiscoveryError("unavailable", "the registry is shutting down; reconnect to another node"));
    closing ??= (async () => {
      await drainConnections({ front, grpc: grpcServer, http1, graceMs: options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS });
      grpcServer.destroy();
      httpServer.close();
      await sinksStopped;
      registry.close();
      await store.close();
    })();
    return closing;
  };

  const reload = () => {
    const tokens = credentialStore?.reload();
    let tls: boolean | undefined;
    if (tlsListener !== undefined) {
      try {
        tlsListener.reload();
        tls = true;
      } catch (error) {
        logger.error({ reason: (error as Error).message }, "TLS certificates not reloaded; keeping the previous ones");
        tls = false;
      }
    }
    return { tokens, tls };
  };

  logger.info({ host: address.address, port: address.port, tls: tlsListener !== undefined, auth: authorize.enabled }, "discovery server listening");
  return { host: address.address, port: address.port, registry, store, hub, metrics, prober, shutdownSignal: lifetime.signal, close, reload };
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
