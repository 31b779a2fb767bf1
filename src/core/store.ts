// The RegistryStore port: where the registry's state lives, apart from its rules
// (src/core/registry.ts). Modelled on etcd's KV (apply a change, get revisioned
// events), WatchableKV (a consistent view at a revision, events after it) and
// Lessor (leases with deadlines, renewed cheaply, expired by the holder).
// Implementations: src/store/memory (the embedded default), src/store/etcd (cluster mode).
import type { ReplayRefusal } from "./event-log";
import type { ChangeType, HealthStatus, InstanceState, InstanceView, RegistryEvent, ServiceSummary } from "./types";

/** An instance as the last write left it, with that write's revision (etcd's mod_revision). */
export interface StoredInstance {
  /** As written (frozen): soft state as of that write; get() has the current soft state. */
  readonly instance: InstanceView;
  /** Compare with StoreWrite.expectRevision to write only over what a rule judged. */
  readonly revision: number;
}

/** One event a write makes: its type and the instance right after it (a frozen copy: events are shared). */
export interface StoreStep {
  readonly type: ChangeType;
  /** After the step; for "unregistered" and "expired" the instance as it was removed. */
  readonly instance: InstanceView;
  /** Set on health-changed. */
  readonly previousStatus?: HealthStatus;
}

/**
 * A validated change of one instance, judged by the rules from the instance at
 * `expectRevision`. Each step becomes an event with its own, higher revision
 * (a registration that arrives saturated is "registered" then "load-critical");
 * a write without steps (a lost keep-alive's mark lifted with no status change)
 * still takes a revision but tells no watcher. Revisions therefore increase but
 * may skip, as etcd's do.
 */
export interface StoreWrite {
  readonly serviceName: string;
  readonly instanceId: string;
  /** The StoredInstance.revision the rules judged from; 0: the instance must not exist. */
  readonly expectRevision: number;
  /** The instance after the write (a frozen copy); undefined removes it. */
  readonly next: InstanceView | undefined;
  /** The events, in order; a removal's last step is "unregistered" or "expired". */
  readonly steps: readonly StoreStep[];
  /**
   * Where the instance's lease ends after the write; the writing node holds it
   * from then on. Undefined keeps the lease as it is. A removal drops the lease.
   */
  readonly leaseDeadline?: number;
  /** When the rules judged the change (clock ms): the events' occurredAt. */
  readonly occurredAt: number;
}

/**
 * The fields that change without an event: the lease deadline, the time of the
 * last heartbeat or probe, a load that crossed no threshold, probe statistics.
 * A store keeps them without a round trip; etcd replicates the load only when it
 * moved enough (LOAD_REPLICATION_STEP) or often enough (LOAD_REPLICATION_INTERVAL_SECONDS).
 * A field left undefined keeps its value: soft state only ever fills fields in.
 */
export type SoftState = Partial<Pick<InstanceState, "lastHeartbeat" | "load" | "loadReported" | "lastHealthCheck" | "latencyMs" | "uptime">>;

export interface Refresh {
  /** The new lease deadline; undefined leaves the lease alone (a drain's end does not move). */
  readonly leaseDeadline: number | undefined;
  readonly soft: SoftState;
}

/** A consistent view of the instances of some services at one revision. */
export interface StoreSnapshot {
  readonly revision: number;
  /** Copies no one else holds: they never change after they are handed out. */
  readonly instances: readonly InstanceView[];
}

/** An apply lost a race: the instance is no longer at the revision the rules judged. The rules judge again. */
export class StoreConflictError extends Error {
  override readonly name = "StoreConflictError";
  constructor(
    readonly serviceName: string,
    readonly instanceId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`instance ${instanceId} of service ${serviceName} is at revision ${actual}, not ${expected}`);
  }
}

export type StoreListener = (event: RegistryEvent) => void;

/**
 * Where the registry's state lives. Reads are synchronous and come from this
 * node's view (for etcd: the local cache its watch keeps up to date); writes are
 * asynchronous and revisioned by the store. Listeners hear every event in
 * revision order, synchronously as this node's view takes it in, so a read made
 * in the same step is at the revision of the last event heard.
 *
 * Failures: a write that lost a race rejects with StoreConflictError; a store
 * that cannot write (etcd unreachable) rejects with DiscoveryError("unavailable")
 * naming what is down; bad input never reaches the store (the rules validate).
 */
export interface RegistryStore {
  // --- KV: writes and reads -----------------------------------------------

