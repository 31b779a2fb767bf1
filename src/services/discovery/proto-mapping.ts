// Domain ⇄ protobuf: the only place that knows both the core's types and gen/.
// Watch events are converted once per event, whatever the number of subscribers.
import { create } from "@bufbuild/protobuf";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import {
  EventType,
  HealthStatus,
  ServiceSummarySchema,
  WatchEventSchema,
  type Instance,
  type ServiceSummary,
  type WatchEvent,
} from "../../../gen/discovery/v1/discovery_pb";
import type { ChangeType, HealthStatus as DomainStatus, InstanceView, RegistryEvent, ServiceSummary as DomainSummary } from "../../core/types";
import type { WatchItem } from "../../watch/subscription";
import { durationFromMs } from "../../common/duration";
import { healthCheckToProto } from "./health-check-mapping";

const STATUS_TO_PROTO: Record<DomainStatus, HealthStatus> = {
  unknown: HealthStatus.UNKNOWN,
  healthy: HealthStatus.HEALTHY,
  degraded: HealthStatus.DEGRADED,
  unhealthy: HealthStatus.UNHEALTHY,
  draining: HealthStatus.DRAINING,
};

const CHANGE_TO_PROTO: Record<ChangeType, EventType> = {
  registered: EventType.REGISTERED,
  updated: EventType.UPDATED,
  "health-changed": EventType.HEALTH_CHANGED,
  "load-critical": EventType.LOAD_CRITICAL,
  "load-normal": EventType.LOAD_NORMAL,
  unregistered: EventType.UNREGISTERED,
  expired: EventType.EXPIRED,
};

/** A self-reported status from the wire; UNSPECIFIED and unknown numbers read as "unknown" and fail validation. */
export function statusFromProto(status: HealthStatus): DomainStatus {
  switch (status) {
    case HealthStatus.HEALTHY:
      return "healthy";
    case HealthStatus.DEGRADED:
      return "degraded";
    case HealthStatus.UNHEALTHY:
      return "unhealthy";
    case HealthStatus.DRAINING:
      return "draining";
    default:
      return "unknown";
  }
}

// Messages on the hot paths are built as typed literals: protobuf-es v2 messages
// are plain objects, the compiler checks every field, and create()'s reflective
// initialisation (measurable on the heartbeat path) is skipped.

// Leases repeat a handful of lengths: share their (never mutated) Duration messages.
const durations = new Map<number, Duration>();
function leaseDuration(ms: number): Duration {
  let duration = durations.get(ms);
  if (duration === undefined) {
    duration = durationFromMs(ms);
    if (durations.size < 1024) durations.set(ms, duration);
  }
  return duration;
}


function timestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function instanceToProto(instance: InstanceView): Instance {
  return {
    $typeName: "discovery.v1.Instance",
    serviceName: instance.serviceName,
    instanceId: instance.instanceId,
    host: instance.host,
    port: instance.port,
    healthEndpoint: instance.healthEndpoint,
    // The registry replaces metadata objects and never mutates them: safe to share.
    metadata: instance.metadata as Record<string, string>,
    status: STATUS_TO_PROTO[instance.status],
    loadPercentage: instance.load,
    criticalLoad: instance.critical,
    registeredAt: timestamp(instance.registeredAt),
    lastHeartbeat: timestamp(instance.lastHeartbeat),
    ttl: leaseDuration(instance.ttlMs),
    healthCheck: instance.healthCheck === undefined ? undefined : healthCheckToProto(instance.healthCheck),
    lastHealthCheck: instance.lastHealthCheck === undefined ? undefined : timestamp(instance.lastHealthCheck),
    latency: instance.latencyMs === undefined ? undefined : durationFromMs(instance.latencyMs),
    uptime: instance.uptime,
  };
}

export function summaryToProto(summary: DomainSummary): ServiceSummary {
  return create(ServiceSummarySchema, summary);
}

// Registry events are immutable and shared by every subscriber: convert each
// once, so Watch's encode-once codec (codecs.ts) encodes it once too.
const eventCache = new WeakMap<RegistryEvent, WatchEvent>();

export function watchItemToProto(item: WatchItem): WatchEvent {
  switch (item.t) {
    case "event": {
      let message = eventCache.get(item.event);
      if (message === undefined) {
        message = eventToProto(item.event);
        eventCache.set(item.event, message);
      }
      return message;
    }
    case "snapshot":
      return create(WatchEventSchema, {
        revision: BigInt(item.revision),
        type: EventType.SNAPSHOT,
        instance: instanceToProto(item.instance),
        occurredAt: timestamp(item.instance.lastHeartbeat),
      });
    case "synced":
      return create(WatchEventSchema, { revision: BigInt(item.revision), type: EventType.SYNCED });
    case "reset":
      return create(WatchEventSchema, { revision: BigInt(item.revision), type: EventType.RESET, reason: item.reason });
  }
}

function eventToProto(event: RegistryEvent): WatchEvent {
  return create(WatchEventSchema, {
    revision: BigInt(event.revision),
    type: CHANGE_TO_PROTO[event.type],
    instance: instanceToProto(event.instance),
    previousStatus: event.previousStatus === undefined ? HealthStatus.UNSPECIFIED : STATUS_TO_PROTO[event.previousStatus],
    occurredAt: timestamp(event.occurredAt),
  });
}
