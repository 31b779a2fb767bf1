// Request decoding that keeps what a plain object would silently drop: a map
// key "__proto__" (protobuf-es stores maps in `{}`, where that assignment is
// ignored). Kept as an own key, validation refuses it with the field's name.
import { create, fromBinary, mergeFromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

const PROTO_KEY = Buffer.from("__proto__");

/** fromBinary, except that top-level maps keep a "__proto__" key. */
export function decodeMessage<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The common case costs one scan of the bytes.
  if (!view.includes(PROTO_KEY)) return fromBinary(schema, bytes);
  const target = create(schema);
  for (const field of schema.fields) {
    if (field.fieldKind === "map") (target as Record<string, unknown>)[field.localName] = Object.create(null);
  }
  return mergeFromBinary(schema, target, bytes);
}
