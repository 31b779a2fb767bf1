// Instances grouped by service, with each service's counts kept up to date on
// every change, so reads never scan the registry and summaries cost O(services).
import { isServing, type HealthStatus, type InstanceState, type ServiceSummary } from "./types";

interface ServiceEntry {
  readonly instances: Map<string, InstanceState>;
  healthy: number;
  /** Instances in each status. */
  byStatus: Record<HealthStatus, number>;
  critical: number;
  loadSum: number;
  loadCount: number;
  /** Unique across the index's life, changed by every mutation of the service. */
  stamp: number;
}

const EMPTY: Iterable<InstanceState> = [];

export class ServiceIndex {
  private readonly services = new Map<string, ServiceEntry>();
  private stamps = 0;

  get(serviceName: string, instanceId: string): InstanceState | undefined {
    return this.services.get(serviceName)?.instances.get(instanceId);
  }

  has(serviceName: string): boolean {
    return this.services.has(serviceName);
  }

  names(): Iterable<string> {
    return this.services.keys();
  }

  instancesOf(serviceName: string): Iterable<InstanceState> {
    return this.services.get(serviceName)?.instances.values() ?? EMPTY;
  }

  stamp(serviceName: string): number {
    return this.services.get(serviceName)?.stamp ?? 0;
  }

  add(instance: InstanceState): void {
    let entry = this.services.get(instance.serviceName);
    if (entry === undefined) {
      entry = { instances: new Map(), healthy: 0, byStatus: { unknown: 0, healthy: 0, degraded: 0, unhealthy: 0, draining: 0 }, critical: 0, loadSum: 0, loadCount: 0, stamp: 0 };
      this.services.set(instance.serviceName, entry);
    }
    entry.instances.set(instance.instanceId, instance);
    account(entry, instance, 1);
    entry.stamp = ++this.stamps;
  }

  remove(instance: InstanceState): void {
    const entry = this.services.get(instance.serviceName);
    if (entry === undefined || !entry.instances.delete(instance.instanceId)) return;
    if (entry.instances.size === 0) {
      this.services.delete(instance.serviceName);
      return;
    }
    account(entry, instance, -1);
    entry.stamp = ++this.stamps;
  }

  /** Applies a change to an indexed instance, keeping the service's counts right. */
  update(instance: InstanceState, mutate: () => void): void {
    const entry = this.services.get(instance.serviceName)!;
    account(entry, instance, -1);
    mutate();
    account(entry, instance, 1);
    entry.stamp = ++this.stamps;
  }

  /** Records a change that no count depends on (a heartbeat's time): only the stamp moves. */
  changed(instance: InstanceState): void {
    this.services.get(instance.serviceName)!.stamp = ++this.stamps;
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
