// How the rules put a judged change into the store: a write when anything
// replicated changed, a soft refresh (no round trip) otherwise, and judging
// again when another write got there first (a conflict on the mod revision).
import { DiscoveryError } from "./errors";
import type { InstanceDraft } from "./instance-draft";
import { StoreConflictError, type RegistryStore, type StoredInstance } from "./store";
import type { InstanceView } from "./types";

/** Judgements of one change that lost a race to another write, at most; then the caller is told to retry. */
export const MAX_JUDGE_ATTEMPTS = 5;

/** Writes what the draft changed, judged from `current` (undefined: a new instance). */
export async function commit(
  store: RegistryStore,
  current: StoredInstance | undefined,
  draft: InstanceDraft,
  leaseDeadline: number | undefined,
  now: number,
): Promise<InstanceView> {
  const { serviceName, instanceId } = draft.current;
  if (!draft.needsWrite) return orNotFound(serviceName, instanceId, await store.refresh(serviceName, instanceId, { leaseDeadline, soft: draft.soft }));
  const next = draft.final();
  await store.apply({ serviceName, instanceId, expectRevision: current?.revision ?? 0, next, steps: draft.steps, leaseDeadline, occurredAt: now });
  return next;
}

/** Removes the instance as stored; a conflict means it changed since (and stays). The event carries it as it is now. */
export function remove(store: RegistryStore, stored: StoredInstance, type: "unregistered" | "expired", now: number): Promise<unknown> {
  const { serviceName, instanceId } = stored.instance;
  const instance = Object.freeze(store.get(serviceName, instanceId) ?? stored.instance);
  return store.apply({ serviceName, instanceId, expectRevision: stored.revision, next: undefined, steps: [{ type, instance }], occurredAt: now });
}

/**
 * Runs `attempt` (read, judge, write) again while its write loses a race, a
 * bounded number of times. The first attempt starts synchronously, so a store
 * that applies synchronously (memory) has applied it when this returns.
 */
export async function settle<T>(attempt: () => Promise<T>): Promise<T> {
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error;
      if (attempts >= MAX_JUDGE_ATTEMPTS) {
        throw new DiscoveryError("unavailable", `instance ${error.instanceId} of service ${error.serviceName} kept changing under this write; retry`);
      }
    }
  }
}

/** A refreshed instance, or not-found when it was gone; synchronous when the refresh was. */
export function orNotFound(serviceName: string, instanceId: string, instance: InstanceView | undefined): InstanceView;
export function orNotFound(serviceName: string, instanceId: string, instance: InstanceView | undefined | Promise<InstanceView | undefined>): InstanceView | Promise<InstanceView>;
export function orNotFound(serviceName: string, instanceId: string, instance: InstanceView | undefined | Promise<InstanceView | undefined>): InstanceView | Promise<InstanceView> {
  if (instance instanceof Promise) return instance.then((settled) => orNotFound(serviceName, instanceId, settled));
  if (instance === undefined) throw notFound(serviceName, instanceId);
  return instance;
}

export function notFound(serviceName: string, instanceId: string): DiscoveryError {
  return new DiscoveryError("not-found", `instance ${instanceId} of service ${serviceName} is not registered (or its lease expired)`);
}
