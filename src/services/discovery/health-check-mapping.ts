// Active health checks between domain and protobuf: the HealthCheck a request
// gives, the resolved check an Instance shows, and probe results.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  HealthCheckResultSchema,
  HealthCheckSchema,
  ProbeOutcome,
  type HealthCheck,
  type HealthCheckResult,
} from "../../../gen/discovery/v1/discovery_pb";
import type { ProbeOutcome as DomainOutcome, ProbeResult } from "../../core/health-state";
import type { HealthCheckInput, HealthCheckSpec } from "../../core/types";
import { durationFromMs, durationToMs } from "../../common/duration";

const OUTCOME_TO_PROTO: Record<DomainOutcome, ProbeOutcome> = {
  pass: ProbeOutcome.PASS,
  degraded: ProbeOutcome.DEGRADED,
  fail: ProbeOutcome.FAIL,
};

/** A request's HealthCheck as the core's input (validation happens in the core). */
export function healthCheckFromProto(check: HealthCheck | undefined): HealthCheckInput | undefined {
  if (check === undefined) return undefined;
  const ms = (d: HealthCheck["interval"]) => (d === undefined ? undefined : durationToMs(d));
  let probe: HealthCheckInput["probe"];
  switch (check.probe.case) {
    case "http": {
      const http = check.probe.value;
      probe = {
        t: "http",
        path: http.path,
        expectedStatusMin: http.expectedStatusMin,
        expectedStatusMax: http.expectedStatusMax,
        headers: { ...http.headers },
      };
      break;
    }
    case "tcp":
      probe = { t: "tcp" };
      break;
    case "grpc":
      probe = { t: "grpc", service: check.probe.value.service };
      break;
    case "redis":
      probe = { t: "redis", passwordRef: check.probe.value.passwordRef, username: check.probe.value.username };
      break;
    case "postgres":
      probe = { t: "postgres", user: check.probe.value.user, database: check.probe.value.database };
      break;
    case "exec":
      probe = { t: "exec", name: check.probe.value.name };
      break;
    default:
      probe = undefined;
  }
  return {
    probe,
    intervalMs: ms(check.interval),
    timeoutMs: ms(check.timeout),
    healthyThreshold: check.healthyThreshold,
    unhealthyThreshold: check.unhealthyThreshold,
    degradedLatencyMs: ms(check.degradedLatency),
  };
}

// Specs are immutable and shared by every view of an instance: convert each once
// (a heartbeat answer carries the instance, check included).
const checkCache = new WeakMap<HealthCheckSpec, HealthCheck>();

/**
 * What every answer shows for a probe header's value. Probe headers often carry
 * credentials for the health endpoint; reads are open or read-scoped, so the
 * names are shown and the values never leave the server.
 */
export const REDACTED_HEADER_VALUE = "[redacted]";

/** The resolved check, defaults included, as Instance.health_check shows it. */
export function healthCheckToProto(spec: HealthCheckSpec): HealthCheck {
  let message = checkCache.get(spec);
  if (message === undefined) {
    message = buildHealthCheck(spec);
    checkCache.set(spec, message);
  }
  return message;
}

function redacted(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED_HEADER_VALUE]));
}

function buildHealthCheck(spec: HealthCheckSpec): HealthCheck {
  const p = spec.probe;
  const probe = probeToProto(spec.probe);
  return create(HealthCheckSchema, {
    probe,
    interval: durationFromMs(spec.intervalMs),
    timeout: durationFromMs(spec.timeoutMs),
    healthyThreshold: spec.healthyThreshold,
    unhealthyThreshold: spec.unhealthyThreshold,
    degradedLatency: spec.degradedLatencyMs === undefined ? undefined : durationFromMs(spec.degradedLatencyMs),
  });
}

function probeToProto(p: HealthCheckSpec["probe"]): HealthCheck["probe"] {
  switch (p.t) {
    case "http":
      return {
        case: "http",
        value: { $typeName: "discovery.v1.HttpProbe", path: p.path, expectedStatusMin: p.expectedStatusMin, expectedStatusMax: p.expectedStatusMax, headers: redacted(p.headers) },
      };
    case "tcp":
      return { case: "tcp", value: { $typeName: "discovery.v1.TcpProbe" } };
    case "grpc":
      return { case: "grpc", value: { $typeName: "discovery.v1.GrpcProbe", service: p.service } };
    case "redis":
      return { case: "redis", value: { $typeName: "discovery.v1.RedisProbe", passwordRef: p.passwordRef, username: p.username } };
    case "postgres":
      return { case: "postgres", value: { $typeName: "discovery.v1.PostgresProbe", user: p.user, database: p.database } };
    case "exec":
      return { case: "exec", value: { $typeName: "discovery.v1.ExecProbe", name: p.name } };
  }
}

export function probeResultToProto(result: ProbeResult): HealthCheckResult {
  return create(HealthCheckResultSchema, {
    time: timestampFromMs(result.time),
    outcome: OUTCOME_TO_PROTO[result.outcome],
    latency: durationFromMs(result.latencyMs),
    loadPercentage: result.load,
    error: result.error,
  });
}
