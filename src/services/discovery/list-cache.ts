// Rendered list answers, built once per change of their service and shared by
// every caller until the service changes again (a fleet of gateways polling the
// same service costs one build and one encoding per change: the method's
// encode-once codec, see codecs.ts). One answer is kept
// per service and kind (a newer one replaces it), and all of them together are
// bounded in bytes (DISCOVERY_LIST_CACHE_BYTES), least recently used out first.
import { toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { LRUCache } from "lru-cache";
import { PEER_LIMIT_DEFAULTS } from "../../transport/peer-limits";

/** Bytes of answers kept by default (DISCOVERY_LIST_CACHE_BYTES). */
export const DEFAULT_LIST_CACHE_BYTES = PEER_LIMIT_DEFAULTS.listCacheBytes;

interface Entry {
  stamp: number;
  answer: object;
}

export class ListCache {
  private readonly lru: LRUCache<string, Entry> | undefined;

  /** @param maxBytes wire bytes of answers kept; 0 keeps none. */
  constructor(maxBytes = DEFAULT_LIST_CACHE_BYTES) {
    // An answer is counted as its framed wire bytes, which the cache keeps beside it.
    this.lru = maxBytes > 0 ? new LRUCache({ maxSize: maxBytes, sizeCalculation: (entry) => Math.max(1, framedSize(entry.answer)) }) : undefined;
  }

  /** Wire bytes of the answers held now. */
  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  /** Answers held now. */
  get size(): number {
    return this.lru?.size ?? 0;
  }

  /**
   * The answer for (kind, service) at `stamp`, built by `build` on a miss. A stamp
   * of 0 means the service does not exist: such answers are cheap and not kept.
   */
  get<S extends DescMessage>(kind: string, service: string, stamp: number, schema: S, build: () => MessageShape<S>): MessageShape<S> {
    const key = `${kind}\u0000${service}`;
    if (stamp === 0 || this.lru === undefined) {
      this.lru?.delete(key);
      return build();
    }
    const entry = this.lru.get(key);
    if (entry !== undefined && entry.stamp === stamp) return entry.answer as MessageShape<S>;
    const answer = build();
    // Measured once per build (an encoding more per change of the service, never
    // per call); the method's encode-once codec frames it once for every caller.
    sizes.set(answer, 5 + toBinary(schema, answer).byteLength);
    this.lru.set(key, { stamp, answer });
    return answer;
  }
}

const sizes = new WeakMap<object, number>();
function framedSize(answer: object): number {
  return sizes.get(answer) ?? 0;
}
