// The value of an instance key: the instance, the node holding its lease, and the
// event the write made (none for a lease move or a replicated load). A removal is
// written as a record marked removed (its event) and then deleted, so EXPIRED and
// UNREGISTERED stay distinct on every node; a key deleted without that mark lost
// every holder's lease and reads as expired.
import { DiscoveryError } from "../../core/errors";
import type { ChangeType, HealthStatus, InstanceView } from "../../core/types";
import { fromUtf8, utf8 } from "./client/keys";

/**
 * Largest instance record we write. etcd refuses requests over 1.5 MiB
 * (--max-request-bytes); the validated limits (64 metadata entries of 512 bytes,
 * 128-byte ids, a 1 KiB health path) keep a record near 40 KiB at most.
 */
export const MAX_INSTANCE_RECORD_BYTES = 1024 * 1024;

export interface RecordEvent {
  readonly type: ChangeType;
  readonly previousStatus?: HealthStatus;
  readonly occurredAt: number;
}

export interface InstanceRecord {
  /** DISCOVERY_NODE_ID of the node that holds the lease (and expires the instance). */
  readonly holder: string;
  readonly instance: InstanceView;
  /** The event this write made; undefined for a write no watcher hears of. */
  readonly event?: RecordEvent;
  /** Written just before the key is deleted: the removal's event is in `event`. */
  readonly removed?: true;
}

export function encodeRecord(record: InstanceRecord): Uint8Array {
  const bytes = utf8(JSON.stringify(record));
  if (bytes.length > MAX_INSTANCE_RECORD_BYTES) {
    throw new DiscoveryError("resource-exhausted", `instance record of ${bytes.length} bytes exceeds the ${MAX_INSTANCE_RECORD_BYTES}-byte limit of the etcd store`);
  }
  return bytes;
}

/** Parses a record; undefined for a value this version did not write (logged by the caller, never fatal). */
export function decodeRecord(bytes: Uint8Array): InstanceRecord | undefined {
  try {
    const record = JSON.parse(fromUtf8(bytes)) as InstanceRecord;
    if (typeof record?.holder !== "string" || typeof record.instance?.serviceName !== "string") return undefined;
    return { ...record, instance: Object.freeze(record.instance) };
  } catch {
    return undefined;
  }
}
