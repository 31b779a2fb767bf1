// Instances grouped by service, with each service's counts kept up to date on
// every change, so reads never scan the registry and summaries cost O(services).
// Each instance is its record as last written (frozen) plus its soft fields,
// kept on its slot and changed in place by heartbeats (a copy-on-write entry left
// long-lived garbage per heartbeat and measured slower); reads hand out copies
// that join the two, so nothing handed out moves.
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

/** The soft fields now live on the slot itself: one object per instance beside its record. */
interface Slot extends IndexSlot, Required<Pick<InstanceState, "lastHeartbeat" | "load" | "loadReported" | "uptime">> {
  present: boolean;
  /** As the last write left it (frozen) and that write's revision; its soft fields are as of that write. */
  written: StoredInstance;
  lastHealthCheck: number | undefined;
  latencyMs: number | undefined;
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
    return slot === undefined ? undefined : now(slot);
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
    for (const slot of entry.instances.values()) yield now(slot);
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
      account(entry, slot, -1);
      slot.written = { instance, revision };
      takeSoft(slot, instance);
      account(entry, slot, 1);
      entry.stamp = ++this.stamps;
      return slot;
    }
    const added: Slot = {
      present: true,
      written: { instance, revision },
      entry,
      lastHeartbeat: instance.lastHeartbeat,
      load: instance.load,
      loadReported: instance.loadReported,
      lastHealthCheck: instance.lastHealthCheck,
      latencyMs: instance.latencyMs,
      uptime: instance.uptime,
    };
    entry.instances.set(instanceId, added);
    this.total++;
    account(entry, added, 1);
    entry.stamp = ++this.stamps;
    return added;
  }

  /** Changes soft fields of an instance still in the index, in place (no name lookup, no copy: the hot path). */
  soften(slot: IndexSlot, soft: SoftState): void {
    const state = slot as Slot;
    const entry = state.entry;
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
    return now(slot as Slot);
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
    account(entry, slot, -1);
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

/** The instance as it is now: its record with the slot's soft fields. */
function now(slot: Slot): InstanceView {
  return copyInstance(slot.written.instance, slot);
}

function takeSoft(slot: Slot, from: InstanceView): void {
  slot.lastHeartbeat = from.lastHeartbeat;
  slot.load = from.load;
  slot.loadReported = from.loadReported;
  slot.lastHealthCheck = from.lastHealthCheck;
  slot.latencyMs = from.latencyMs;
  slot.uptime = from.uptime;
}

function account(entry: ServiceEntry, slot: Slot, sign: 1 | -1): void {
  const record = slot.written.instance;
  if (isServing(record.status)) entry.healthy += sign;
  entry.byStatus[record.status] += sign;
  if (record.critical) entry.critical += sign;
  if (slot.loadReported) {
    entry.loadSum += sign * slot.load;
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
