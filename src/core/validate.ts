// Every input rule of the registry, in one place. Each rejection names the field
// and the rule it broke, and nothing is changed when a rule fails.
import { invalidArgument } from "./errors";
import type { HealthStatus, HeartbeatInput, RegisterInput } from "./types";
import {
  HOST_MAX_LENGTH,
  INSTANCE_ID_MAX_LENGTH,
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
  if (/[\s/]/.test(value)) throw invalidArgument("host", "must be a host name or IP address, without spaces or '/'");
  return value;
}

function validatePort(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidArgument("port", "must be from 1 to 65535");
  }
  return value;
}

function validateHealthEndpoint(value: string): string {
  if (value.length > 1024) throw invalidArgument("health_endpoint", "must be at most 1024 characters");
  if (value.length > 0 && !value.startsWith("/")) throw invalidArgument("health_endpoint", "must be a path starting with '/'");
  return value;
}

function validateMetadata(value: Record<string, string>): Record<string, string> {
  const keys = Object.keys(value);
  if (keys.length > METADATA_MAX_ENTRIES) {
    throw invalidArgument("metadata", `must have at most ${METADATA_MAX_ENTRIES} entries`);
  }
  for (const key of keys) {
    if (key.length === 0 || key.length > METADATA_KEY_MAX_LENGTH || !METADATA_KEY.test(key)) {
      throw invalidArgument(
        `metadata[${JSON.stringify(key)}]`,
        `key must be 1 to ${METADATA_KEY_MAX_LENGTH} letters, digits, '.', '_', '/' or '-', starting with a letter or digit`,
      );
    }
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

export function validateRegister(input: RegisterInput): RegisterInput {
  return {
    serviceName: validateServiceName(input.serviceName),
    instanceId: validateInstanceId(input.instanceId, false),
    host: validateHost(input.host),
    port: validatePort(input.port),
    healthEndpoint: validateHealthEndpoint(input.healthEndpoint),
    metadata: validateMetadata(input.metadata),
    ttlMs: validateTtl(input.ttlMs),
    load: validateLoad(input.load),
  };
}

export function validateHeartbeat(input: HeartbeatInput): HeartbeatInput {
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
function validateReportedStatus(value: HealthStatus | undefined): HealthStatus | undefined {
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
