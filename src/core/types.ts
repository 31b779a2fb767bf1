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
  /** The active health check (defaults applied), or undefined when the instance is not probed. */
  healthCheck: HealthCheckSpec | undefined;
  /** When the last probe result was recorded (undefined before the first). */
  lastHealthCheck: number | undefined;
  /** Moving average of passing probes' latency in ms (undefined before the first pass). */
  latencyMs: number | undefined;
  /** Share of passing probes over the retained history, 0 to 1 (0 before the first probe). */
  uptime: number;
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
  /** Active probing as requested; undefined with a healthEndpoint means an HTTP GET of it with defaults. */
  healthCheck?: HealthCheckInput | undefined;
}

/** How an instance is probed. */
export type ProbeSpec =
  | {
      readonly t: "http";
      readonly path: string;
      /** Accepted status codes, inclusive (0 in a request: the default 200 to 399). */
      readonly expectedStatusMin: number;
      readonly expectedStatusMax: number;
      readonly headers: Readonly<Record<string, string>>;
    }
  | { readonly t: "tcp" }
  | { readonly t: "grpc"; readonly service: string }
  /** PING, after AUTH with the named operator secret when passwordRef is set. */
  | { readonly t: "redis"; readonly passwordRef: string; readonly username: string }
  /** A startup message and the server's first answer, as pg_isready reads it. */
  | { readonly t: "postgres"; readonly user: string; readonly database: string }
  /** A command from the operator's exec checks file, by name. */
  | { readonly t: "exec"; readonly name: string };

/** A validated health check with every default applied. */
export interface HealthCheckSpec {
  readonly probe: ProbeSpec;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** A passing probe slower than this counts as degraded; undefined: never. */
  readonly degradedLatencyMs: number | undefined;
}

/** A health check as a request gives it: undefined or 0 takes the default. */
export interface HealthCheckInput {
  /** Undefined: an HTTP GET of the instance's healthEndpoint. */
  probe: ProbeSpec | undefined;
  intervalMs: number | undefined;
  timeoutMs: number | undefined;
  healthyThreshold: number;
  unhealthyThreshold: number;
  degradedLatencyMs: number | undefined;
}

/** Validated Register input: the health check is resolved. */
export type ValidRegisterInput = Omit<RegisterInput, "healthCheck"> & { healthCheck: HealthCheckSpec | undefined };

/** A status an instance may state about itself (in a heartbeat or a probe answer). */
export type ReportedStatus = "healthy" | "degraded" | "unhealthy";

/** Input of Heartbeat. */
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
  readonly unknownCount: number;
  readonly degradedCount: number;
  readonly unhealthyCount: number;
  readonly drainingCount: number;
}
