// Every input rule of the registry, in one place. Each rejection names the field
// and the rule it broke, and nothing is changed when a rule fails.
import { invalidArgument } from "./errors";
import type { HealthCheckInput, HealthCheckSpec, HealthStatus, HeartbeatInput, ProbeSpec, RegisterInput, ReportedStatus, ValidRegisterInput } from "./types";
import {
  DEFAULT_HEALTHY_THRESHOLD,
  DEFAULT_UNHEALTHY_THRESHOLD,
  HEALTH_PATH_MAX_LENGTH,
  HOST_MAX_LENGTH,
  HTTP_PROBE_HEADER_VALUE_MAX_BYTES,
  HTTP_PROBE_MAX_HEADERS,
  MAX_HEALTH_CHECK_INTERVAL_MS,
  MAX_HEALTH_CHECK_TIMEOUT_MS,
  MAX_HEALTH_THRESHOLD,
  MIN_HEALTH_CHECK_INTERVAL_MS,
  MIN_HEALTH_CHECK_TIMEOUT_MS,
  INSTANCE_ID_MAX_LENGTH,
  PROBE_NAME_MAX_BYTES,
  PROBE_REF_MAX_LENGTH,
  MAX_DRAIN_MS,
  MAX_TTL_MS,
  METADATA_KEY_MAX_LENGTH,
  METADATA_MAX_ENTRIES,
  METADATA_VALUE_MAX_BYTES,
  MIN_TTL_MS,
  SERVICE_NAME_MAX_LENGTH,
} from "./limits";

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const METADATA_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
/** C0 and C1 control characters and DEL: a terminal acts on them (ESC[2J clears the screen). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Keys that mean something to JavaScript objects; refused so no reader's map loses or misreads them. */
const RESERVED_METADATA_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A host's probes may be refused by the server's address policy (injected: the core does no I/O). */
export type ProbeHostRule = (host: string) => string | undefined;

