// etcd watch events under ETCD_PREFIX → what they mean for the registry: an
// instance change (with its registry event, or none), or a node joining/leaving.
// Pure: the live watch and the history fetch for an old resume share it.
import { Event_EventType, type Event } from "../../../gen-etcd/etcd/mvccpb/kv_pb";
import type { InstanceView, RegistryEvent } from "../../core/types";
import { decodeRecord } from "./instance-record";
import type { KeyLayout } from "./key-layout";

/** One instance key's change, as the store applies it. */
export interface InstanceChange {
  readonly serviceName: string;
  readonly instanceId: string;
  readonly revision: number;
  /** The instance after the change; undefined: removed. */
  readonly next: InstanceView | undefined;
  /** The node that holds its lease after the change. */
  readonly holder: string | undefined;
  /** The etcd lease the key hangs on (0n: removed); normally the holder's instance lease. */
  readonly lease: bigint;
  readonly event: RegistryEvent | undefined;
}

export type Change =
  | ({ readonly t: "instance" } & InstanceChange)
  | { readonly t: "node-up"; readonly nodeId: string; readonly sinks: readonly string[] }
  | { readonly t: "node-down"; readonly nodeId: string }
  | { readonly t: "ignored"; readonly why: string };

/**
 * @param known the instance as this node last knew it, for a key deleted without
 *   a removal mark (its holders' leases ran out: expired)
 * @param now the clock's time, the occurredAt of such an expiry
 */
export function decodeChange(layout: KeyLayout, event: Event, known: (serviceName: string, instanceId: string) => InstanceView | undefined, now: number): Change {
  const kv = event.kv;
  if (kv === undefined) return { t: "ignored", why: "event without a key" };
  const key = layout.parse(kv.key);
  const revision = Number(kv.modRevision);
  if (key.t === "node") return event.type === Event_EventType.DELETE ? { t: "node-down", nodeId: key.nodeId } : { t: "node-up", nodeId: key.nodeId, sinks: sinksOfMember(kv.value) };
  if (key.t !== "instance") return { t: "ignored", why: "not an instance key" };
  const { serviceName, instanceId } = key;
  if (event.type === Event_EventType.DELETE) {
    // After a removal mark the removal was already told; otherwise the lease ran out.
    const last = known(serviceName, instanceId) ?? (event.prevKv ? decodeRecord(event.prevKv.value)?.instance : undefined);
    const wasMarked = event.prevKv !== undefined && decodeRecord(event.prevKv.value)?.removed === true;
    if (last === undefined || wasMarked) return { t: "instance", serviceName, instanceId, revision, next: undefined, holder: undefined, lease: 0n, event: undefined };
    return { t: "instance", serviceName, instanceId, revision, next: undefined, holder: undefined, lease: 0n, event: { revision, type: "expired", instance: last, occurredAt: now } };
  }
  const record = decodeRecord(kv.value);
  if (record === undefined) return { t: "ignored", why: `unreadable record at ${serviceName}/${instanceId}` };
  const event_ = record.event === undefined ? undefined : { revision, type: record.event.type, instance: record.instance, previousStatus: record.event.previousStatus, occurredAt: record.event.occurredAt };
  if (record.removed) return { t: "instance", serviceName, instanceId, revision, next: undefined, holder: undefined, lease: 0n, event: event_ };
  return { t: "instance", serviceName, instanceId, revision, next: record.instance, holder: record.holder, lease: kv.lease, event: event_ };
}

/** The sinks a membership key says its node publishes to ({"nodeId", "sinks"}); none when it does not say (an older node). */
export function sinksOfMember(value: Uint8Array): readonly string[] {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(value)) as { sinks?: unknown };
    return Array.isArray(parsed.sinks) ? parsed.sinks.filter((sink): sink is string => typeof sink === "string") : [];
  } catch {
    return [];
  }
}
