// The embedded store (DISCOVERY_STORE=memory, the default): the registry in this
// process. Writes are applied before apply() returns, revisions are a counter, and
// leases sit in a heap with an index (as etcd's lessor keeps them).
import { LeaseQueue } from "../../core/lease-queue";
import type { RegistryStore, Refresh, StoreWrite, StoredInstance } from "../../core/store";
import { StoreConflictError } from "../../core/store";
import type { InstanceView, RegistryEvent } from "../../core/types";
import { LocalView, type LocalViewOptions } from "../local-view";

export type MemoryStoreOptions = LocalViewOptions;

const keyOf = (serviceName: string, instanceId: string) => `${serviceName}/${instanceId}`;

export class MemoryStore extends LocalView implements RegistryStore {
  private readonly leases = new LeaseQueue<string>();

  constructor(options: MemoryStoreOptions) {
    super(options);
  }

  apply(write: StoreWrite): Promise<readonly RegistryEvent[]> {
    try {
      return Promise.resolve(this.applyNow(write));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The write, synchronously: nothing else can run between its check and its effect. */
  private applyNow(write: StoreWrite): RegistryEvent[] {
    const { serviceName, instanceId } = write;
    const actual = this.entry(serviceName, instanceId)?.revision ?? 0;
    if (actual !== write.expectRevision) throw new StoreConflictError(serviceName, instanceId, write.expectRevision, actual);
    let revision = this.revision;
    const events = write.steps.map(
      (step): RegistryEvent => ({ revision: ++revision, type: step.type, instance: step.instance, previousStatus: step.previousStatus, occurredAt: write.occurredAt }),
    );
    if (events.length === 0) revision++;
    const key = keyOf(serviceName, instanceId);
    if (write.next === undefined) this.leases.delete(key);
    else if (write.leaseDeadline !== undefined) this.leases.set(key, write.leaseDeadline);
    this.takeIn(serviceName, instanceId, write.next, events, revision);
    return events;
  }

  refresh(serviceName: string, instanceId: string, refresh: Refresh): InstanceView | undefined {
    const instance = this.soften(serviceName, instanceId, refresh.soft);
    if (instance !== undefined && refresh.leaseDeadline !== undefined) this.leases.set(keyOf(serviceName, instanceId), refresh.leaseDeadline);
    return instance;
  }

  nextDeadline(): number | undefined {
    return this.leases.peek();
  }

  takeExpired(now: number, budget: number): StoredInstance[] {
    const due: StoredInstance[] = [];
    while (due.length < budget) {
      const key = this.leases.popDue(now);
      if (key === undefined) break;
      const slash = key.indexOf("/");
      const stored = this.entry(key.slice(0, slash), key.slice(slash + 1));
      if (stored !== undefined) due.push(stored);
    }
    return due;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
