// A hand-written protobuf encoder for Instance and for the answers that carry
// one on the heartbeat path (HeartbeatResponse, RegisterResponse). protobuf-es's
// generic writer spent ~10 µs on one Instance (each string and nested message
// allocates), most of a heartbeat's cost; this one sizes the message first and
// writes it into one Buffer, gRPC frame header included. Its output is checked
// against the generated schema field by field in test/unit/instance-codec.test.ts,
// so a field added to Instance cannot be silently dropped.
import { toBinary } from "@bufbuild/protobuf";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import { HealthCheckSchema, type HeartbeatResponse, type Instance, type RegisterResponse } from "../../../gen/discovery/v1/discovery_pb";
import { varintSize } from "../../transport/varint";

const LEN = 2;
const VARINT = 0;
const I64 = 1;

/** The Instance field numbers this encoder writes (the test compares them with the schema). */
export const ENCODED_INSTANCE_FIELDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

// Health checks are configuration, identical across heartbeats: encode each once.
const healthCheckBytes = new WeakMap<object, Uint8Array>();

function seconds(value: Timestamp | Duration): number {
  return Number(value.seconds);
}

/** True when every number fits the fast path (non-negative, below 2^53). */
function fits(value: Timestamp | Duration | undefined): boolean {
  return value === undefined || (value.seconds >= 0n && value.seconds <= 9_007_199_254_740_991n && value.nanos >= 0);
}

function timeSize(value: Timestamp | Duration): number {
  const s = seconds(value);
  return (s === 0 ? 0 : 1 + varintSize(s)) + (value.nanos === 0 ? 0 : 1 + varintSize(value.nanos));
}

function fieldSize(tagSize: number, length: number): number {
  return tagSize + varintSize(length) + length;
}

class Out {
  offset: number;
  constructor(
    readonly buf: Buffer,
    offset: number,
  ) {
    this.offset = offset;
  }
  varint(value: number): void {
    while (value >= 128) {
      this.buf[this.offset++] = (value % 128) | 128;
      value = Math.floor(value / 128);
    }
    this.buf[this.offset++] = value;
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  string(field: number, value: string, length: number): void {
    this.tag(field, LEN);
    this.varint(length);
    this.offset += this.buf.write(value, this.offset, "utf8");
  }
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(value.length);
    this.buf.set(value, this.offset);
    this.offset += value.length;
  }
  double(field: number, value: number): void {
    this.tag(field, I64);
    this.buf.writeDoubleLE(value, this.offset);
    this.offset += 8;
  }
  time(field: number, value: Timestamp | Duration | undefined): void {
    if (value === undefined) return;
    this.tag(field, LEN);
    this.varint(timeSize(value));
    const s = seconds(value);
    if (s !== 0) {
      this.tag(1, VARINT);
      this.varint(s);
    }
    if (value.nanos !== 0) {
      this.tag(2, VARINT);
      this.varint(value.nanos);
    }
  }
}

/** Sizes of an Instance's parts, computed once and used by both passes. */
interface Plan {
  size: number;
  strings: [number, string, number][];
  metadata: [string, number, string, number, number][];
  healthCheck: Uint8Array | undefined;
}

