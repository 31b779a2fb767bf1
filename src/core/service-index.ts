// Instances grouped by service, with each service's counts kept up to date on
// every change, so reads never scan the registry and summaries cost O(services).
// Entries are immutable: a change replaces the entry, so nothing handed out moves.
import type { StoredInstance } from "./store";
import { isServing, type HealthStatus, type InstanceView, type ServiceSummary } from "./types";

interface ServiceEntry {
  readonly instances: Map<string, StoredInstance>;
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
    for (const stored of entry.instances.values()) yield stored.instance;
  }

  stamp(serviceName: string): number {
    return this.services.get(serviceName)?.stamp ?? 0;
  }

  /** Adds an entry or replaces the one with its name, keeping the service's counts right. */
  put(stored: StoredInstance): void {
    const { serviceName, instanceId } = stored.instance;
    let entry = this.services.get(serviceName);
    if (entry === undefined) {
      entry = { instances: new Map(), healthy: 0, byStatus: { unknown: 0, healthy: 0, degraded: 0, unhealthy: 0, draining: 0 }, critical: 0, loadSum: 0, loadCount: 0, stamp: 0 };
      this.services.set(serviceName, entry);
    }
    const previous = entry.instances.get(instanceId);
    if (previous === undefined) this.total++;
    else account(entry, previous.instance, -1);
    entry.instances.set(instanceId, stored);
    account(entry, stored.instance, 1);
    entry.stamp = ++this.stamps;
  }

  /** Removes an instance; returns what was there. */
  remove(serviceName: string, instanceId: string): StoredInstance | undefined {
    const entry = this.services.get(serviceName);
    const previous = entry?.instances.get(instanceId);
    if (entry === undefined || previous === undefined) return undefined;
    entry.instances.delete(instanceId);
    this.total--;
    if (entry.instances.size === 0) {
      this.services.delete(serviceName);
      return previous;
    }
    account(entry, previous.instance, -1);
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

function account(entry: ServiceEntry, instance: InstanceView, sign: 1 | -1): void {
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
