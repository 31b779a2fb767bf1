// Which node publishes what to the sinks. A single node publishes everything;
// in cluster mode (etcd store) every node sees every event, and exactly one of
// them must publish each, so the cluster passes an ownership that decides.
import type { RegistryEvent } from "../core/types";

export interface SinkOwnership {
  /** True when this node publishes this event to the sinks. */
  ownsEvent(event: RegistryEvent): boolean;
  /** True when this node publishes the periodic health summaries. */
  ownsSummaries(): boolean;
}

/** The default: one node, it publishes everything. */
export const SINGLE_NODE: SinkOwnership = { ownsEvent: () => true, ownsSummaries: () => true };