  /**
   * Applies a write: checks expectRevision, gives each step the next revision
   * (a write without steps takes one too), updates the view, tells the
   * listeners, and resolves with the events.
   * The memory store does it all before returning; etcd once the txn commits
   * and its watch delivered it here.
   */
  apply(write: StoreWrite, options?: { signal?: AbortSignal }): Promise<readonly RegistryEvent[]>;

  /**
   * A change no watcher is told of (see SoftState). Synchronous when this node
   * holds the instance's lease: the heartbeat hot path costs no round trip.
   * Otherwise (etcd, the lease is another node's) a Promise that settles once
   * the lease moved here, in one write. Undefined: the instance is not registered.
   */
  refresh(serviceName: string, instanceId: string, refresh: Refresh): InstanceView | undefined | Promise<InstanceView | undefined>;

  /** The revision of the latest event in this node's view. */
  readonly revision: number;
  readonly instanceCount: number;
  /** The instance as last written, with its revision (for a write judged from it); cheap: no copy. */
  entry(serviceName: string, instanceId: string): StoredInstance | undefined;
  /** The instance as it is now, soft state included: a copy no one else holds. */
  get(serviceName: string, instanceId: string): InstanceView | undefined;
  /** A service's instances as copies (safe to keep: the store never changes them). */
  instancesOf(serviceName: string): Iterable<InstanceView>;
  /**
   * A number that changes whenever anything in the service changes, soft state
   * included: the key under which a rendered answer for it may be cached.
   */
  serviceStamp(serviceName: string): number;
  hasService(serviceName: string): boolean;
  serviceNames(): Iterable<string>;
  /** Per-service counts, sorted by name. */
  summaries(): ServiceSummary[];
  summaryOf(serviceName: string): ServiceSummary | undefined;

  // --- WatchableKV: a view at a revision, and what came after it -----------

  /** The instances of the given services (all when undefined) and the revision they are at. */
  snapshot(services?: ReadonlySet<string>): StoreSnapshot;

  /**
   * The events after `revision`, in order, filtered to `services`; or why that
   * is impossible ("history-compacted": start over with a RESET and a snapshot).
   * Consistent with onEvent: every later event reaches the listeners after the
   * answer was made, so a watcher that subscribed first misses nothing and
   * drops what the answer already covered (revision <= the answer's). May be
   * asynchronous (etcd fetches history older than its cache).
   */
  eventsSince(revision: number, services?: ReadonlySet<string>): ReplayAnswer | Promise<ReplayAnswer>;

  /** Hears every event, in revision order; returns the unsubscribe. */
  onEvent(listener: StoreListener): () => void;

  /**
   * Hears that the view was replaced by a fresh load without events (etcd: this
   * node's watch fell behind a compaction, so the changes in between are lost to
   * it): whatever was built from events must be rebuilt from reads, and every
   * Watch subscriber starts over with a RESET and a snapshot. What differs
   * between the old view and the new comes with it (the sinks publish it). The
   * memory store never does this.
   */
  onResync(listener: (resync: StoreResync) => void): () => void;

  // --- Lessor: the leases this node holds ----------------------------------

  /** The earliest lease deadline this node holds, or undefined when none. */
  nextDeadline(): number | undefined;

  /**
   * Takes (removes from the lease queue) at most `budget` instances whose lease
   * ran out at or before `now`, earliest first. The rules then apply their
   * removal ("expired", or "unregistered" for a finished drain) with the
   * returned revision as expectRevision: a conflict means someone renewed it.
   */
  takeExpired(now: number, budget: number): StoredInstance[];

  // --- Lifetime --------------------------------------------------------------

  /** Releases what the store holds (connections, watches); the memory store has nothing to release. */
  close(): Promise<void>;
}

/** One instance the fresh load of a resync found different from the view before it. */
export interface ResyncDifference {
  /** As this node knew it before; undefined: new to this node. */
  readonly before: InstanceView | undefined;
  /** As loaded; undefined: gone from the registry. */
  readonly after: InstanceView | undefined;
  /** The revision of its last write (`after`), or the load's for one that is gone. */
  readonly revision: number;
}

/** A view replaced by a fresh load at `revision` (see onResync). */
export interface StoreResync {
  readonly revision: number;
  /**
   * The instances that appeared, left, or were written again since the view last
   * heard of them (a write that changed nothing observable is among them too:
   * its revision moved). Sorted by revision. Bounded by the registry's size.
   */
  readonly differences: readonly ResyncDifference[];
}

/** What eventsSince answers: the events and the revision they bring a watcher to, or why not. */
export type ReplayAnswer =
  | { readonly t: "replay"; readonly revision: number; readonly events: readonly RegistryEvent[] }
  | { readonly t: "refused"; readonly reason: ReplayRefusal };
