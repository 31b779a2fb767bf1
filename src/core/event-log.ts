// The recent history of registry events, bounded, so that a Watch can resume
// from the revision it last saw instead of starting over.
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
  }

  append(event: RegistryEvent): void {
    if (this.capacity === 0) return;
    if (this.count < this.capacity) {
      this.ring[(this.start + this.count) % this.capacity] = event;
      this.count++;
    } else {
      this.ring[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Events after `revision`, oldest first, given the registry's current revision. */
  since(revision: number, current: number): ReplayResult {
    if (revision > current) return { t: "refused", reason: "revision-from-future" };
    if (revision < this.baseRevision) return { t: "refused", reason: "revision-unknown" };
    if (revision === current) return { t: "replay", events: [] };
    const oldest = this.count === 0 ? current + 1 : this.at(0).revision;
    if (revision + 1 < oldest) return { t: "refused", reason: "history-compacted" };
    // Revisions are consecutive, so the first wanted event sits at a known offset.
    const events: RegistryEvent[] = [];
    for (let i = revision + 1 - oldest; i < this.count; i++) events.push(this.at(i));
    return { t: "replay", events };
  }

  private at(i: number): RegistryEvent {
    return this.ring[(this.start + i) % this.capacity]!;
  }
}
