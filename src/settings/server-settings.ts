// Rows of the settings table for where the server listens, who may call it,
// and what the registry holds.
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
} from "../core/limits";
import { boolean, decimal, integer, oneOf, optionalTrimmed, optionalText, secondsAsMs, text } from "./kinds";
import { setting } from "./table";

export const DEFAULT_PORT = 3004;
export const DEFAULT_HOST = "0.0.0.0";
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const SERVER_SETTINGS = [
  setting({
    key: "port",
    env: "SERVICE_DISCOVERY_PORT",
    flag: "port",
    help: "the one port for every protocol (0 picks a free port)",
    kind: integer(DEFAULT_PORT, { min: 0, max: 65535 }),
  }),
  setting({
    key: "host",
    env: "SERVICE_DISCOVERY_HOST",
    flag: "host",
    help: "the address to listen on",
    kind: text(DEFAULT_HOST, "an IP address or host name"),
  }),
  setting({
    key: "secret",
    env: "SERVICE_DISCOVERY_SECRET",
    flag: "secret",
    help: "an admin token: with it (or a tokens file) every write and CheckNow requires `authorization: Bearer <token>`",
    more:
      "The calls that change state or make the server act are Register, Heartbeat, KeepAlive, Unregister and drain, CheckNow; reads stay open unless " +
      "SERVICE_DISCOVERY_READ_AUTH. Without either, the server warns at start if it listens beyond loopback. See [Security](#security)",
    kind: optionalText("any text; empty means unset"),
  }),
  setting({
    key: "tokensFile",
    env: "SERVICE_DISCOVERY_TOKENS_FILE",
    flag: "tokens-file",
    help: "JSON file of named tokens and client-certificate identities with scopes (`admin`, `read`, `write:<service glob>`); re-read on SIGHUP",
    more: "Read at start (a bad file stops it) and on SIGHUP (a bad file keeps the old tokens)",
    kind: optionalTrimmed("a file path"),
  }),
  setting({
    key: "readAuth",
    env: "SERVICE_DISCOVERY_READ_AUTH",
    flag: "read-auth",
    help: "true: List*, Watch, GetHealthHistory and /metrics need a token with the read scope",
    more: "The dashboard's data too; `admin` includes `read`. Needs a secret or a tokens file",
    kind: boolean(false),
  }),
  setting({
    key: "certFile",
    group: "tls",
    env: "SERVICE_DISCOVERY_TLS_CERT",
    flag: "tls-cert",
    help: "PEM certificate (chain): TLS for every protocol on the port, plaintext refused; reloaded on SIGHUP",
    more: "Needs SERVICE_DISCOVERY_TLS_KEY",
    kind: optionalTrimmed("a file path"),
  }),
  setting({
    key: "keyFile",
    group: "tls",
    env: "SERVICE_DISCOVERY_TLS_KEY",
    flag: "tls-key",
    help: "PEM private key of the TLS certificate",
    kind: optionalTrimmed("a file path"),
  }),
  setting({
    key: "clientCaFile",
    group: "tls",
    env: "SERVICE_DISCOVERY_TLS_CLIENT_CA",
    flag: "tls-client-ca",
    help: "PEM CA: clients must present a certificate it signed (mTLS)",
    more: "Needs the certificate and key",
    kind: optionalTrimmed("a file path"),
  }),
  setting({
    key: "defaultTtlMs",
    env: "SERVICE_REGISTRATION_TTL_SECONDS",
    flag: "ttl-seconds",
    help: "lease of a Register that gives no ttl",
    more: "Requests may ask for 1 s to 1 h",
    kind: secondsAsMs(DEFAULT_TTL_MS, { min: MIN_TTL_MS, max: MAX_TTL_MS }),
  }),
  setting({
    key: "criticalLoadThreshold",
    env: "CRITICAL_LOAD_THRESHOLD",
    flag: "critical-load-threshold",
    help: "load at which an instance becomes critical",
    kind: decimal(DEFAULT_CRITICAL_LOAD_THRESHOLD, { min: 0, max: 1 }),
  }),
  setting({
    key: "criticalLoadHysteresis",
    env: "CRITICAL_LOAD_HYSTERESIS",
    flag: "critical-load-hysteresis",
    help: "normal again only below threshold minus this",
    more: "At most the threshold",
    kind: decimal(DEFAULT_CRITICAL_LOAD_HYSTERESIS, { min: 0, max: 1 }),
  }),
  setting({
    key: "watchHistorySize",
    env: "WATCH_HISTORY_SIZE",
    flag: "watch-history-size",
    help: "events kept for resuming a Watch",
    kind: integer(DEFAULT_WATCH_HISTORY_SIZE, { min: 0, max: 10_000_000 }),
  }),
  setting({
    key: "watchQueueLimit",
    env: "WATCH_QUEUE_LIMIT",
    flag: "watch-queue-limit",
    help: "events a subscriber may have pending before it is reset",
    kind: integer(DEFAULT_WATCH_QUEUE_LIMIT, { min: 1, max: 10_000_000 }),
  }),
  setting({
    key: "maxInstances",
    env: "DISCOVERY_MAX_INSTANCES",
    flag: "max-instances",
    help: "registrations past this are refused with RESOURCE_EXHAUSTED",
    kind: integer(DEFAULT_MAX_INSTANCES, { min: 1, max: 100_000_000 }),
  }),
  setting({
    key: "maxWatchers",
    env: "DISCOVERY_MAX_WATCHERS",
    flag: "max-watchers",
    help: "Watch streams past this are refused with RESOURCE_EXHAUSTED",
    kind: integer(DEFAULT_MAX_WATCHERS, { min: 1, max: 10_000_000 }),
  }),
  setting({
    key: "logLevel",
    env: "LOG_LEVEL",
    flag: "log-level",
    help: "how much to log",
    more: "Every state change is logged at info; nothing per heartbeat above debug",
    kind: oneOf(LOG_LEVELS, "info"),
  }),
] as const;
