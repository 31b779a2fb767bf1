// Where an instance's lease goes when its holder stops hearing from it but another
// node's probes still pass. On one node, a passing probe renews the lease like a
// heartbeat (the rules' recordProbe). In a cluster the prober (rendezvous) may not
// hold the lease, and probe results write only on a status change, so the holder
// would expire an instance whose probes pass. Instead, when its lease runs out,
// the holder hands it to the prober (one write), whose passing probes then renew
// it locally; failing probes stop renewing it, and it expires there.
import type { StoredInstance } from "../../core/store";
import type { InstanceView } from "../../core/types";
import type { ClusterLink } from "./cluster-link";
import { guardedWrite, guardedWriteWithRetry } from "./etcd-writes";
import { encodeRecord } from "./instance-record";
import { rendezvousOwner } from "./rendezvous";

/** The instance's probes pass, as far as the last written status says (the prober writes every change). */
function probesPass(instance: InstanceView): boolean {
  return instance.healthCheck !== undefined && (instance.status === "healthy" || instance.status === "degraded");
}

/**
 * The live node that probes `instance`, when it is not `nodeId` and its probes
 * pass: the node to hand the lease to instead of expiring the instance.
 */
export function passingProberElsewhere(instance: InstanceView, members: Iterable<string>, nodeId: string): string | undefined {
  if (!probesPass(instance)) return undefined;
  const prober = rendezvousOwner(`${instance.serviceName}/${instance.instanceId}`, members);
  return prober === undefined || prober === nodeId ? undefined : prober;
}

/**
 * Writes `prober` as the holder, guarded by the revision the expiry judged from.
 * False when the instance changed meanwhile (a heartbeat moved it, a status
 * change): that write placed the lease. Throws on etcd trouble.
 */
export async function handOverLease(link: ClusterLink, stored: StoredInstance, instance: InstanceView, prober: string, worthRetrying: () => boolean): Promise<boolean> {
  const key = link.layout.instanceKey(instance.serviceName, instance.instanceId);
  const value = encodeRecord({ holder: prober, instance });
  const result = await link.leases.withInstanceLease((lease) => guardedWriteWithRetry(link.client, key, stored.revision, { t: "put", value, lease }, { worthRetrying }));
  return result.ok;
}

/**
 * An instance handed to this node still hangs on the etcd lease of the node that
 * wrote it: put it on this node's own, so that it lives and dies with its holder
 * (adoption follows holders). Best effort: a conflict means a newer write placed it.
 */
export async function rehangOnOwnLease(link: ClusterLink, instance: InstanceView, revision: number): Promise<void> {
  const key = link.layout.instanceKey(instance.serviceName, instance.instanceId);
  const value = encodeRecord({ holder: link.nodeId, instance });
  await link.leases.withInstanceLease((lease) => guardedWrite(link.client, key, revision, { t: "put", value, lease })).catch(() => undefined);
}
