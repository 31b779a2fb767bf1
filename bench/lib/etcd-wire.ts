// The few etcd v3 gRPC messages the comparison needs, encoded by hand with
// protobuf-es's wire writer (field numbers from etcd's api/etcdserverpb/rpc.proto).
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { frame } from "./grpc-frame";

export const ETCD = {
  leaseGrant: "/etcdserverpb.Lease/LeaseGrant",
  leaseKeepAlive: "/etcdserverpb.Lease/LeaseKeepAlive",
  put: "/etcdserverpb.KV/Put",
  watch: "/etcdserverpb.Watch/Watch",
};

const utf8 = (s: string) => new TextEncoder().encode(s);

/** LeaseGrantRequest { TTL = 1 } */
export function leaseGrantRequest(ttlSeconds: number): Buffer {
  return frame(new BinaryWriter().tag(1, WireType.Varint).int64(ttlSeconds).finish());
}

/** LeaseGrantResponse.ID (field 2). */
export function leaseIdOf(payload: Uint8Array): bigint {
  const reader = new BinaryReader(payload);
  while (reader.pos < reader.len) {
    const [field, type] = reader.tag();
    if (field === 2) return BigInt(reader.int64());
    reader.skip(type, field);
  }
  throw new Error("LeaseGrantResponse without an ID");
}

/** PutRequest { key = 1, value = 2, lease = 3 } */
export function putRequest(key: string, value: string, lease?: bigint): Buffer {
  const writer = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(utf8(key)).tag(2, WireType.LengthDelimited).bytes(utf8(value));
  if (lease !== undefined) writer.tag(3, WireType.Varint).int64(lease);
  return frame(writer.finish());
}

/** LeaseKeepAliveRequest { ID = 1 } */
export function leaseKeepAliveRequest(lease: bigint): Buffer {
  return frame(new BinaryWriter().tag(1, WireType.Varint).int64(lease).finish());
}

/** WatchRequest { create_request = 1: WatchCreateRequest { key = 1, range_end = 2 } } for a prefix. */
export function watchPrefixRequest(prefix: string): Buffer {
  const end = utf8(prefix);
  end[end.length - 1]! += 1; // the range end of a prefix: its last byte plus one
  const create = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(utf8(prefix)).tag(2, WireType.LengthDelimited).bytes(end).finish();
  return frame(new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(create).finish());
}

/** True when a WatchResponse carries events (field 11). */
export function watchResponseHasEvents(payload: Uint8Array): boolean {
  const reader = new BinaryReader(payload);
  while (reader.pos < reader.len) {
    const [field, type] = reader.tag();
    if (field === 11) return true;
    reader.skip(type, field);
  }
  return false;
}
