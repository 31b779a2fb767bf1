// The embedded store (DISCOVERY_STORE=memory, the default): the registry in this
// process. Writes are applied before apply() returns, revisions are a counter, and
// leases sit in a heap with an index (as etcd's lessor keeps them), keyed by the
// instance's slot in the view so that renewing hashes no names.
import { LeaseQueue } from "../../core/lease-queue";
import type { IndexSlot } from "../../core/service-index";
import type { RegistryStore, Refresh, StoreWrite, StoredInstance } from "../../core/store";
import { StoreConflictError } from "../../core/store";
import type { InstanceView, RegistryEvent } from "../../core/types";
import { LocalView, type LocalViewOptions } from "../local-view";

export type MemoryStoreOptions = LocalViewOptions;

export class MemoryStore extends LocalView implements RegistryStore {
  private readonly leases = new LeaseQueue<IndexSlot>();

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
    const before = this.slotOf(serviceName, instanceId);
    const actual = before === undefined ? 0 : this.entry(serviceName, instanceId)!.revision;
    if (actual !== write.expectRevision) throw new StoreConflictError(serviceName, instanceId, write.expectRevision, actual);
    let revision = this.revision;
    const events = write.steps.map(
      (step): RegistryEvent => ({ revision: ++revision, type: step.type, instance: step.instance, previousStatus: step.previousStatus, occurredAt: write.occurredAt }),
    );
    if (events.length === 0) revision++;
    if (write.next === undefined && before !== undefined) this.leases.delete(before);
    this.takeIn(serviceName, instanceId, write.next, events, revision);
    if (write.next !== undefined && write.leaseDeadline !== undefined) this.leases.set(this.slotOf(serviceName, instanceId)!, write.leaseDeadline);
    return events;
  }

  refresh(serviceName: string, instanceId: string, refresh: Refresh): InstanceView | undefined {
    const slot = this.slotOf(serviceName, instanceId);
    if (slot === undefined) return undefined;
    if (refresh.leaseDeadline !== undefined) this.leases.set(slot, refresh.leaseDeadline);
    return this.softenAt(slot, refresh.soft);
  }

  nextDeadline(): number | undefined {
    return this.leases.peek();
  }

  takeExpired(now: number, budget: number): StoredInstance[] {
    const due: StoredInstance[] = [];
    while (due.length < budget) {
      const slot = this.leases.popDue(now);
      if (slot === undefined) break;
      const stored = this.storedAt(slot);
      if (stored !== undefined) due.push(stored);
    }
    return due;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
