// Instances grouped by service, with each service's counts kept up to date on
// every change, so reads never scan the registry and summaries cost O(services).
// The state is held mutable inside and handed out only as copies made on read:
// a heartbeat changes its fields in place (a copy-on-write entry left long-lived
// garbage per heartbeat and measured slower), and nothing handed out moves.
import { copyInstance } from "./instance-copy";
import type { SoftState, StoredInstance } from "./store";
import { isServing, type HealthStatus, type InstanceState, type InstanceView, type ServiceSummary } from "./types";

/**
 * One instance's place in the index, stable while the instance stays: a store
 * keys its own per-instance state by it (the memory store's leases) without
 * hashing names again.
 */
export interface IndexSlot {
  /** False once the instance left the index. */
  readonly present: boolean;
}

interface Slot extends IndexSlot {
  present: boolean;
  /** The instance now, soft state included. Never handed out: reads copy it. */
  state: InstanceState;
  /** As the last write left it (frozen) and that write's revision. */
  written: StoredInstance;
  readonly entry: ServiceEntry;
}

interface ServiceEntry {
  readonly instances: Map<string, Slot>;
  healthy: number;
  /** Instances in each status. */
  byStatus: Record<HealthStatus, number>;
  critical: number;
  loadSum: number;
  loadCount: number;
  /** Unique across the index's life, changed by every change of the service. */
  stamp: number;
}

export class ServiceIndex {
  private readonly services = new Map<string, ServiceEntry>();
  private stamps = 0;
  private total = 0;

  get size(): number {
    return this.total;
  }

  get(serviceName: string, instanceId: string): StoredInstance | undefined {
    return this.services.get(serviceName)?.instances.get(instanceId)?.written;
  }

  /** The entry of a slot as last written, or undefined once the instance left. */
  stored(slot: IndexSlot): StoredInstance | undefined {
    const own = slot as Slot;
    return own.present ? own.written : undefined;
  }

  view(serviceName: string, instanceId: string): InstanceView | undefined {
    const slot = this.services.get(serviceName)?.instances.get(instanceId);
    return slot === undefined ? undefined : copyInstance(slot.state);
  }

  slot(serviceName: string, instanceId: string): IndexSlot | undefined {
    return this.services.get(serviceName)?.instances.get(instanceId);
  }

  has(serviceName: string): boolean {
    return this.services.has(serviceName);
  }

  names(): Iterable<string> {
    return this.services.keys();
  }

  *instancesOf(serviceName: string): Iterable<InstanceView> {
    const entry = this.services.get(serviceName);
    if (entry === undefined) return;
    for (const slot of entry.instances.values()) yield copyInstance(slot.state);
  }

  stamp(serviceName: string): number {
    return this.services.get(serviceName)?.stamp ?? 0;
  }

  /** Adds an instance or replaces the one with its name, as written (frozen) at `revision`, keeping the service's counts right. */
  put(instance: InstanceView, revision: number): IndexSlot {
    const { serviceName, instanceId } = instance;
    let entry = this.services.get(serviceName);
    if (entry === undefined) {
      entry = { instances: new Map(), healthy: 0, byStatus: { unknown: 0, healthy: 0, degraded: 0, unhealthy: 0, draining: 0 }, critical: 0, loadSum: 0, loadCount: 0, stamp: 0 };
      this.services.set(serviceName, entry);
    }
    const slot = entry.instances.get(instanceId);
    if (slot !== undefined) {
      account(entry, slot.state, -1);
      slot.state = { ...instance };
      slot.written = { instance, revision };
      account(entry, slot.state, 1);
      entry.stamp = ++this.stamps;
      return slot;
    }
    const added: Slot = { present: true, state: { ...instance }, written: { instance, revision }, entry };
    entry.instances.set(instanceId, added);
    this.total++;
    account(entry, added.state, 1);
    entry.stamp = ++this.stamps;
    return added;
  }

  /** Changes soft fields of an instance still in the index, in place (no name lookup, no copy: the hot path). */
  soften(slot: IndexSlot, soft: SoftState): void {
    const own = slot as Slot;
    const entry = own.entry;
    const state = own.state;
    account(entry, state, -1);
    // Field by field (undefined leaves a field): Object.assign of varying patch shapes is slow here.
    if (soft.lastHeartbeat !== undefined) state.lastHeartbeat = soft.lastHeartbeat;
    if (soft.load !== undefined) state.load = soft.load;
    if (soft.loadReported !== undefined) state.loadReported = soft.loadReported;
    if (soft.lastHealthCheck !== undefined) state.lastHealthCheck = soft.lastHealthCheck;
    if (soft.latencyMs !== undefined) state.latencyMs = soft.latencyMs;
    if (soft.uptime !== undefined) state.uptime = soft.uptime;
    account(entry, state, 1);
    entry.stamp = ++this.stamps;
  }

  /** A copy of the instance in a slot (present). */
  viewOf(slot: IndexSlot): InstanceView {
    return copyInstance((slot as Slot).state);
  }

  /** Removes an instance; returns what was there. */
  remove(serviceName: string, instanceId: string): StoredInstance | undefined {
    const entry = this.services.get(serviceName);
    const slot = entry?.instances.get(instanceId);
    if (entry === undefined || slot === undefined) return undefined;
    const previous = slot.written;
    slot.present = false;
    entry.instances.delete(instanceId);
    this.total--;
    if (entry.instances.size === 0) {
      this.services.delete(serviceName);
      return previous;
    }
    account(entry, slot.state, -1);
    entry.stamp = ++this.stamps;
    return previous;
  }

  summaryOf(serviceName: string): ServiceSummary | undefined {
    const entry = this.services.get(serviceName);
    return entry === undefined ? undefined : summarize(serviceName, entry);
  }

  summaries(): ServiceSummary[] {
    const out: ServiceSummary[] = [];
    for (const [name, entry] of this.services) out.push(summarize(name, entry));
    return out.sort((a, b) => (a.serviceName < b.serviceName ? -1 : 1));
  }
}

function account(entry: ServiceEntry, instance: InstanceState, sign: 1 | -1): void {
  if (isServing(instance.status)) entry.healthy += sign;
  entry.byStatus[instance.status] += sign;
  if (instance.critical) entry.critical += sign;
  if (instance.loadReported) {
    entry.loadSum += sign * instance.load;
    entry.loadCount += sign;
    if (entry.loadCount === 0) entry.loadSum = 0; // no float drift survives an empty sum
  }
}

function summarize(serviceName: string, entry: ServiceEntry): ServiceSummary {
  return {
    serviceName,
    instanceCount: entry.instances.size,
    healthyCount: entry.healthy,
    criticalLoadCount: entry.critical,
    averageLoad: entry.loadCount === 0 ? 0 : entry.loadSum / entry.loadCount,
    unknownCount: entry.byStatus.unknown,
    degradedCount: entry.byStatus.degraded,
    unhealthyCount: entry.byStatus.unhealthy,
    drainingCount: entry.byStatus.draining,
  };
}
