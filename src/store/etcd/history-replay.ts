// A Watch resuming from a revision older than this node's memory (it restarted,
// or the gateway comes from another node) is answered from etcd's own history,
// which etcd keeps until it is compacted: a replay, not a RESET.
import type { ReplayAnswer } from "../../core/store";
import type { RegistryEvent } from "../../core/types";
import { decodeChange } from "./change-decoder";
import { DEFAULT_ETCD_REQUEST_TIMEOUT_MS } from "./client/etcd-client";
import { watchRange } from "./client/watch-stream";
import type { ClusterLink } from "./cluster-link";

/** The registry events in (from, to] from etcd; refused as compacted when etcd no longer has them, or more than the history size. */
export async function replayFromEtcd(link: ClusterLink, from: number, to: number, services: ReadonlySet<string> | undefined, now: number): Promise<ReplayAnswer> {
  if (from >= to) return { t: "replay", revision: to, events: [] };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), DEFAULT_ETCD_REQUEST_TIMEOUT_MS);
  const events: RegistryEvent[] = [];
  try {
    // The last instance change at or before `to` may be followed by none: a mark written
    // now is an event past `to` that tells the catch-up when it has seen everything up to it.
    // On the membership lease, so the key goes with the node (ids are new per process by default).
    // A failed write (etcd away, the lease just lost) is a replay we cannot finish: the watcher starts over.
    const mark = await link.client.put({ key: link.layout.replayMarkKey(link.nodeId), value: new Uint8Array(), lease: link.leases.membership }, { signal: controller.signal }).catch(() => undefined);
    if (mark === undefined) return { t: "refused", reason: "history-compacted" };
    const markRevision = Number(mark.header!.revision);
    for await (const item of watchRange(link.client, { ...link.layout.all, startRevision: from + 1, signal: controller.signal, prevKv: true })) {
      if (item.t === "compacted") return { t: "refused", reason: "history-compacted" };
      if (item.t !== "events") continue;
      for (const e of item.events) {
        const change = decodeChange(link.layout, e, () => undefined, now);
        if (change.t !== "instance" || change.event === undefined || change.revision > to) continue;
        if (services !== undefined && !services.has(change.serviceName)) continue;
        events.push(change.event);
        if (events.length > link.historySize) return { t: "refused", reason: "history-compacted" };
      }
      if (item.revision >= markRevision) return { t: "replay", revision: to, events };
    }
    // Timed out (etcd unreachable or too slow): the watcher starts over from a snapshot.
    return { t: "refused", reason: "history-compacted" };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
