// The registry's rules: validation, leases and drains, status judgement (self-
// reported, probed, lost keep-alive), critical-load hysteresis and KeepAlive
// ownership. The state lives behind the RegistryStore port (src/core/store.ts);
// what stays here is this node's own: probe trackers and KeepAlive owners.
// Pure: time comes from the injected clock, ids from the injected generator.
import type { Clock } from "./clock";
import { DiscoveryError } from "./errors";
import { judgeProbe, sameHealthCheck, type ProbeObservation, type ProbeResult } from "./health-state";
import { InstanceDraft } from "./instance-draft";
import { commit, notFound, orNotFound, remove, settle } from "./judged-write";
import { instanceKey as keyOf, ProbeTrackers } from "./probe-trackers";
import { DEFAULT_REGISTRY_LIMITS, type RegistryLimits } from "./limits";
import { createLoadTracker, type LoadTracker } from "./load-tracker";
import { StoreConflictError, type RegistryStore, type StoredInstance } from "./store";
import type { HealthStatus, HeartbeatInput, InstanceState, InstanceView, RegisterInput, ValidRegisterInput } from "./types";
import { validateDrain, validateHeartbeat, validateInstanceId, validateRegister, validateServiceName, type ProbeHostRule } from "./validate";

export interface RegistryOptions {
  store: RegistryStore;
  clock: Clock;
  /** Makes an id for a Register request that brings none (a UUID at runtime). */
  newInstanceId: () => string;
  limits?: Partial<RegistryLimits>;
  /** Refuses at Register a probed host the probe address policy would refuse (see health/address-policy.ts). */
  probeHostRule?: ProbeHostRule;
}

/**
 * Identifies one KeepAlive stream to the registry: an opaque value the server
 * makes per stream and compares by identity (the core knows nothing of streams).
 */
export type KeepAliveOwner = object;

export interface RegisterResult {
  instance: InstanceView;
  created: boolean;
}

/** The registry's rules over a store: every mutation validates, judges, then writes. */
export class Registry {
  readonly limits: Readonly<RegistryLimits>;
  readonly store: RegistryStore;
  private readonly clock: Clock;
  private readonly newInstanceId: () => string;
  private readonly probeHostRule: ProbeHostRule | undefined;
  private readonly load: LoadTracker;
  /** Probe state of the instances with a health check that this node probes. */
  private readonly trackers: ProbeTrackers;
  /** The stream that carried each instance's latest heartbeat here, while that was a KeepAlive one. */
  private readonly keepAliveOwners = new Map<string, KeepAliveOwner>();
  private readonly unsubscribe: () => void;

  constructor(options: RegistryOptions) {
    this.limits = { ...DEFAULT_REGISTRY_LIMITS, ...options.limits };
    this.store = options.store;
    this.clock = options.clock;
    this.newInstanceId = options.newInstanceId;
    this.probeHostRule = options.probeHostRule;
    this.load = createLoadTracker(this.limits.criticalLoadThreshold, this.limits.criticalLoadHysteresis);
    this.trackers = new ProbeTrackers(this.limits.healthHistorySize);
    const stopEvents = this.store.onEvent((event) => {
      this.trackers.follow(event);
      if (event.type === "unregistered" || event.type === "expired") this.keepAliveOwners.delete(keyOf(event.instance.serviceName, event.instance.instanceId));
    });
    // The view replaced without events (etcd, after a compaction): forget what left with no event to say so.
    const stopResyncs = this.store.onResync(() => {
      const present = new Set<string>();
      for (const name of this.store.serviceNames()) for (const instance of this.store.instancesOf(name)) present.add(keyOf(name, instance.instanceId));
      this.trackers.retain((key) => present.has(key));
      for (const key of [...this.keepAliveOwners.keys()]) if (!present.has(key)) this.keepAliveOwners.delete(key);
    });
    this.unsubscribe = () => {
      stopEvents();
      stopResyncs();
    };
  }

  /** Stops following the store (the store itself is closed by its owner). */
  close(): void {
    this.unsubscribe();
  }

