// `npm start`: the server with the in-memory registry, configured from the
// environment. The only place that reads process.env, handles signals or exits.
import pino from "pino";
import { ConfigError, loadConfig, startupWarnings } from "../config";
import { startServer, type DiscoveryServer } from "../server/create-server";

/** A shutdown that takes longer than this exits anyway. */
const SHUTDOWN_DEADLINE_MS = 5_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
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

  server = await startServer({
    host: config.host,
    port: config.port,
    logger,
    secret: config.secret,
    limits: {
      defaultTtlMs: config.defaultTtlMs,
      criticalLoadThreshold: config.criticalLoadThreshold,
      criticalLoadHysteresis: config.criticalLoadHysteresis,
      historySize: config.watchHistorySize,
      maxInstances: config.maxInstances,
    },
    watchQueueLimit: config.watchQueueLimit,
    maxWatchers: config.maxWatchers,
  });
  if (stopping !== undefined) await stop(server);
}

main().catch((error: unknown) => {
  console.error("discovery server failed to start:", error);
  process.exit(1);
});
