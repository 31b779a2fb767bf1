// `discovery serve` (and `npm start`): the server with the in-memory registry,
// configured from the environment and flags; owns its signals and its exit.
import pino from "pino";
import { ConfigError, loadConfig, startupWarnings, type Config, type Flags } from "../config";
import { startServer, type DiscoveryServer, type ServerOptions } from "../server/create-server";
import { onParentExit } from "./lifetime";
import { createAddressPolicy } from "../health/address-policy";
import { loadExecChecks, loadProbeSecrets, ProbeFileError, type ProbeResources } from "../health/probe-files";

/** A shutdown that takes longer than this exits anyway. */
const SHUTDOWN_DEADLINE_MS = 5_000;

/** Runs the server until SIGTERM or SIGINT, then exits: 0 after a clean shutdown, 2 for a bad setting. */
export async function serve(flags: Flags): Promise<void> {
  let config;
  let probeResources;
  try {
    config = loadConfig(process.env, flags);
    probeResources = loadProbeResources(config);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ProbeFileError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { service: "discovery" } });
  for (const warning of startupWarnings(config)) logger.warn({ host: config.host }, warning);
  // Signals are handled from the start: one that arrives while the server is
  // still starting stops it as soon as it is up.
  let stopping: NodeJS.Signals | undefined;
  let server: DiscoveryServer | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping !== undefined) return;
    stopping = signal;
    logger.info({ signal }, "shutting down");
    setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    if (server !== undefined) void stop(server);
  };
  const stop = (running: DiscoveryServer) =>
    running.close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  // Under npx or npm run, a SIGTERM to npm does not get past its shell: its exit is the sign.
  onParentExit(() => shutdown("SIGTERM"));
  // SIGHUP re-reads the tokens file and the TLS certificates; a bad one keeps the old and logs why.
  process.on("SIGHUP", () => {
    if (server === undefined || stopping !== undefined) return;
    logger.info({ reloaded: server.reload() }, "SIGHUP: reload done");
  });

  try {
    server = await startServer({ ...serverOptions(config, logger), probeResources });
  } catch (error) {
    console.error("discovery server failed to start:", error);
    process.exit(1);
  }
  if (stopping !== undefined) await stop(server);
}

/** The server's options for a validated config. */
export function serverOptions(config: Config, logger: pino.Logger): ServerOptions {
  return {
    host: config.host,
    port: config.port,
    logger,
    secret: config.secret,
    tokensFile: config.tokensFile,
    readAuth: config.readAuth,
    tls: config.tls,
    probeAddressPolicy: createAddressPolicy(config.probeDeny, config.probeAllow),
    store: config.store,
    etcd: config.etcd,
    limits: {
      defaultTtlMs: config.defaultTtlMs,
      criticalLoadThreshold: config.criticalLoadThreshold,
      criticalLoadHysteresis: config.criticalLoadHysteresis,
      historySize: config.watchHistorySize,
      maxInstances: config.maxInstances,
      healthCheckIntervalMs: config.healthCheckIntervalMs,
      healthCheckTimeoutMs: config.healthCheckTimeoutMs,
    },
    probeConcurrency: config.probeConcurrency,
    probeTickMs: config.probeTickMs,
    watchQueueLimit: config.watchQueueLimit,
    maxWatchers: config.maxWatchers,
    http2KeepAliveMs: config.http2KeepAliveMs,
    http2KeepAliveTimeoutMs: config.http2KeepAliveTimeoutMs,
    xds: {
      lbPolicy: config.xdsLbPolicy,
      maxStreams: config.xdsMaxStreams,
      maxResourcesPerStream: config.xdsMaxResourcesPerStream,
      dnsRefreshMs: config.xdsDnsRefreshMs,
      dnsMaxHosts: config.xdsDnsMaxHosts,
      dnsConcurrency: config.xdsDnsConcurrency,
      dnsTimeoutMs: config.xdsDnsTimeoutMs,
      emptyServiceRetainMs: config.xdsEmptyServiceRetainMs,
      maxEmptyServices: config.xdsMaxEmptyServices,
    },
    peerLimits: {
      maxMessageBytes: config.maxMessageBytes,
      http2MaxConcurrentStreams: config.http2MaxConcurrentStreams,
      headersTimeoutMs: config.headersTimeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      goawayGraceMs: config.goawayGraceMs,
      listCacheBytes: config.listCacheBytes,
    },
    sinks: { nats: config.nats, webhooks: config.webhooks },
    probeStartupDelayMs: config.probeStartupDelayMs,
  };
}

/** Reads the operator's probe files named by the config; throws ProbeFileError naming the setting. */
export function loadProbeResources(config: Config): ProbeResources {
  return {
    execChecks: config.execChecksFile === undefined ? new Map() : loadExecChecks(config.execChecksFile),
    secrets: config.probeSecretsFile === undefined ? new Map() : loadProbeSecrets(config.probeSecretsFile),
  };
}
