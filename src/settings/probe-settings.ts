// Rows of the settings table for active health probes: their defaults, how
// many run at once, where they may reach, and the operator's probe files.
import {
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_TIMEOUT_MS,
  MAX_HEALTH_CHECK_INTERVAL_MS,
  MAX_HEALTH_CHECK_TIMEOUT_MS,
  MIN_HEALTH_CHECK_INTERVAL_MS,
  MIN_HEALTH_CHECK_TIMEOUT_MS,
} from "../core/limits";
import { createAddressPolicy, DEFAULT_PROBE_DENY } from "../health/address-policy";
import { DEFAULT_PROBE_CONCURRENCY, DEFAULT_PROBE_TICK_MS } from "../health/probe-defaults";
import { ConfigError, integer, optionalTrimmed, secondsAsMs } from "./kinds";
import { list, optionalList, type EntryParser } from "./list-kinds";
import { setting } from "./table";

/** One CIDR (or bare address), checked as the probe address policy will read it. */
function cidr(variable: "DISCOVERY_PROBE_DENY" | "DISCOVERY_PROBE_ALLOW"): EntryParser<string> {
  return (entry, label) => {
    try {
      if (variable === "DISCOVERY_PROBE_DENY") createAddressPolicy([entry]);
      else createAddressPolicy([], [entry]);
    } catch (error) {
      // The policy names the variable; say the flag instead when the value came from one.
      throw new ConfigError(label + (error as Error).message.slice(variable.length));
    }
    return entry;
  };
}

export const PROBE_SETTINGS = [
  setting({
    key: "probeDeny",
    env: "DISCOVERY_PROBE_DENY",
    flag: "probe-deny",
    help: "comma-separated CIDRs health probes (and webhooks) may not reach, checked after DNS at every probe",
    more: "Setting it replaces the default list; an empty value denies nothing",
    kind: list<string>(DEFAULT_PROBE_DENY, "comma-separated IP addresses or CIDRs", cidr("DISCOVERY_PROBE_DENY")),
  }),
  setting({
    key: "probeAllow",
    env: "DISCOVERY_PROBE_ALLOW",
    flag: "probe-allow",
    help: "comma-separated CIDRs: when set, probes reach only these (and never a denied one)",
    kind: optionalList("comma-separated IP addresses or CIDRs", cidr("DISCOVERY_PROBE_ALLOW")),
  }),
  setting({
    key: "healthCheckIntervalMs",
    env: "HEALTH_CHECK_INTERVAL_SECONDS",
    flag: "health-check-interval-seconds",
    help: "time between probes of a check that gives no interval",
    kind: secondsAsMs(DEFAULT_HEALTH_CHECK_INTERVAL_MS, { min: MIN_HEALTH_CHECK_INTERVAL_MS, max: MAX_HEALTH_CHECK_INTERVAL_MS }),
  }),
  setting({
    key: "healthCheckTimeoutMs",
    env: "HEALTH_CHECK_TIMEOUT_SECONDS",
    flag: "health-check-timeout-seconds",
    help: "a probe slower than this fails, for a check that gives no timeout",
    more: "At most the interval",
    kind: secondsAsMs(DEFAULT_HEALTH_CHECK_TIMEOUT_MS, { min: MIN_HEALTH_CHECK_TIMEOUT_MS, max: MAX_HEALTH_CHECK_TIMEOUT_MS }),
  }),
  setting({
    key: "probeConcurrency",
    env: "HEALTH_CHECK_CONCURRENCY",
    flag: "health-check-concurrency",
    help: "probes in flight at most, over all instances; the others wait their turn",
    kind: integer(DEFAULT_PROBE_CONCURRENCY, { min: 1, max: 100_000 }),
  }),
  setting({
    key: "probeTickMs",
    env: "HEALTH_CHECK_TICK_MS",
    flag: "health-check-tick-ms",
    help: "probes due within one tick of this many ms start together, at most this late",
    more: "Waking up once per probe costs more CPU than the probe",
    kind: integer(DEFAULT_PROBE_TICK_MS, { min: 1, max: 1000 }),
  }),
  setting({
    key: "probeStartupDelayMs",
    env: "HEALTH_CHECK_STARTUP_DELAY_SECONDS",
    flag: "health-check-startup-delay-seconds",
    help: "no scheduled probe runs until this long after start; CheckNow is not delayed",
    more: "As seed 000 waits before its first round",
    kind: secondsAsMs(0, { min: 0, max: 3_600_000 }),
  }),
  setting({
    key: "execChecksFile",
    env: "DISCOVERY_EXEC_CHECKS_FILE",
    flag: "exec-checks-file",
    help: "JSON file of the exec checks registrants may name; read at start, a bad file stops the server (exit 2)",
    more: "See [Protocol and exec probes](#protocol-and-exec-probes)",
    kind: optionalTrimmed("a file path"),
  }),
  setting({
    key: "probeSecretsFile",
    env: "DISCOVERY_PROBE_SECRETS_FILE",
    flag: "probe-secrets-file",
    help: "JSON object of named secrets a redis probe may reference by password_ref; read at start",
    kind: optionalTrimmed("a file path"),
  }),
] as const;
