// How the client commands write instances and events for people: status
// names with their colour, load with the critical mark, addresses, times.
import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { EventType, HealthStatus, type Instance, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { safeText, type Output, type Style } from "./output";

const STATUS: Record<number, { name: string; style: Style }> = {
  [HealthStatus.UNSPECIFIED]: { name: "unknown", style: "gray" },
  [HealthStatus.UNKNOWN]: { name: "unknown", style: "gray" },
  [HealthStatus.HEALTHY]: { name: "healthy", style: "green" },
  [HealthStatus.DEGRADED]: { name: "degraded", style: "yellow" },
  [HealthStatus.UNHEALTHY]: { name: "unhealthy", style: "red" },
  [HealthStatus.DRAINING]: { name: "draining", style: "blue" },
};

export function statusText(out: Output, status: HealthStatus): string {
  const look = STATUS[status] ?? { name: `status-${status}`, style: "gray" as const };
  return out.paint(look.name, look.style);
}

export function loadText(out: Output, instance: Instance): string {
  const text = `${Math.round(instance.loadPercentage * 100)}%`;
  return instance.criticalLoad ? out.paint(`${text} CRITICAL`, "red", "bold") : text;
}

/** Seconds since a timestamp, "12s ago"; "-" when unset. */
export function ago(timestamp: Timestamp | undefined, now: number): string {
  if (timestamp === undefined) return "-";
  return `${Math.max(0, Math.round((now - timestampMs(timestamp)) / 1000))}s ago`;
}

const EVENT: Record<number, { name: string; style: Style }> = {
  [EventType.RESET]: { name: "RESET", style: "yellow" },
  [EventType.SNAPSHOT]: { name: "SNAPSHOT", style: "dim" },
  [EventType.SYNCED]: { name: "SYNCED", style: "cyan" },
  [EventType.REGISTERED]: { name: "REGISTERED", style: "green" },
  [EventType.UPDATED]: { name: "UPDATED", style: "blue" },
  [EventType.HEALTH_CHANGED]: { name: "HEALTH_CHANGED", style: "yellow" },
  [EventType.LOAD_CRITICAL]: { name: "LOAD_CRITICAL", style: "red" },
  [EventType.LOAD_NORMAL]: { name: "LOAD_NORMAL", style: "green" },
  [EventType.UNREGISTERED]: { name: "UNREGISTERED", style: "gray" },
  [EventType.EXPIRED]: { name: "EXPIRED", style: "red" },
};

/** One line per event: time, type, instance, address, status (with the previous one), load. */
export function eventLine(out: Output, event: WatchEvent): string {
  const look = EVENT[event.type] ?? { name: `EVENT_${event.type}`, style: "gray" as const };
  const time = event.occurredAt === undefined ? new Date() : new Date(timestampMs(event.occurredAt));
  const parts = [out.paint(time.toISOString().slice(11, 23), "dim"), out.paint(look.name.padEnd(14), look.style, "bold")];
  const instance = event.instance;
  if (instance !== undefined) {
    parts.push(`${safeText(instance.serviceName)}/${safeText(instance.instanceId)}`, `${safeText(instance.host)}:${instance.port}`);
    const status = statusText(out, instance.status);
    parts.push(event.type === EventType.HEALTH_CHANGED ? `${statusText(out, event.previousStatus)} -> ${status}` : status);
    parts.push(`load ${loadText(out, instance)}`);
  } else if (event.type === EventType.SYNCED) {
    parts.push(`revision ${event.revision}`);
  } else if (event.type === EventType.RESET) {
    parts.push(`reason ${safeText(event.reason || "-")}, drop what you hold`);
  }
  return parts.join("  ");
}