  /** Adds an instance, or updates an existing one and renews its lease. */
  async register(request: RegisterInput): Promise<RegisterResult> {
    const input = validateRegister(request, this.limits, this.probeHostRule);
    const ttlMs = input.ttlMs ?? this.limits.defaultTtlMs;
    const instanceId = input.instanceId || this.newInstanceId();
    const key = keyOf(input.serviceName, instanceId);
    // The instance speaks for itself again: no earlier stream's break may mark it.
    this.keepAliveOwners.delete(key);
    return settle(async () => {
      const now = this.clock.now();
      const current = this.read(input.serviceName, instanceId);
      if (current === undefined) return { instance: await this.add(input, instanceId, ttlMs, now), created: true };
      const existing = current.instance;
      const checkChanged = !sameHealthCheck(existing.healthCheck, input.healthCheck);
      const draft = new InstanceDraft(existing);
      // The reported load is part of this change: an updated or health-changed event carries it.
      draft.setSoft(input.load === undefined ? { lastHeartbeat: now } : { lastHeartbeat: now, load: input.load, loadReported: true });
      if (checkChanged || existing.host !== input.host || existing.port !== input.port || existing.healthEndpoint !== input.healthEndpoint || existing.ttlMs !== ttlMs || !sameMetadata(existing.metadata, input.metadata)) {
        draft.set({ host: input.host, port: input.port, healthEndpoint: input.healthEndpoint, metadata: input.metadata, ttlMs });
        // A check that changed starts over (counters, history) from the instance's current status.
        if (checkChanged) {
          draft.set({ healthCheck: input.healthCheck, lastHealthCheck: undefined, latencyMs: undefined, uptime: 0 });
          this.trackers.reset(key, input.healthCheck, draft.current.status);
        }
        draft.event("updated");
      }
      // Registering again cancels a drain and lifts a lost keep-alive; with a check, the probes' verdict is the status to return to.
      const probed = this.trackers.get(key)?.status;
      if (existing.status === "draining") draft.status(probed ?? "healthy");
      else if (!liftKeepAliveLost(draft, probed) && checkChanged && input.healthCheck === undefined) draft.status("healthy");
      this.judgeLoad(draft, input.load);
      return { instance: await commit(this.store, current, draft, now + ttlMs, now), created: false };
    });
  }

  /**
   * Renews a lease, records the reported load and (optionally) a self-reported
   * status. `keepAliveOwner` is the KeepAlive stream the heartbeat came on
   * (absent for a unary Heartbeat): it becomes the one stream whose break may
   * mark the instance (see markKeepAliveLost). A heartbeat that changes nothing
   * a watcher sees is answered synchronously from the store's soft state: no write.
   */
  heartbeat(request: HeartbeatInput, keepAliveOwner?: KeepAliveOwner): InstanceView | Promise<InstanceView> {
    const input = validateHeartbeat(request);
    // The record as last written is enough to judge: status, critical flag, lost keep-alive, ttl (no copy).
    const current = this.store.entry(input.serviceName, input.instanceId);
    if (current === undefined) throw notFound(input.serviceName, input.instanceId);
    if (keepAliveOwner !== undefined) this.keepAliveOwners.set(keyOf(input.serviceName, input.instanceId), keepAliveOwner);
    else if (this.keepAliveOwners.size > 0) this.keepAliveOwners.delete(keyOf(input.serviceName, input.instanceId));
    const now = this.clock.now();
    const instance = current.instance;
    // A draining instance's lease is its drain deadline: heartbeats do not move it.
    const leaseDeadline = instance.status === "draining" ? undefined : now + instance.ttlMs;
    const load = input.load;
    const quiet =
      input.status === undefined &&
      instance.keepAliveLost === undefined &&
      (load === undefined || this.load.isCritical(instance.critical, load) === instance.critical);
    if (quiet) {
      const soft = load === undefined ? { lastHeartbeat: now } : { lastHeartbeat: now, load, loadReported: true };
      return orNotFound(input.serviceName, input.instanceId, this.store.refresh(input.serviceName, input.instanceId, { leaseDeadline, soft }));
    }
    return settle(async () => {
      const current = this.require(input.serviceName, input.instanceId);
      const draft = new InstanceDraft(current.instance);
      // The reported load is part of this change: a health-changed event carries it.
      draft.setSoft(load === undefined ? { lastHeartbeat: now } : { lastHeartbeat: now, load, loadReported: true });
      if (current.instance.status !== "draining") {
        // With a check, a self-reported status combines with the probes' (see HealthTracker).
        const key = keyOf(input.serviceName, input.instanceId);
        const reported = input.status === undefined ? this.trackers.get(key)?.status : this.trackers.combineReported(key, current.instance, input.status);
        if (!liftKeepAliveLost(draft, reported) && reported !== undefined && input.status !== undefined) draft.status(reported);
      }
      this.judgeLoad(draft, load);
      return commit(this.store, current, draft, current.instance.status === "draining" ? undefined : now + current.instance.ttlMs, now);
    });
  }

