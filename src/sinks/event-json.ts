// What the sinks send: a registry event as the Connect JSON form of WatchEvent
// (the JSON a Connect Watch client receives), and the periodic health summaries.
import { toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { WatchEventSchema } from "../../gen/discovery/v1/discovery_pb";
import type { RegistryEvent, ServiceSummary } from "../core/types";
import { watchItemToProto } from "../services/discovery/proto-mapping";

/**
 * The event as Connect's JSON of discovery.v1.WatchEvent (camelCase, enum names);
 * `reason` (WatchEvent.reason) marks one the sinks reconstructed after a resync.
 */
export function eventToJson(event: RegistryEvent, reason?: string): JsonValue {
  const json = toJson(WatchEventSchema, watchItemToProto({ t: "event", event })) as JsonObject;
  return reason === undefined ? json : { ...json, reason };
}

/** The wire name of an event type, as DISCOVERY_WEBHOOK_EVENTS lists them ("LOAD_CRITICAL"). */
export function eventTypeName(event: RegistryEvent): string {
  return event.type.replaceAll("-", "_").toUpperCase();
}

export interface HealthSummary {
  /** A service's name, or absent on the global summary. */
  service_name?: string;
  scope: "service" | "global";
  instance_count: number;
  healthy_count: number;
  unknown_count: number;
  degraded_count: number;
  unhealthy_count: number;
  draining_count: number;
  critical_load_count: number;
  /** Mean load of the instances that reported one (0 when none did). */
  average_load: number;
  /** When the summary was taken, RFC 3339. */
  time: string;
}

/** One summary per service and the global one over all of them. */
export function summariesOf(services: readonly ServiceSummary[], nowMs: number): { services: HealthSummary[]; global: HealthSummary } {
  const time = new Date(nowMs).toISOString();
  const of = (s: ServiceSummary): HealthSummary => ({
    service_name: s.serviceName,
    scope: "service",
    instance_count: s.instanceCount,
    healthy_count: s.healthyCount,
    unknown_count: s.unknownCount,
    degraded_count: s.degradedCount,
    unhealthy_count: s.unhealthyCount,
    draining_count: s.drainingCount,
    critical_load_count: s.criticalLoadCount,
    average_load: s.averageLoad,
    time,
  });
  const perService = services.map(of);
  const sum = (key: keyof HealthSummary) => perService.reduce((total, s) => total + (s[key] as number), 0);
  // The global mean weighs each service's mean by its instances (an approximation when some did not report load).
  const instances = sum("instance_count");
  const weighted = perService.reduce((total, s) => total + s.average_load * s.instance_count, 0);
  return {
    services: perService,
    global: {
      scope: "global",
      instance_count: instances,
      healthy_count: sum("healthy_count"),
      unknown_count: sum("unknown_count"),
      degraded_count: sum("degraded_count"),
      unhealthy_count: sum("unhealthy_count"),
      draining_count: sum("draining_count"),
      critical_load_count: sum("critical_load_count"),
      average_load: instances === 0 ? 0 : weighted / instances,
      time,
    },
  };
}