export function validateServiceName(value: string, field = "service_name"): string {
  if (value.length === 0) throw invalidArgument(field, "is required");
  if (value.length > SERVICE_NAME_MAX_LENGTH) {
    throw invalidArgument(field, `must be at most ${SERVICE_NAME_MAX_LENGTH} characters`);
  }
  if (!SERVICE_NAME.test(value)) {
    throw invalidArgument(field, "must be letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return value;
}

/** Instance ids are required except on Register, where empty means "assign one". */
export function validateInstanceId(value: string, required: boolean): string {
  if (value.length === 0) {
    if (required) throw invalidArgument("instance_id", "is required");
    return value;
  }
  if (value.length > INSTANCE_ID_MAX_LENGTH) {
    throw invalidArgument("instance_id", `must be at most ${INSTANCE_ID_MAX_LENGTH} characters`);
  }
  if (!INSTANCE_ID.test(value)) {
    throw invalidArgument("instance_id", "must be letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
  }
  return value;
}

export function validateLoad(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw invalidArgument("load_percentage", "must be a finite number from 0 to 1");
  }
  return value;
}

function validateHost(value: string): string {
  if (value.length === 0) throw invalidArgument("host", "is required");
  if (value.length > HOST_MAX_LENGTH) throw invalidArgument("host", `must be at most ${HOST_MAX_LENGTH} characters`);
  if (CONTROL.test(value)) throw invalidArgument("host", "must not contain control characters");
  if (/[\s/]/.test(value)) throw invalidArgument("host", "must be a host name or IP address, without spaces or '/'");
  return value;
}

function validatePort(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidArgument("port", "must be from 1 to 65535");
  }
  return value;
}

function validateHealthEndpoint(value: string, field = "health_endpoint"): string {
  if (value.length > HEALTH_PATH_MAX_LENGTH) throw invalidArgument(field, `must be at most ${HEALTH_PATH_MAX_LENGTH} characters`);
  if (value.length > 0 && !value.startsWith("/")) throw invalidArgument(field, "must be a path starting with '/'");
  if (/[\s#]/.test(value)) throw invalidArgument(field, "must not contain spaces or '#'");
  return value;
}

function validateMetadata(value: Record<string, string>): Record<string, string> {
  const keys = Object.keys(value);
  if (keys.length > METADATA_MAX_ENTRIES) {
    throw invalidArgument("metadata", `must have at most ${METADATA_MAX_ENTRIES} entries`);
  }
  for (const key of keys) {
    if (RESERVED_METADATA_KEYS.has(key)) throw invalidArgument(`metadata[${JSON.stringify(key)}]`, "key is reserved");
    if (key.length === 0 || key.length > METADATA_KEY_MAX_LENGTH || !METADATA_KEY.test(key)) {
      throw invalidArgument(
        `metadata[${JSON.stringify(key)}]`,
        `key must be 1 to ${METADATA_KEY_MAX_LENGTH} letters, digits, '.', '_', '/' or '-', starting with a letter or digit`,
      );
    }
    if (CONTROL.test(value[key] ?? "")) throw invalidArgument(`metadata[${JSON.stringify(key)}]`, "value must not contain control characters");
    if (utf8Length(value[key] ?? "") > METADATA_VALUE_MAX_BYTES) {
      throw invalidArgument(`metadata[${JSON.stringify(key)}]`, `value must be at most ${METADATA_VALUE_MAX_BYTES} bytes`);
    }
  }
  return value;
}

function validateTtl(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < MIN_TTL_MS || value > MAX_TTL_MS) {
    throw invalidArgument("ttl", "must be from 1s to 1h");
  }
  return value;
}

/** The server's defaults for what a health check leaves out. */
export interface HealthCheckDefaults {
  healthCheckIntervalMs: number;
  healthCheckTimeoutMs: number;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade", "te"]);

/**
 * Resolves a Register request's probing: its health_check with defaults applied,
 * an HTTP GET of health_endpoint when only that is given, or none.
 */
export function validateHealthCheck(
  check: HealthCheckInput | undefined,
  healthEndpoint: string,
  defaults: HealthCheckDefaults,
): HealthCheckSpec | undefined {
  if (check === undefined) {
    if (healthEndpoint === "") return undefined;
    check = { probe: undefined, intervalMs: undefined, timeoutMs: undefined, healthyThreshold: 0, unhealthyThreshold: 0, degradedLatencyMs: undefined };
  }
  const probe = validateProbe(check.probe, healthEndpoint);
  const intervalMs = check.intervalMs ?? defaults.healthCheckIntervalMs;
  if (!Number.isFinite(intervalMs) || intervalMs < MIN_HEALTH_CHECK_INTERVAL_MS || intervalMs > MAX_HEALTH_CHECK_INTERVAL_MS) {
    throw invalidArgument("health_check.interval", "must be from 1s to 1h");
  }
  // A probe never outlives its interval, so probes of one instance cannot overlap.
  const timeoutMs = check.timeoutMs ?? Math.min(defaults.healthCheckTimeoutMs, intervalMs);
  if (!Number.isFinite(timeoutMs) || timeoutMs < MIN_HEALTH_CHECK_TIMEOUT_MS || timeoutMs > MAX_HEALTH_CHECK_TIMEOUT_MS) {
    throw invalidArgument("health_check.timeout", "must be from 1ms to 60s");
  }
  if (timeoutMs > intervalMs) throw invalidArgument("health_check.timeout", "must not exceed the interval");
  const degradedLatencyMs = check.degradedLatencyMs;
  if (degradedLatencyMs !== undefined && (!Number.isFinite(degradedLatencyMs) || degradedLatencyMs <= 0 || degradedLatencyMs >= timeoutMs)) {
    throw invalidArgument("health_check.degraded_latency", "must be more than 0 and shorter than the timeout");
  }
  return {
    probe,
    intervalMs,
    timeoutMs,
    healthyThreshold: validateThreshold(check.healthyThreshold, DEFAULT_HEALTHY_THRESHOLD, "health_check.healthy_threshold"),
    unhealthyThreshold: validateThreshold(check.unhealthyThreshold, DEFAULT_UNHEALTHY_THRESHOLD, "health_check.unhealthy_threshold"),
    degradedLatencyMs,
  };
}

function validateProbe(probe: ProbeSpec | undefined, healthEndpoint: string): ProbeSpec {
  if (probe === undefined) {
    if (healthEndpoint === "") throw invalidArgument("health_check", "needs one of http, tcp, grpc, redis, postgres or exec (or a health_endpoint to GET)");
    probe = { t: "http", path: healthEndpoint, expectedStatusMin: 0, expectedStatusMax: 0, headers: {} };
  }
  switch (probe.t) {
    case "tcp":
      return { t: "tcp" };
    case "grpc":
      if (probe.service.length > 255) throw invalidArgument("health_check.grpc.service", "must be at most 255 characters");
      return { t: "grpc", service: probe.service };
    case "redis":
      return {
        t: "redis",
        passwordRef: probe.passwordRef === "" ? "" : validateRef(probe.passwordRef, "health_check.redis.password_ref"),
        username: validateProtocolName(probe.username, "health_check.redis.username", ""),
      };
    case "postgres":
      return {
        t: "postgres",
        user: validateProtocolName(probe.user, "health_check.postgres.user", "postgres"),
        database: validateProtocolName(probe.database, "health_check.postgres.database", "postgres"),
      };
    case "exec":
      if (probe.name === "") throw invalidArgument("health_check.exec.name", "is required: the name of a check in the operator's exec checks file");
      return { t: "exec", name: validateRef(probe.name, "health_check.exec.name") };
    case "http": {
      const path = validateHealthEndpoint(probe.path || healthEndpoint, "health_check.http.path");
      if (path === "") throw invalidArgument("health_check.http.path", "is required (or give a health_endpoint)");
      const min = probe.expectedStatusMin === 0 ? 200 : probe.expectedStatusMin;
      const max = probe.expectedStatusMax === 0 ? Math.max(399, min) : probe.expectedStatusMax;
      if (!Number.isInteger(min) || min < 100 || min > 599) throw invalidArgument("health_check.http.expected_status_min", "must be from 100 to 599");
      if (!Number.isInteger(max) || max < min || max > 599) {
        throw invalidArgument("health_check.http.expected_status_max", "must be from expected_status_min to 599");
      }
      return { t: "http", path, expectedStatusMin: min, expectedStatusMax: max, headers: validateProbeHeaders(probe.headers) };
    }
  }
}

const REF = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A name of something the operator configured (a secret, an exec check). */
function validateRef(value: string, field: string): string {
  if (value.length > PROBE_REF_MAX_LENGTH || !REF.test(value)) {
    throw invalidArgument(field, `must be 1 to ${PROBE_REF_MAX_LENGTH} letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return value;
}

/** A user or database name sent in a protocol message: printable, bounded, "" takes the default. */
function validateProtocolName(value: string, field: string, fallback: string): string {
  if (value === "") return fallback;
  if (utf8Length(value) > PROBE_NAME_MAX_BYTES || /[\u0000-\u001f\u007f\s]/.test(value)) {
    throw invalidArgument(field, `must be at most ${PROBE_NAME_MAX_BYTES} bytes without spaces or control characters`);
  }
  return value;
}

function validateProbeHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const names = Object.keys(headers);
  if (names.length > HTTP_PROBE_MAX_HEADERS) throw invalidArgument("health_check.http.headers", `must have at most ${HTTP_PROBE_MAX_HEADERS} entries`);
  for (const name of names) {
    const field = `health_check.http.headers[${JSON.stringify(name)}]`;
    if (!HEADER_NAME.test(name)) throw invalidArgument(field, "name must be an HTTP token");
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalidArgument(field, "is set by the prober and may not be given");
    const value = headers[name] ?? "";
    if (/[\r\n\0]/.test(value)) throw invalidArgument(field, "value must not contain CR, LF or NUL");
    if (utf8Length(value) > HTTP_PROBE_HEADER_VALUE_MAX_BYTES) {
      throw invalidArgument(field, `value must be at most ${HTTP_PROBE_HEADER_VALUE_MAX_BYTES} bytes`);
    }
  }
  return { ...headers };
}

function validateThreshold(value: number, fallback: number, field: string): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_HEALTH_THRESHOLD) throw invalidArgument(field, `must be from 1 to ${MAX_HEALTH_THRESHOLD}`);
  return value;
}

export function validateRegister(input: RegisterInput, defaults: HealthCheckDefaults, probeHostRule?: ProbeHostRule): ValidRegisterInput {
  const healthEndpoint = validateHealthEndpoint(input.healthEndpoint);
  const valid = {
    serviceName: validateServiceName(input.serviceName),
    instanceId: validateInstanceId(input.instanceId, false),
    host: validateHost(input.host),
    port: validatePort(input.port),
    healthEndpoint,
    metadata: validateMetadata(input.metadata),
    ttlMs: validateTtl(input.ttlMs),
    load: validateLoad(input.load),
    healthCheck: validateHealthCheck(input.healthCheck, healthEndpoint, defaults),
  };
  // Only a probed host is the server's to dial; a name is checked again at each probe, after resolution.
  const refusal = valid.healthCheck === undefined ? undefined : probeHostRule?.(valid.host);
  if (refusal !== undefined) throw invalidArgument("host", `cannot be probed: ${refusal}`);
  return valid;
}

/** A heartbeat as the registry applies it: the status, when given, is one an instance may report. */
export type ValidHeartbeatInput = Omit<HeartbeatInput, "status"> & { status: ReportedStatus | undefined };

export function validateHeartbeat(input: HeartbeatInput): ValidHeartbeatInput {
  return {
    serviceName: validateServiceName(input.serviceName),
    instanceId: validateInstanceId(input.instanceId, true),
    load: validateLoad(input.load),
    status: validateReportedStatus(input.status),
  };
}

/** Unregister's drain period; undefined or 0 removes the instance at once. */
export function validateDrain(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0 || value > MAX_DRAIN_MS) throw invalidArgument("drain", "must be from 0s to 1h");
  return value;
}

/** An instance may say it is healthy, degraded or unhealthy; "unknown" is the registry's to say. */
function validateReportedStatus(value: HealthStatus | undefined): ReportedStatus | undefined {
  if (value === undefined || value === "healthy" || value === "degraded" || value === "unhealthy") return value;
  throw invalidArgument("status", "must be HEALTHY, DEGRADED or UNHEALTHY when given");
}

/** UTF-8 byte length without allocating a buffer (the core stays free of node:*). */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
