// Lease deadlines in a binary min-heap with a key → slot index, as etcd's lessor
// keeps them: renewing is O(log n) and expiring touches only what is due.

interface Lease<K> {
  key: K;
  deadline: number;
  slot: number;
}

/** Deadlines by key, earliest first. */
export class LeaseQueue<K> {
  private readonly heap: Lease<K>[] = [];
  private readonly byKey = new Map<K, Lease<K>>();

  get size(): number {
    return this.heap.length;
  }

  /** Sets (or moves) the deadline of a key. */
  set(key: K, deadline: number): void {
    const lease = this.byKey.get(key);
    if (lease === undefined) {
      const added: Lease<K> = { key, deadline, slot: this.heap.length };
      this.heap.push(added);
      this.byKey.set(key, added);
      this.up(added.slot);
      return;
    }
    const earlier = deadline < lease.deadline;
    lease.deadline = deadline;
    if (earlier) this.up(lease.slot);
    else this.down(lease.slot);
  }

  delete(key: K): boolean {
    const lease = this.byKey.get(key);
    if (lease === undefined) return false;
    this.byKey.delete(key);
    const last = this.heap.pop()!;
    if (last !== lease) {
      this.heap[lease.slot] = last;
      last.slot = lease.slot;
      this.up(last.slot);
      this.down(last.slot);
    }
    return true;
  }

  deadlineOf(key: K): number | undefined {
    return this.byKey.get(key)?.deadline;
  }

  /** The earliest deadline, or undefined when empty. */
  peek(): number | undefined {
    return this.heap[0]?.deadline;
  }

  /** Removes and returns the earliest key if its deadline is at or before now. */
  popDue(now: number): K | undefined {
    const top = this.heap[0];
    if (top === undefined || top.deadline > now) return undefined;
    this.delete(top.key);
    return top.key;
  }

  private up(slot: number): void {
    const heap = this.heap;
    const lease = heap[slot]!;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = heap[parentSlot]!;
      if (parent.deadline <= lease.deadline) break;
      heap[slot] = parent;
      parent.slot = slot;
      slot = parentSlot;
    }
    heap[slot] = lease;
    lease.slot = slot;
  }

  private down(slot: number): void {
    const heap = this.heap;
    const n = heap.length;
    const lease = heap[slot]!;
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right]!.deadline < heap[left]!.deadline ? right : left;
      const next = heap[child]!;
      if (next.deadline >= lease.deadline) break;
      heap[slot] = next;
      next.slot = slot;
      slot = child;
    }
    heap[slot] = lease;
    lease.slot = slot;
  }
}
