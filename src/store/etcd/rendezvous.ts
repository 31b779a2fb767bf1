// Which live node probes an instance: rendezvous (highest random weight) hashing
// over the current members, so each instance has exactly one prober and a dead
// node's share spreads over the survivors while everyone else's stays put.
import { createHash } from "node:crypto";

function weight(nodeId: string, key: string): bigint {
  return createHash("sha256").update(nodeId).update("\0").update(key).digest().readBigUInt64BE(0);
}

/** The member that owns `key`, or undefined when there are no members. */
export function rendezvousOwner(key: string, members: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const member of members) {
    const w = weight(member, key);
    if (w > bestWeight || (w === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = w;
    }
  }
  return best;
}
