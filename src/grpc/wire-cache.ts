// Encode-once for messages shared by many calls (Watch events, cached list
// answers): the grpc-js serializer reuses the bytes of a message marked here.
import { toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

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
