// The in-memory registry: instances indexed by service, their leases, statuses
// and load, and one revision counter that numbers every change. Pure: time comes
// from the injected clock, ids from the injected generator, and changes leave
// as events to the listeners (the watch hub, health, logs, metrics).
import type { Clock } from "./clock";
import { DiscoveryError } from "./errors";
import { EventLog } from "./event-log";
import { HealthTracker, judgeProbe, sameHealthCheck, type ProbeObservation, type ProbeResult } from "./health-state";
import { LeaseQueue } from "./lease-queue";
import { DEFAULT_REGISTRY_LIMITS, type RegistryLimits } from "./limits";
import { createLoadTracker, type LoadTracker } from "./load-tracker";
import { ServiceIndex } from "./service-index";
import type {
  ChangeType,
  HealthStatus,
  HeartbeatInput,
  InstanceState,
  InstanceView,
  RegisterInput,
  RegistryEvent,
  ReportedStatus,
  ServiceSummary,
  ValidRegisterInput,
} from "./types";
import { validateDrain, validateHeartbeat, validateInstanceId, validateRegister, validateServiceName } from "./validate";

export interface RegistryOptions {
  clock: Clock;
  /** Makes an id for a Register request that brings none (a UUID at runtime). */
  newInstanceId: () => string;
  /** The revision before the first change; must exceed any revision of an earlier run. */
  baseRevision: number;
  limits?: Partial<RegistryLimits>;
}

export type RegistryListener = (event: RegistryEvent) => void;

/**
 * Identifies one KeepAlive stream to the registry: an opaque value the server
 * makes per stream and compares by identity (the core knows nothing of streams).
 */
export type KeepAliveOwner = object;

export interface RegisterResult {
  instance: InstanceView;
  created: boolean;
}

/** The registry core: every mutation validates, applies, then emits its events. */
export class Registry {
  readonly limits: Readonly<RegistryLimits>;
  readonly history: EventLog;
  private currentRevision: number;
  private readonly clock: Clock;
  private readonly newInstanceId: () => string;
  private readonly index = new ServiceIndex();
  private readonly leases = new LeaseQueue<InstanceState>();
  private readonly load: LoadTracker;
  private readonly listeners = new Set<RegistryListener>();
  /** Probe state of the instances that have a health check. */
  private readonly trackers = new Map<InstanceState, HealthTracker>();
  /** The stream that carried each instance's latest heartbeat, while that was a KeepAlive one. */
  private readonly keepAliveOwners = new Map<InstanceState, KeepAliveOwner>();

  constructor(options: RegistryOptions) {
    this.limits = { ...DEFAULT_REGISTRY_LIMITS, ...options.limits };
    this.clock = options.clock;
    this.newInstanceId = options.newInstanceId;
    this.currentRevision = options.baseRevision;
    this.history = new EventLog(this.limits.historySize, options.baseRevision);
    this.load = createLoadTracker(this.limits.criticalLoadThreshold, this.limits.criticalLoadHysteresis);
  }

  /** The revision of the latest change. */
  get revision(): number {
    return this.currentRevision;
  }

  get instanceCount(): number {
    return this.leases.size;
  }

