// A FIFO with a hard size: when full, the oldest entry makes room and is counted
// as dropped. Sinks hold what a remote peer is slow to take here, so the
// registry never blocks on a sink and a sink never grows past its limit.

export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  /** Entries pushed out (oldest first) because the queue was full. */
  dropped = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`queue limit must be a whole number ≥ 1 (got ${limit})`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds at the tail; returns the entry dropped to make room, if any. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.length >= this.limit) {
      evicted = this.shift();
      this.dropped++;
    }
    this.items.push(item);
    return evicted;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    // Compact now and then so the array does not keep consumed slots.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Up to `count` entries from the head. */
  take(count: number): T[] {
    const out: T[] = [];
    while (out.length < count && this.length > 0) out.push(this.shift()!);
    return out;
  }

  /** Puts entries back at the head (a batch that could not be sent), dropping the oldest past the limit. */
  unshift(items: readonly T[]): void {
    const room = this.limit - this.length;
    const kept = items.slice(Math.max(0, items.length - room));
    this.dropped += items.length - kept.length;
    this.items = [...kept, ...this.items.slice(this.head)];
    this.head = 0;
  }
}
