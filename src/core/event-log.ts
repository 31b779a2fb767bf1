// The recent history of registry events, bounded, so that a Watch can resume
// from the revision it last saw instead of starting over. Revisions increase but
// need not be consecutive: a write no watcher is told of takes one too (as in etcd).
import type { RegistryEvent } from "./types";

/** Why a resume from a revision is impossible. */
export type ReplayRefusal = "history-compacted" | "revision-unknown" | "revision-from-future";

export type ReplayResult =
  | { t: "replay"; events: RegistryEvent[] }
  | { t: "refused"; reason: ReplayRefusal };

/** A ring of the last `capacity` events, in revision order. */
export class EventLog {
  private readonly ring: (RegistryEvent | undefined)[];
  private start = 0;
  private count = 0;
  /** Every event after this revision is retained (it moves up as the ring overwrites). */
  private complete: number;

  /**
   * @param capacity events retained
   * @param baseRevision the revision before the first event this log will see:
   *   a resume from below it refers to another run of the server.
   */
  constructor(
    readonly capacity: number,
    private readonly baseRevision: number,
  ) {
    this.ring = new Array<RegistryEvent | undefined>(Math.max(1, capacity));
    this.complete = baseRevision;
  }

  append(event: RegistryEvent): void {
    if (this.capacity === 0) {
      this.complete = event.revision;
      return;
    }
    if (this.count < this.capacity) {
      this.ring[(this.start + this.count) % this.capacity] = event;
      this.count++;
    } else {
      this.complete = this.ring[this.start]!.revision;
      this.ring[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Events after `revision`, oldest first, given the registry's current revision. */
  since(revision: number, current: number): ReplayResult {
    if (revision > current) return { t: "refused", reason: "revision-from-future" };
    if (revision < this.baseRevision) return { t: "refused", reason: "revision-unknown" };
    if (revision === current) return { t: "replay", events: [] };
    if (revision < this.complete) return { t: "refused", reason: "history-compacted" };
    const events: RegistryEvent[] = [];
    for (let i = this.firstAfter(revision); i < this.count; i++) events.push(this.at(i));
    return { t: "replay", events };
  }

  /** The offset of the first retained event after `revision` (binary search: revisions may skip). */
  private firstAfter(revision: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.at(mid).revision <= revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private at(i: number): RegistryEvent {
    return this.ring[(this.start + i) % this.capacity]!;
  }
}