  /** Subscribes to every change, in revision order; returns the unsubscribe. */
  onEvent(listener: RegistryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds an instance, or updates an existing one and renews its lease. */
  register(request: RegisterInput): RegisterResult {
    const input = validateRegister(request, this.limits);
    const now = this.clock.now();
    const ttlMs = input.ttlMs ?? this.limits.defaultTtlMs;
    const instanceId = input.instanceId || this.newInstanceId();
    const existing = this.index.get(input.serviceName, instanceId);
    if (existing === undefined) return { instance: this.add(input, instanceId, ttlMs, now), created: true };

    const checkChanged = !sameHealthCheck(existing.healthCheck, input.healthCheck);
    const changed =
      checkChanged ||
      existing.host !== input.host ||
      existing.port !== input.port ||
      existing.healthEndpoint !== input.healthEndpoint ||
      existing.ttlMs !== ttlMs ||
      !sameMetadata(existing.metadata, input.metadata);
    this.index.update(existing, () => {
      existing.host = input.host;
      existing.port = input.port;
      existing.healthEndpoint = input.healthEndpoint;
      existing.metadata = input.metadata;
      existing.ttlMs = ttlMs;
      existing.lastHeartbeat = now;
      if (checkChanged) this.resetCheck(existing, input.healthCheck);
    });
    this.leases.set(existing, now + ttlMs);
    // The instance speaks for itself again: no earlier stream's break may mark it.
    this.keepAliveOwners.delete(existing);
    if (changed) this.emit("updated", existing, now);
    // Registering again cancels a drain and lifts a lost keep-alive; with a check, the probes' verdict is the status to return to.
    const probed = this.trackers.get(existing)?.status;
    if (existing.status === "draining") this.changeStatus(existing, probed ?? "healthy", now);
    else if (!this.liftKeepAliveLost(existing, probed, now) && checkChanged && existing.healthCheck === undefined) {
      this.changeStatus(existing, "healthy", now);
    }
    this.reportLoad(existing, input.load, now);
    return { instance: existing, created: false };
  }

  /**
   * Renews a lease, records the reported load and (optionally) a self-reported
   * status. `keepAliveOwner` is the KeepAlive stream the heartbeat came on
   * (absent for a unary Heartbeat): it becomes the one stream whose break may
   * mark the instance (see markKeepAliveLost).
   */
  heartbeat(request: HeartbeatInput, keepAliveOwner?: KeepAliveOwner): InstanceView {
    const input = validateHeartbeat(request);
    const instance = this.require(input.serviceName, input.instanceId);
    const now = this.clock.now();
    if (keepAliveOwner !== undefined) this.keepAliveOwners.set(instance, keepAliveOwner);
    else if (this.keepAliveOwners.size > 0) this.keepAliveOwners.delete(instance);
    const draining = instance.status === "draining";
    // A draining instance's lease is its drain deadline: heartbeats do not move it.
    if (!draining) this.leases.set(instance, now + instance.ttlMs);
    instance.lastHeartbeat = now;
    this.index.changed(instance);
    // With a check, a self-reported status combines with the probes' (see HealthTracker).
    const reported = input.status === undefined ? this.trackers.get(instance)?.status : this.combineReported(instance, input.status);
    if (!draining && !this.liftKeepAliveLost(instance, reported, now) && input.status !== undefined) {
      this.changeStatus(instance, reported!, now);
    }
    this.reportLoad(instance, input.load, now);
    return instance;
  }

  /**
   * Removes an instance at once or, with a drain period, turns it "draining"
   * now (no longer serving) and removes it when the period ends.
   */
  unregister(serviceName: string, instanceId: string, drainMs?: number): InstanceView {
    const instance = this.require(validateServiceName(serviceName), validateInstanceId(instanceId, true));
    const drain = validateDrain(drainMs);
    const now = this.clock.now();
    if (drain !== undefined && drain > 0) {
      this.startDrain(instance, now + drain, now);
      return instance;
    }
    this.remove(instance);
    this.emit("unregistered", instance, now);
    return instance;
  }

  /** Sets an instance's status (from a probe or the instance itself); emits health-changed. */
  setStatus(serviceName: string, instanceId: string, status: HealthStatus): InstanceView {
    const instance = this.require(serviceName, instanceId);
    // A fresher verdict replaces the lost keep-alive's.
    if (instance.keepAliveLost !== undefined) this.index.update(instance, () => (instance.keepAliveLost = undefined));
    this.changeStatus(instance, status, this.clock.now());
    return instance;
  }

  // --- Draining and keep-alive streams -------------------------------------
  // A drain reuses the lease heap: the lease deadline becomes the drain's end,
  // and expireDue reports a draining instance as unregistered, not expired.
  // A broken keep-alive stream marks its instances unhealthy at once but leaves
  // their leases running; the instance's next heartbeat (or Register) restores
  // the status it had. Only the stream that carried the latest heartbeat owns
  // the instance: a client that reconnected on a new stream (or went unary, or
  // registered again) must not be marked when its old stream breaks later.

  /**
   * The keep-alive stream `owner` broke without an Unregister: if it still owns
   * the instance, the instance turns unhealthy now (health-changed) and keeps
   * its lease. A draining, missing, already marked or otherwise kept instance is
   * left as it is. Returns the instance if marked.
   */
  markKeepAliveLost(serviceName: string, instanceId: string, owner: KeepAliveOwner): InstanceView | undefined {
    const instance = this.index.get(serviceName, instanceId);
    if (instance === undefined || this.keepAliveOwners.get(instance) !== owner) return undefined;
    this.keepAliveOwners.delete(instance);
    if (instance.status === "draining" || instance.keepAliveLost !== undefined) return undefined;
    const now = this.clock.now();
    const restore = instance.status;
    this.index.update(instance, () => (instance.keepAliveLost = { restore, since: now }));
    this.changeStatus(instance, "unhealthy", now);
    return instance;
  }

  private startDrain(instance: InstanceState, until: number, now: number): void {
    if (instance.keepAliveLost !== undefined) this.index.update(instance, () => (instance.keepAliveLost = undefined));
    this.leases.set(instance, until);
    this.changeStatus(instance, "draining", now);
  }

  /** Restores the status a lost keep-alive overrode (or the reported one); true if it did. */
  private liftKeepAliveLost(instance: InstanceState, reported: HealthStatus | undefined, now: number): boolean {
    const lost = instance.keepAliveLost;
    if (lost === undefined) return false;
    this.index.update(instance, () => (instance.keepAliveLost = undefined));
    this.changeStatus(instance, reported ?? lost.restore, now);
    return true;
  }

  // -------------------------------------------------------------------------

  /** Removes the instances whose lease has run out, at most `budget` of them; returns how many. */
  expireDue(budget = Number.POSITIVE_INFINITY): number {
    const now = this.clock.now();
    let expired = 0;
    while (expired < budget) {
      const instance = this.leases.popDue(now);
      if (instance === undefined) break;
      this.remove(instance);
      // A drain that ran its course is the Unregister it was asked to be.
      this.emit(instance.status === "draining" ? "unregistered" : "expired", instance, now);
      expired++;
    }
    return expired;
  }

  /** When the next lease runs out, or undefined when there is none. */
  nextDeadline(): number | undefined {
    return this.leases.peek();
  }

  get(serviceName: string, instanceId: string): InstanceView | undefined {
    return this.index.get(serviceName, instanceId);
  }

  /** A service's live instances (do not hold on to them: they change in place). */
  instancesOf(serviceName: string): Iterable<InstanceView> {
    return this.index.instancesOf(serviceName);
  }

  /**
   * A number that changes whenever anything in the service changes, heartbeats
   * included: the key under which a rendered answer for it may be cached.
   */
  serviceStamp(serviceName: string): number {
    return this.index.stamp(serviceName);
  }

  hasService(serviceName: string): boolean {
    return this.index.has(serviceName);
  }

  serviceNames(): Iterable<string> {
    return this.index.names();
  }

  summaries(): ServiceSummary[] {
    return this.index.summaries();
  }

  summaryOf(serviceName: string): ServiceSummary | undefined {
    return this.index.summaryOf(serviceName);
  }

  /** Frozen copies of the instances of the given services (all when undefined). */
  snapshot(services?: ReadonlySet<string>): InstanceView[] {
    const out: InstanceView[] = [];
    const names = services ?? this.index.names();
    for (const name of names) for (const instance of this.index.instancesOf(name)) out.push(freeze(instance));
    return out;
  }

  /**
   * The instances of the given services (all when undefined), each frozen only
   * when it is reached. Iteration follows the live index: an instance removed
   * before it is reached is skipped, one added may appear, and each shows its
   * state at that moment. A Watch snapshot read slowly holds no copies this way.
   */
  *liveSnapshot(services?: ReadonlySet<string>): Generator<InstanceView> {
    for (const name of services ?? this.index.names()) for (const instance of this.index.instancesOf(name)) yield freeze(instance);
  }

  // --- Active health checks (probes run in src/health; their rules in health-state.ts) ---

  /**
   * Records what a probe of the instance saw: judges it by the instance's check,
   * moves its status after enough consecutive results, feeds a reported load to
   * critical-load detection, and renews the lease when the probe passed.
   */
  recordProbe(serviceName: string, instanceId: string, observation: ProbeObservation): { result: ProbeResult; instance: InstanceView } {
    const instance = this.require(serviceName, instanceId);
    const tracker = this.trackers.get(instance);
    if (tracker === undefined) throw new DiscoveryError("failed-precondition", `instance ${instanceId} of service ${serviceName} has no health check`);
    const now = this.clock.now();
    const result = judgeProbe(observation, tracker.spec, now);
    tracker.record(result);
    this.index.update(instance, () => {
      instance.lastHealthCheck = now;
      instance.latencyMs = tracker.latencyAverageMs;
      instance.uptime = tracker.uptime;
    });
    // A draining instance keeps its status and its drain deadline; probes are only recorded.
    if (instance.status !== "draining") {
      // Answering probes keeps an instance registered even if it never heartbeats.
      if (result.outcome !== "fail") this.leases.set(instance, now + instance.ttlMs);
      // A probe is a fresher verdict than a lost keep-alive stream (as setStatus).
      if (instance.keepAliveLost !== undefined) this.index.update(instance, () => (instance.keepAliveLost = undefined));
      this.changeStatus(instance, tracker.status, now);
    }
    this.reportLoad(instance, result.load, now);
    return { result, instance };
  }

  /** The instance's retained probe results (oldest first), latency average and uptime. */
  healthHistory(serviceName: string, instanceId: string): { results: ProbeResult[]; latencyAverageMs: number | undefined; uptime: number } {
    const instance = this.require(validateServiceName(serviceName), validateInstanceId(instanceId, true));
    const tracker = this.trackers.get(instance);
    if (tracker === undefined) return { results: [], latencyAverageMs: undefined, uptime: 0 };
    return { results: tracker.history(), latencyAverageMs: tracker.latencyAverageMs, uptime: tracker.uptime };
  }

  /** A check that changed starts over (counters, history) from the instance's current status. */
  private resetCheck(instance: InstanceState, spec: ValidRegisterInput["healthCheck"]): void {
    instance.healthCheck = spec;
    instance.lastHealthCheck = undefined;
    instance.latencyMs = undefined;
    instance.uptime = 0;
    if (spec === undefined) this.trackers.delete(instance);
    else this.trackers.set(instance, new HealthTracker(spec, this.limits.healthHistorySize, instance.status));
  }

  /** With a check, a self-reported status combines with the probes' (see HealthTracker); without one it is the status. */
  private combineReported(instance: InstanceState, status: ReportedStatus): HealthStatus {
    const tracker = this.trackers.get(instance);
    if (tracker === undefined) return status;
    tracker.report(status);
    return tracker.status;
  }

  // --- end of active health checks ---

  private add(input: ValidRegisterInput, instanceId: string, ttlMs: number, now: number): InstanceView {
    if (this.leases.size >= this.limits.maxInstances) {
      throw new DiscoveryError(
        "resource-exhausted",
        `registry is full: it holds ${this.limits.maxInstances} instances (DISCOVERY_MAX_INSTANCES)`,
      );
    }
    const instance: InstanceState = {
      serviceName: input.serviceName,
      instanceId,
      host: input.host,
      port: input.port,
      healthEndpoint: input.healthEndpoint,
      metadata: input.metadata,
      // An instance with a check is not served until enough probes pass.
      status: input.healthCheck === undefined ? "healthy" : "unknown",
      load: input.load ?? 0,
      loadReported: input.load !== undefined,
      critical: input.load !== undefined && this.load.isCritical(false, input.load),
      registeredAt: now,
      lastHeartbeat: now,
      ttlMs,
      healthCheck: input.healthCheck,
      lastHealthCheck: undefined,
      latencyMs: undefined,
      uptime: 0,
    };
    if (input.healthCheck !== undefined) this.trackers.set(instance, new HealthTracker(input.healthCheck, this.limits.healthHistorySize));
    this.index.add(instance);
    this.leases.set(instance, now + ttlMs);
    this.emit("registered", instance, now);
    // Arriving already saturated is a crossing too: alert watchers that only follow load.
    if (instance.critical) this.emit("load-critical", instance, now);
    return instance;
  }

  private remove(instance: InstanceState): void {
    this.leases.delete(instance);
    this.keepAliveOwners.delete(instance);
    this.index.remove(instance);
    this.trackers.delete(instance);
  }

  private reportLoad(instance: InstanceState, load: number | undefined, now: number): void {
    // The same load again changes nothing: the flag follows from it and the last flag.
    if (load === undefined || (instance.loadReported && load === instance.load)) return;
    const wasCritical = instance.critical;
    const critical = this.load.isCritical(wasCritical, load);
    this.index.update(instance, () => {
      instance.load = load;
      instance.loadReported = true;
      instance.critical = critical;
    });
    if (critical !== wasCritical) this.emit(critical ? "load-critical" : "load-normal", instance, now);
  }

  private changeStatus(instance: InstanceState, status: HealthStatus, now: number): void {
    const previous = instance.status;
    if (previous === status) return;
    this.index.update(instance, () => {
      instance.status = status;
    });
    this.emit("health-changed", instance, now, previous);
  }

  private require(serviceName: string, instanceId: string): InstanceState {
    const instance = this.index.get(serviceName, instanceId);
    if (instance === undefined) {
      throw new DiscoveryError("not-found", `instance ${instanceId} of service ${serviceName} is not registered (or its lease expired)`);
    }
    return instance;
  }

  private emit(type: ChangeType, instance: InstanceState, now: number, previousStatus?: HealthStatus): void {
    const revision = ++this.currentRevision;
    const event: RegistryEvent = { revision, type, instance: freeze(instance), previousStatus, occurredAt: now };
    this.history.append(event);
    for (const listener of this.listeners) listener(event);
  }
}

function freeze(instance: InstanceState): InstanceView {
  // Metadata objects are replaced, never mutated, so the copy may share them.
  return Object.freeze({ ...instance });
}

function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}