  /**
   * Removes an instance at once or, with a drain period, turns it "draining"
   * now (no longer serving) and removes it when the period ends.
   */
  async unregister(serviceName: string, instanceId: string, drainMs?: number): Promise<InstanceView> {
    validateServiceName(serviceName);
    validateInstanceId(instanceId, true);
    const drain = validateDrain(drainMs);
    return settle(async () => {
      const current = this.require(serviceName, instanceId);
      const now = this.clock.now();
      if (drain !== undefined && drain > 0) {
        // A drain reuses the lease: its deadline becomes the drain's end, and
        // expireDue reports a draining instance as unregistered, not expired.
        const draft = new InstanceDraft(current.instance);
        if (current.instance.keepAliveLost !== undefined) draft.set({ keepAliveLost: undefined });
        draft.status("draining");
        return commit(this.store, current, draft, now + drain, now);
      }
      await remove(this.store, current, "unregistered", now);
      return current.instance;
    });
  }

  /** Sets an instance's status (from a probe or an operator); emits health-changed. */
  async setStatus(serviceName: string, instanceId: string, status: HealthStatus): Promise<InstanceView> {
    return settle(async () => {
      const current = this.require(serviceName, instanceId);
      const draft = new InstanceDraft(current.instance);
      // A fresher verdict replaces the lost keep-alive's.
      if (current.instance.keepAliveLost !== undefined) draft.set({ keepAliveLost: undefined });
      draft.status(status);
      return commit(this.store, current, draft, undefined, this.clock.now());
    });
  }

  /**
   * The keep-alive stream `owner` broke without an Unregister: if it still owns
   * the instance, the instance turns unhealthy now (health-changed) and keeps
   * its lease; its next heartbeat (or Register) restores the status it had. A
   * draining, missing, already marked or otherwise kept instance is left as it
   * is. Resolves with the instance if marked.
   */
  async markKeepAliveLost(serviceName: string, instanceId: string, owner: KeepAliveOwner): Promise<InstanceView | undefined> {
    const key = keyOf(serviceName, instanceId);
    // Only the stream that carried the latest heartbeat owns the instance: a client
    // that reconnected (or went unary, or registered again) is not marked by its old stream.
    if (this.keepAliveOwners.get(key) !== owner) return undefined;
    this.keepAliveOwners.delete(key);
    return settle(async () => {
      const current = this.read(serviceName, instanceId);
      if (current === undefined || current.instance.status === "draining" || current.instance.keepAliveLost !== undefined) return undefined;
      const now = this.clock.now();
      const draft = new InstanceDraft(current.instance);
      draft.set({ keepAliveLost: { restore: current.instance.status, since: now } });
      draft.status("unhealthy");
      return commit(this.store, current, draft, undefined, now);
    });
  }

