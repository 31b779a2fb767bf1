// Which node publishes what to the sinks. A single node publishes everything.
// In cluster mode (etcd store) every node sees every event, and one of them
// must publish each: among the live nodes that have the sink (each says so in
// its membership key), the one rendezvous hashing picks for the event's
// service (so one service's events keep their order). The others hold
// what they did not publish for a while: when its owner leaves the cluster (a
// crash: its membership key expires a node TTL later), the events it may not
// have published in that time go out from the service's new owner, so a node's
// death costs at most a duplicate, never a lost event.
import { rendezvousOwner } from "../store/etcd/rendezvous";
import type { RegistryEvent } from "../core/types";

export type Publish = (event: RegistryEvent, reason?: string) => void;

export interface SinkOwnership {
  /** Hands `publish` the event when this node publishes it: now, or later if its owner leaves. */
  admit(event: RegistryEvent, reason: string | undefined, publish: Publish): void;
  /** True when this node publishes the periodic health summaries. */
  ownsSummaries(): boolean;
}

/** The default: one node, it publishes everything at once. */
export const SINGLE_NODE: SinkOwnership = { admit: (event, reason, publish) => publish(event, reason), ownsSummaries: () => true };

/** The live nodes of a cluster that publish to one sink, as a node sees them. */
export interface ClusterMembership {
  readonly nodeId: string;
  members(): ReadonlySet<string>;
  onMembersChange(listener: () => void): () => void;
  /** How long a dead node stays a member (its membership lease), in ms. */
  readonly nodeTtlMs: number;
}

export interface ClusterOwnershipOptions {
  membership: ClusterMembership;
  /** At most this many events held for other owners; past it the oldest go (counted). */
  maxHeld: number;
  now: () => number;
  signal: AbortSignal;
  /** An event left the hold early, to keep it under maxHeld: its owner most likely published it, but a crash now could lose it. */
  onEvicted?: () => void;
}

interface Held {
  event: RegistryEvent;
  reason: string | undefined;
  owner: string;
  at: number;
  publish: Publish;
}

const SUMMARIES_KEY = "\0health-summaries";

export function clusterOwnership(options: ClusterOwnershipOptions): SinkOwnership {
  const { membership, now } = options;
  // An owner that died just before an event left no trace for a node TTL; then its key expires.
  const holdMs = 2 * membership.nodeTtlMs + 5_000;
  // Oldest first; entries before `head` are gone (a queue without a shift per event).
  let held: Held[] = [];
  let head = 0;
  const ownerOf = (serviceName: string) => rendezvousOwner(serviceName, membership.members()) ?? membership.nodeId;
  const compact = () => {
    if (head > 1_024 && head * 2 > held.length) {
      held = held.slice(head);
      head = 0;
    }
  };
  const prune = () => {
    const cutoff = now() - holdMs;
    while (head < held.length && held[head]!.at <= cutoff) head++;
    compact();
  };
  const stop = membership.onMembersChange(() => {
    prune();
    const members = membership.members();
    const kept: Held[] = [];
    for (let i = head; i < held.length; i++) {
      const h = held[i]!;
      if (members.has(h.owner)) {
        kept.push(h);
        continue;
      }
      // Its owner left: the service's next owner publishes it. Others keep it under that
      // owner, which may be dead too (its key not yet expired): then they try again.
      h.owner = ownerOf(h.event.instance.serviceName);
      if (h.owner === membership.nodeId) h.publish(h.event, h.reason);
      else kept.push(h);
    }
    held = kept;
    head = 0;
  });
  options.signal.addEventListener(
    "abort",
    () => {
      stop();
      held = [];
      head = 0;
    },
    { once: true },
  );
  return {
    admit(event, reason, publish) {
      const owner = ownerOf(event.instance.serviceName);
      if (owner === membership.nodeId) return publish(event, reason);
      prune();
      held.push({ event, reason, owner, at: now(), publish });
      if (held.length - head > options.maxHeld) {
        head++;
        options.onEvicted?.();
        compact();
      }
    },
    ownsSummaries: () => ownerOf(SUMMARIES_KEY) === membership.nodeId,
  };
}
