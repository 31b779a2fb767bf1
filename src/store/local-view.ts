// This node's view of the registry, as every store keeps it: the instances by
// service (immutable entries), the revision, the recent events for Watch resume,
// and the listeners. A store feeds it what it wrote (memory) or what its watch
// delivered (etcd); the reads of the RegistryStore port are answered from here.
import { EventLog } from "../core/event-log";
import { ServiceIndex, type IndexSlot } from "../core/service-index";
import type { ReplayAnswer, ResyncDifference, SoftState, StoreListener, StoreResync, StoreSnapshot, StoredInstance } from "../core/store";
import type { InstanceView, RegistryEvent, ServiceSummary } from "../core/types";

export interface LocalViewOptions {
  /** The revision before the first this view takes in: resumes from below it are refused as unknown. */
  baseRevision: number;
  /** Events retained for Watch resume (WATCH_HISTORY_SIZE). */
  historySize: number;
}

export class LocalView {
  private readonly index = new ServiceIndex();
  private history: EventLog;
  private readonly listeners = new Set<StoreListener>();
  private readonly resyncListeners = new Set<(resync: StoreResync) => void>();
  private readonly historySize: number;
  private current: number;

  constructor(options: LocalViewOptions) {
    this.current = options.baseRevision;
    this.historySize = options.historySize;
    this.history = new EventLog(options.historySize, options.baseRevision);
  }

  get revision(): number {
    return this.current;
  }

  get instanceCount(): number {
    return this.index.size;
  }

  entry(serviceName: string, instanceId: string): StoredInstance | undefined {
    return this.index.get(serviceName, instanceId);
  }

  get(serviceName: string, instanceId: string): InstanceView | undefined {
    return this.index.view(serviceName, instanceId);
  }

  instancesOf(serviceName: string): Iterable<InstanceView> {
    return this.index.instancesOf(serviceName);
  }

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

  snapshot(services?: ReadonlySet<string>): StoreSnapshot {
    const instances: InstanceView[] = [];
    for (const name of services ?? this.index.names()) for (const instance of this.index.instancesOf(name)) instances.push(instance);
    return { revision: this.current, instances };
  }

  /**
   * From the retained events only. Typed as the port's, so that a store that can
   * reach further back (etcd) may override it with an asynchronous answer.
   */
  eventsSince(revision: number, services?: ReadonlySet<string>): ReplayAnswer | Promise<ReplayAnswer> {
    return this.retainedSince(revision, services);
  }

  /** The events after `revision` this view still holds, or why it cannot answer. */
  retainedSince(revision: number, services?: ReadonlySet<string>): ReplayAnswer {
    const replay = this.history.since(revision, this.current);
    if (replay.t === "refused") return replay;
    const events = services === undefined ? replay.events : replay.events.filter((e) => services.has(e.instance.serviceName));
    return { t: "replay", revision: this.current, events };
  }

  onEvent(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onResync(listener: (resync: StoreResync) => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /**
   * Replaces the whole view with a fresh load at `revision`, without events (etcd:
   * its watch fell behind a compaction, so the changes in between are gone). The
   * retained history restarts at `revision`: a resume from before it must not be
   * answered from events with a hole in them. Then the resync listeners hear it,
   * with what differs between the view before and the load.
   */
  replaceAll(loaded: readonly StoredInstance[], revision: number): void {
    const differences: ResyncDifference[] = [];
    const kept = new Set<string>();
    for (const stored of loaded) {
      const { serviceName, instanceId } = stored.instance;
      kept.add(`${serviceName}/${instanceId}`);
      const before = this.index.get(serviceName, instanceId);
      // The same revision is the same write: nothing happened to it in the gap.
      if (before?.revision !== stored.revision) differences.push({ before: before === undefined ? undefined : this.index.view(serviceName, instanceId), after: stored.instance, revision: stored.revision });
    }
    this.current = Math.max(this.current, revision);
    for (const name of [...this.index.names()]) {
      for (const instance of [...this.index.instancesOf(name)]) {
        if (kept.has(`${name}/${instance.instanceId}`)) continue;
        differences.push({ before: instance, after: undefined, revision: this.current });
        this.index.remove(name, instance.instanceId);
      }
    }
    for (const stored of loaded) this.index.put(stored.instance, stored.revision);
    this.history = new EventLog(this.historySize, this.current);
    differences.sort((a, b) => a.revision - b.revision);
    const resync: StoreResync = { revision: this.current, differences };
    for (const listener of [...this.resyncListeners]) listener(resync);
  }

  /**
   * Takes in one write: its events (each moves the revision, is retained and
   * heard by the listeners, in order) and then the instance as it ends up
   * (undefined: removed) at `revision`, the write's last.
   */
  takeIn(serviceName: string, instanceId: string, next: InstanceView | undefined, events: readonly RegistryEvent[], revision: number): void {
    for (const event of events) {
      if (event.revision <= this.current) throw new Error(`revision ${event.revision} does not follow ${this.current}`);
      this.current = event.revision;
      this.history.append(event);
      // The index follows each event, so a listener reading the view sees the instance as the event has it.
      if (event.type === "unregistered" || event.type === "expired") this.index.remove(serviceName, instanceId);
      else this.index.put(event.instance, event.revision);
      for (const listener of this.listeners) listener(event);
    }
    if (revision < this.current) throw new Error(`revision ${revision} does not follow ${this.current}`);
    this.current = revision;
    if (next === undefined) this.index.remove(serviceName, instanceId);
    else this.index.put(next, revision);
  }

  /** The instance's place in the index, stable while it stays (see IndexSlot). */
  protected slotOf(serviceName: string, instanceId: string): IndexSlot | undefined {
    return this.index.slot(serviceName, instanceId);
  }

  /**
   * Takes in an instance as a store loaded it at start (etcd: a Range at the view's
   * base revision), with the revision of its last write: no event, no listener.
   */
  seed(stored: StoredInstance): void {
    this.index.put(stored.instance, stored.revision);
  }

  /** Applies soft state (no event, no revision); returns the instance as it now is, or undefined if absent. */
  soften(serviceName: string, instanceId: string, soft: SoftState): InstanceView | undefined {
    const slot = this.index.slot(serviceName, instanceId);
    return slot === undefined ? undefined : this.softenAt(slot, soft);
  }

  /** soften() for an instance whose slot the store already holds (the memory store's hot path). */
  protected softenAt(slot: IndexSlot, soft: SoftState): InstanceView {
    this.index.soften(slot, soft);
    return this.index.viewOf(slot);
  }

  /** The entry of a slot, or undefined once its instance left. */
  protected storedAt(slot: IndexSlot): StoredInstance | undefined {
    return this.index.stored(slot);
  }
}
