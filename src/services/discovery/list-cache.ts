// Rendered list answers, built once per change of their service and shared by
// every caller until the service changes again (a fleet of gateways polling the
// same service costs one build and one encoding per change).
import { LRUCache } from "lru-cache";
import { markShared } from "../../transport/wire-cache";

/** Distinct service answers kept (a few per service: healthy, healthy non-critical, all). */
export const DEFAULT_LIST_CACHE_ENTRIES = 4096;

export class ListCache {
  private readonly lru: LRUCache<string, object>;

  constructor(maxEntries = DEFAULT_LIST_CACHE_ENTRIES) {
    this.lru = new LRUCache({ max: maxEntries });
  }

  /**
   * The answer for (kind, service) at `stamp`, built by `build` on a miss. A stamp
   * of 0 means the service does not exist: such answers are cheap and not kept.
   */
  get<T extends object>(kind: string, service: string, stamp: number, build: () => T): T {
    if (stamp === 0) return build();
    const key = `${kind}\u0000${service}\u0000${stamp}`;
    let answer = this.lru.get(key) as T | undefined;
    if (answer === undefined) {
      answer = markShared(build());
      this.lru.set(key, answer);
    }
    return answer;
  }
}
