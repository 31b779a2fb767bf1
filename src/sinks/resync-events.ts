// What the sinks publish when the store's view was replaced by a fresh load
// (cluster mode: etcd compacted past this node's watch, so the events in the gap
// are gone): the differences between what the sinks were told and the new state,
// as the events that would have told them. Pure.
import { sameHealthCheck } from "../core/health-state";
import { sameMetadata } from "../core/registry";
import type { RegistryStore, ResyncDifference, StoreResync } from "../core/store";
import type { InstanceView, RegistryEvent } from "../core/types";

/** The reason a reconstructed event carries on the wire (WatchEvent.reason), as a RESET after a compaction does. */
export const RESYNC_REASON = "history-compacted";

/**
 * What a sink hears: every registry event as the store takes it in, and after a
 * resync the events resyncEvents() makes of it, with RESYNC_REASON. Returns the unsubscribe.
 */
export function onSinkEvents(store: RegistryStore, now: () => number, listener: (event: RegistryEvent, reason?: string) => void): () => void {
  const stopEvents = store.onEvent((event) => listener(event));
  const stopResyncs = store.onResync((resync) => {
    for (const event of resyncEvents(resync, now())) listener(event, RESYNC_REASON);
  });
  return () => {
    stopEvents();
    stopResyncs();
  };
}

/**
 * The events for a resync, in revision order:
 * - new to this node → REGISTERED;
 * - gone → UNREGISTERED: whether it was unregistered or expired is lost with the
 *   history, and UNREGISTERED claims the least (no lease is said to have run out);
 * - registered again (its registration time moved: it left and came back) →
 *   UNREGISTERED as it was, then REGISTERED as it is;
 * - written again → UPDATED when its address, health endpoint, metadata, TTL or
 *   health check changed (the registry's own rule); HEALTH_CHANGED (previous status:
 *   the one this node knew) when its status did; LOAD_CRITICAL or LOAD_NORMAL when
 *   it crossed the critical-load threshold; nothing when none of these changed
 *   (a lease that moved, a replicated load).
 * Each carries the instance as loaded (as it was, when gone), the revision of
 * its last write (the load's, when gone) and `occurredAt`: when this node
 * found the difference, since when it happened is not known.
 */
export function resyncEvents(resync: StoreResync, occurredAt: number): RegistryEvent[] {
  const events: RegistryEvent[] = [];
  for (const difference of resync.differences) events.push(...eventsOf(difference, occurredAt));
  return events;
}

function eventsOf({ before, after, revision }: ResyncDifference, occurredAt: number): RegistryEvent[] {
  if (after === undefined) return before === undefined ? [] : [{ revision, type: "unregistered", instance: before, occurredAt }];
  if (before === undefined) return [{ revision, type: "registered", instance: after, occurredAt }];
  if (before.registeredAt !== after.registeredAt) {
    return [
      { revision, type: "unregistered", instance: before, occurredAt },
      { revision, type: "registered", instance: after, occurredAt },
    ];
  }
  const events: RegistryEvent[] = [];
  if (attributesDiffer(before, after)) events.push({ revision, type: "updated", instance: after, occurredAt });
  if (before.status !== after.status) events.push({ revision, type: "health-changed", instance: after, previousStatus: before.status, occurredAt });
  if (before.critical !== after.critical) events.push({ revision, type: after.critical ? "load-critical" : "load-normal", instance: after, occurredAt });
  return events;
}

function attributesDiffer(a: InstanceView, b: InstanceView): boolean {
  return a.host !== b.host || a.port !== b.port || a.healthEndpoint !== b.healthEndpoint || a.ttlMs !== b.ttlMs || !sameMetadata(a.metadata, b.metadata) || !sameHealthCheck(a.healthCheck, b.healthCheck);
}
