// Environment variables → one typed, validated Config. A bad value stops the
// server at start with a message naming the variable, never a silent default.
import {
  DEFAULT_CRITICAL_LOAD_HYSTERESIS,
  DEFAULT_CRITICAL_LOAD_THRESHOLD,
  DEFAULT_MAX_INSTANCES,
  DEFAULT_MAX_WATCHERS,
  DEFAULT_TTL_MS,
  DEFAULT_WATCH_HISTORY_SIZE,
  DEFAULT_WATCH_QUEUE_LIMIT,
  MAX_TTL_MS,
  MIN_TTL_MS,
} from "./core/limits";

export const DEFAULT_PORT = 3004;
export const DEFAULT_HOST = "0.0.0.0";
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export interface Config {
  host: string;
  port: number;
  secret: string | undefined;
  defaultTtlMs: number;
  criticalLoadThreshold: number;
  criticalLoadHysteresis: number;
  watchHistorySize: number;
  watchQueueLimit: number;
  maxInstances: number;
  maxWatchers: number;
  logLevel: (typeof LOG_LEVELS)[number];
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env): Config {
  const threshold = number(env, "CRITICAL_LOAD_THRESHOLD", DEFAULT_CRITICAL_LOAD_THRESHOLD, 0, 1);
  const hysteresis = number(env, "CRITICAL_LOAD_HYSTERESIS", DEFAULT_CRITICAL_LOAD_HYSTERESIS, 0, 1);
  if (hysteresis > threshold) {
    throw new ConfigError("CRITICAL_LOAD_HYSTERESIS must not exceed CRITICAL_LOAD_THRESHOLD");
  }
  const logLevel = (env.LOG_LEVEL ?? "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got ${JSON.stringify(env.LOG_LEVEL)})`);
  }
  const host = env.SERVICE_DISCOVERY_HOST ?? DEFAULT_HOST;
  if (host.trim() === "") throw new ConfigError("SERVICE_DISCOVERY_HOST must not be empty");
  return {
    host,
    port: integer(env, "SERVICE_DISCOVERY_PORT", DEFAULT_PORT, 0, 65535),
    secret: env.SERVICE_DISCOVERY_SECRET === "" ? undefined : env.SERVICE_DISCOVERY_SECRET,
    defaultTtlMs: number(env, "SERVICE_REGISTRATION_TTL_SECONDS", DEFAULT_TTL_MS / 1000, MIN_TTL_MS / 1000, MAX_TTL_MS / 1000) * 1000,
    criticalLoadThreshold: threshold,
    criticalLoadHysteresis: hysteresis,
    watchHistorySize: integer(env, "WATCH_HISTORY_SIZE", DEFAULT_WATCH_HISTORY_SIZE, 0, 10_000_000),
    watchQueueLimit: integer(env, "WATCH_QUEUE_LIMIT", DEFAULT_WATCH_QUEUE_LIMIT, 1, 10_000_000),
    maxInstances: integer(env, "DISCOVERY_MAX_INSTANCES", DEFAULT_MAX_INSTANCES, 1, 100_000_000),
    maxWatchers: integer(env, "DISCOVERY_MAX_WATCHERS", DEFAULT_MAX_WATCHERS, 1, 10_000_000),
    logLevel: logLevel as Config["logLevel"],
  };
}

function number(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = number(env, name, fallback, min, max);
  if (!Number.isInteger(value)) throw new ConfigError(`${name} must be a whole number (got ${JSON.stringify(env[name])})`);
  return value;
}

/** True when the host accepts connections only from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** What an operator should hear about at start: risky settings, not errors. */
export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.secret === undefined && !isLoopback(config.host)) {
    warnings.push(
      "SERVICE_DISCOVERY_SECRET is not set and the server listens beyond loopback: anyone who can reach it can register and unregister instances",
    );
  }
  return warnings;
}