function plan(instance: Instance): Plan | undefined {
  if (!fits(instance.registeredAt) || !fits(instance.lastHeartbeat) || !fits(instance.ttl) || !fits(instance.lastHealthCheck) || !fits(instance.latency)) {
    return undefined;
  }
  let size = 0;
  const strings: [number, string, number][] = [];
  for (const [field, value] of [
    [1, instance.serviceName],
    [2, instance.instanceId],
    [3, instance.host],
    [5, instance.healthEndpoint],
  ] as const) {
    if (value === "") continue;
    const length = Buffer.byteLength(value, "utf8");
    strings.push([field, value, length]);
    size += fieldSize(1, length);
  }
  const metadata: [string, number, string, number, number][] = [];
  for (const key in instance.metadata) {
    const value = instance.metadata[key]!;
    const keyLength = Buffer.byteLength(key, "utf8");
    const valueLength = Buffer.byteLength(value, "utf8");
    // Map entries always carry both key and value, even empty ones (as protobuf-es writes them).
    const entry = fieldSize(1, keyLength) + fieldSize(1, valueLength);
    metadata.push([key, keyLength, value, valueLength, entry]);
    size += fieldSize(1, entry);
  }
  if (instance.port !== 0) size += 1 + varintSize(instance.port);
  if (instance.status !== 0) size += 1 + varintSize(instance.status);
  if (instance.loadPercentage !== 0) size += 9;
  if (instance.criticalLoad) size += 2;
  for (const time of [instance.registeredAt, instance.lastHeartbeat, instance.ttl, instance.lastHealthCheck, instance.latency]) {
    if (time !== undefined) size += fieldSize(1, timeSize(time));
  }
  let healthCheck: Uint8Array | undefined;
  if (instance.healthCheck !== undefined) {
    healthCheck = healthCheckBytes.get(instance.healthCheck);
    if (healthCheck === undefined) {
      healthCheck = toBinary(HealthCheckSchema, instance.healthCheck);
      healthCheckBytes.set(instance.healthCheck, healthCheck);
    }
    size += fieldSize(1, healthCheck.length);
  }
  if (instance.uptime !== 0) size += 2 + 8; // field 16 takes a two-byte tag
  return { size, strings, metadata, healthCheck };
}

function writeInstance(out: Out, instance: Instance, p: Plan): void {
  for (const [field, value, length] of p.strings) {
    if (field === 5) break;
    out.string(field, value, length);
  }
  if (instance.port !== 0) {
    out.tag(4, VARINT);
    out.varint(instance.port);
  }
  const endpoint = p.strings.find(([field]) => field === 5);
  if (endpoint !== undefined) out.string(5, endpoint[1], endpoint[2]);
  for (const [key, keyLength, value, valueLength, entry] of p.metadata) {
    out.tag(6, LEN);
    out.varint(entry);
    out.string(1, key, keyLength);
    out.string(2, value, valueLength);
  }
  if (instance.status !== 0) {
    out.tag(7, VARINT);
    out.varint(instance.status);
  }
  if (instance.loadPercentage !== 0) out.double(8, instance.loadPercentage);
  if (instance.criticalLoad) {
    out.tag(9, VARINT);
    out.varint(1);
  }
  out.time(10, instance.registeredAt);
  out.time(11, instance.lastHeartbeat);
  out.time(12, instance.ttl);
  if (p.healthCheck !== undefined) out.bytes(13, p.healthCheck);
  out.time(14, instance.lastHealthCheck);
  out.time(15, instance.latency);
  if (instance.uptime !== 0) out.double(16, instance.uptime);
}

/**
 * A framed HeartbeatResponse or RegisterResponse (both carry the instance as
 * field 1; RegisterResponse adds heartbeat_interval as field 2), or undefined
 * when a value is outside the fast path (the caller then uses toBinary).
 */
export function encodeInstanceAnswer(message: HeartbeatResponse | RegisterResponse): Buffer | undefined {
  const instance = message.instance;
  if (instance === undefined) return undefined;
  const p = plan(instance);
  const interval = "heartbeatInterval" in message ? message.heartbeatInterval : undefined;
  if (p === undefined || !fits(interval)) return undefined;
  let size = fieldSize(1, p.size);
  if (interval !== undefined) size += fieldSize(1, timeSize(interval));
  const buf = Buffer.allocUnsafe(5 + size);
  buf[0] = 0;
  buf.writeUInt32BE(size, 1);
  const out = new Out(buf, 5);
  out.tag(1, LEN);
  out.varint(p.size);
  writeInstance(out, instance, p);
  out.time(2, interval);
  return buf;
}
