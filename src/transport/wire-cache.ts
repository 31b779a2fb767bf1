// Encode-once for messages shared by many calls (Watch events, cached list
// answers): their bytes (and frames) are kept and reused by every call that sends them.
import { toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { encodeInstanceAnswer } from "../services/discovery/instance-codec";

const shared = new WeakSet<object>();
const encoded = new WeakMap<object, Buffer>();

/** Marks a message that will be sent many times, so its encoding is kept. */
export function markShared<T extends object>(message: T): T {
  shared.add(message);
  return message;
}

/** The wire bytes of a message, encoded once if it is shared. */
export function encode<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Buffer {
  const cached = encoded.get(message);
  if (cached !== undefined) return cached;
  const bytes = toBinary(schema, message);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (shared.has(message)) encoded.set(message, buffer);
  return buffer;
}

const framed = new WeakMap<object, Buffer>();

// Hand-written encoders for the messages of the heartbeat path (see instance-codec.ts).
const FAST_FRAMERS: Readonly<Record<string, (message: never) => Buffer | undefined>> = {
  "discovery.v1.HeartbeatResponse": encodeInstanceAnswer,
  "discovery.v1.RegisterResponse": encodeInstanceAnswer,
};

/**
 * A message as one gRPC frame (flag byte, length, bytes). A shared message is
 * framed once, so a Watch event reaches every subscriber as the same Buffer.
 */
export function encodeFramed<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Buffer {
  const cached = framed.get(message);
  if (cached !== undefined) return cached;
  const fast = FAST_FRAMERS[schema.typeName]?.(message as never);
  if (fast !== undefined) return fast;
  const bytes = toBinary(schema, message);
  const out = Buffer.allocUnsafe(5 + bytes.byteLength);
  out[0] = 0;
  out.writeUInt32BE(bytes.byteLength, 1);
  out.set(bytes, 5);
  if (shared.has(message)) framed.set(message, out);
  return out;
}
