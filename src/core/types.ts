// The registry's domain model: instances, their health, and the events that
// describe every change. Plain data, independent of any wire format.

/**
 * An instance's health. "healthy" and "degraded" both count as serving;
 * "draining" is an instance on its way out (Unregister with a drain period).
 */
export type HealthStatus = "unknown" | "healthy" | "degraded" | "unhealthy" | "draining";

/** True for the statuses that ListHealthy returns. */
export function isServing(status: HealthStatus): boolean {
  return status === "healthy" || status === "degraded";
}

/** One registered instance as the registry holds it. */
export interface InstanceState {
  readonly serviceName: string;
  readonly instanceId: string;
  host: string;
  port: number;
  healthEndpoint: string;
  metadata: Readonly<Record<string, string>>;
  status: HealthStatus;
  /** Last reported load in [0, 1]; meaningful only when loadReported. */
  load: number;
  loadReported: boolean;
  critical: boolean;
  registeredAt: number;
  lastHeartbeat: number;
  ttlMs: number;
  /**
   * Keep-alive overlay: set when the stream that kept this instance alive broke
   * without an Unregister. Holds the status to restore on its next heartbeat.
   */
  keepAliveLost?: { readonly restore: HealthStatus; readonly since: number };
}

/** A read-only view of an instance, as handed out by queries and events. */
export type InstanceView = Readonly<InstanceState>;

/** The kinds of change the registry reports. */
export type ChangeType =
  | "registered"
  | "updated"
  | "health-changed"
  | "load-critical"
  | "load-normal"
  | "unregistered"
  | "expired";

/** One change, numbered by the global revision. The instance is a frozen copy. */
export interface RegistryEvent {
  readonly revision: number;
  readonly type: ChangeType;
  readonly instance: InstanceView;
  /** Set on health-changed. */
  readonly previousStatus?: HealthStatus;
  readonly occurredAt: number;
}

/** Validated input of Register. */
export interface RegisterInput {
  serviceName: string;
  /** Empty: the registry assigns one. */
  instanceId: string;
  host: string;
  port: number;
  healthEndpoint: string;
  metadata: Record<string, string>;
  /** Undefined: the registry's default. */
  ttlMs: number | undefined;
  load: number | undefined;
}

/** Validated input of Heartbeat. */
export interface HeartbeatInput {
  serviceName: string;
  instanceId: string;
  load: number | undefined;
  /** A status the instance reports about itself (e.g. degraded); undefined keeps the current one. */
  status?: HealthStatus | undefined;
}

/** Counts over one service's instances, kept up to date on every change. */
export interface ServiceSummary {
  readonly serviceName: string;
  readonly instanceCount: number;
  readonly healthyCount: number;
  readonly criticalLoadCount: number;
  /** Mean load of the instances that reported one (0 when none did). */
  readonly averageLoad: number;
}
