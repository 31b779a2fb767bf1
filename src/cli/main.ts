// `npm start`: the server with the in-memory registry, configured from the
// environment. The only place that reads process.env, handles signals or exits.
import pino from "pino";
import { ConfigError, isLoopback, loadConfig } from "../config";
import { startServer } from "../server/create-server";

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
  if (config.secret === undefined && !isLoopback(config.host)) {
    logger.warn(
      { host: config.host },
      "SERVICE_DISCOVERY_SECRET is not set and the server listens beyond loopback: anyone who can reach it can register and unregister instances",
    );
  }
  const server = await startServer({
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
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "shutting down");
    setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    server.close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  console.error("discovery server failed to start:", error);
  process.exit(1);
});