  /** Removes the instances whose lease ran out here, at most `budget` of them; resolves with how many. */
  async expireDue(budget = Number.POSITIVE_INFINITY): Promise<number> {
    const now = this.clock.now();
    const due = this.store.takeExpired(now, budget);
    // A drain that ran its course is the Unregister it was asked to be.
    const outcomes = await Promise.allSettled(due.map((stored) => remove(this.store, stored, stored.instance.status === "draining" ? "unregistered" : "expired", now)));
    let expired = 0;
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") expired++;
      // A conflict: the instance was written since its lease was taken (renewed through another node); it stays.
      else if (!(outcome.reason instanceof StoreConflictError)) throw outcome.reason;
    }
    return expired;
  }

  // --- Active health checks (probes run in src/health; their rules in health-state.ts) ---

  /**
   * Records what a probe of the instance saw: judges it by the instance's check,
   * moves its status after enough consecutive results, feeds a reported load to
   * critical-load detection, and renews the lease when the probe passed.
   */
  async recordProbe(serviceName: string, instanceId: string, observation: ProbeObservation): Promise<{ result: ProbeResult; instance: InstanceView }> {
    const key = keyOf(serviceName, instanceId);
    const tracker = this.trackers.of(key, this.require(serviceName, instanceId).instance);
    if (tracker === undefined) throw new DiscoveryError("failed-precondition", `instance ${instanceId} of service ${serviceName} has no health check`);
    const now = this.clock.now();
    const result = judgeProbe(observation, tracker.spec, now);
    tracker.record(result);
    return settle(async () => {
      const current = this.require(serviceName, instanceId);
      const draft = new InstanceDraft(current.instance);
      draft.setSoft({ lastHealthCheck: now, latencyMs: tracker.latencyAverageMs, uptime: tracker.uptime });
      if (result.load !== undefined) draft.setSoft({ load: result.load, loadReported: true });
      let leaseDeadline: number | undefined;
      // A draining instance keeps its status and its drain deadline; probes are only recorded.
      if (current.instance.status !== "draining") {
        // Answering probes keeps an instance registered even if it never heartbeats.
        if (result.outcome !== "fail") leaseDeadline = now + current.instance.ttlMs;
        // A probe is a fresher verdict than a lost keep-alive stream (as setStatus).
        if (current.instance.keepAliveLost !== undefined) draft.set({ keepAliveLost: undefined });
        draft.status(tracker.status);
      }
      this.judgeLoad(draft, result.load);
      return { result, instance: await commit(this.store, current, draft, leaseDeadline, now) };
    });
  }

  /** The instance's retained probe results (oldest first), latency average and uptime. */
  healthHistory(serviceName: string, instanceId: string): { results: ProbeResult[]; latencyAverageMs: number | undefined; uptime: number } {
    validateServiceName(serviceName);
    validateInstanceId(instanceId, true);
    this.require(serviceName, instanceId);
    const tracker = this.trackers.get(keyOf(serviceName, instanceId));
    if (tracker === undefined) return { results: [], latencyAverageMs: undefined, uptime: 0 };
    return { results: tracker.history(), latencyAverageMs: tracker.latencyAverageMs, uptime: tracker.uptime };
  }

  // --- end of active health checks ---

  private async add(input: ValidRegisterInput, instanceId: string, ttlMs: number, now: number): Promise<InstanceView> {
    if (this.store.instanceCount >= this.limits.maxInstances) {
      throw new DiscoveryError("resource-exhausted", `registry is full: it holds ${this.limits.maxInstances} instances (DISCOVERY_MAX_INSTANCES)`);
    }
    const critical = input.load !== undefined && this.load.isCritical(false, input.load);
    const fresh: InstanceState = {
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
      critical,
      registeredAt: now,
      lastHeartbeat: now,
      ttlMs,
      healthCheck: input.healthCheck,
      lastHealthCheck: undefined,
      latencyMs: undefined,
      uptime: 0,
    };
    this.trackers.reset(keyOf(input.serviceName, instanceId), input.healthCheck);
    const draft = new InstanceDraft(fresh);
    draft.event("registered");
    // Arriving already saturated is a crossing too: alert watchers that only follow load.
    if (critical) draft.event("load-critical");
    return commit(this.store, undefined, draft, now + ttlMs, now);
  }

  private judgeLoad(draft: InstanceDraft, load: number | undefined): void {
    const instance = draft.current;
    if (load === undefined) return;
    // The flag follows from the load and the last flag (hysteresis): the same load again changes nothing.
    const wasCritical = instance.critical;
    const critical = this.load.isCritical(wasCritical, load);
    draft.setSoft({ load, loadReported: true });
    if (critical === wasCritical) return;
    draft.set({ critical });
    draft.event(critical ? "load-critical" : "load-normal");
  }

  /**
   * The instance as it is now (soft state included: a write carries it on) with
   * the revision a write judged from it must expect; undefined when not registered.
   */
  private read(serviceName: string, instanceId: string): StoredInstance | undefined {
    const stored = this.store.entry(serviceName, instanceId);
    if (stored === undefined) return undefined;
    return { instance: this.store.get(serviceName, instanceId)!, revision: stored.revision };
  }

  private require(serviceName: string, instanceId: string): StoredInstance {
    const stored = this.read(serviceName, instanceId);
    if (stored === undefined) throw notFound(serviceName, instanceId);
    return stored;
  }
}

/** Restores the status a lost keep-alive overrode (or the reported one); true if there was one to lift. */
function liftKeepAliveLost(draft: InstanceDraft, reported: HealthStatus | undefined): boolean {
  const lost = draft.current.keepAliveLost;
  if (lost === undefined) return false;
  draft.set({ keepAliveLost: undefined });
  draft.status(reported ?? lost.restore);
  return true;
}

/** True when two metadata maps hold the same keys and values. */
export function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}
