// Text for the dashboard: statuses, relative times, durations and shares.
import { HealthStatus } from "../../gen/discovery/v1/discovery_pb";

export interface StatusLook {
  /** Lower-case name, used as the CSS class and data-status. */
  name: string;
  /** The text shown: status is never told by colour alone. */
  label: string;
}

const LOOKS: Record<number, StatusLook> = {
  [HealthStatus.UNSPECIFIED]: { name: "unknown", label: "Unknown" },
  [HealthStatus.UNKNOWN]: { name: "unknown", label: "Unknown" },
  [HealthStatus.HEALTHY]: { name: "healthy", label: "Healthy" },
  [HealthStatus.DEGRADED]: { name: "degraded", label: "Degraded" },
  [HealthStatus.UNHEALTHY]: { name: "unhealthy", label: "Unhealthy" },
  [HealthStatus.DRAINING]: { name: "draining", label: "Draining" },
};

export function statusLook(status: HealthStatus): StatusLook {
  return LOOKS[status] ?? { name: "unknown", label: `Status ${status}` };
}

/** "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago". */
export function relativeTime(thenMs: number, nowMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (seconds < 2) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** A latency: "850 µs", "12 ms", "1.4 s". */
export function shortDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** 0.923 → "92%". */
export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
