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

/**
 * The name of a top-level map field whose decoded value holds a "__proto__"
 * key, or undefined. protobuf-es (and connect-node, which decodes HTTP/1.1
 * bodies with it) drops that key silently, so this reads the message the way
 * decodeMessage does (binary) or as plain JSON, where JSON.parse keeps it.
 */
export function mapFieldWithProtoKey(schema: DescMessage, bytes: Uint8Array, encoding: "proto" | "json"): string | undefined {
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!view.includes(PROTO_KEY)) return undefined;
  const maps = schema.fields.filter((field) => field.fieldKind === "map");
  let message: Record<string, unknown>;
  try {
    message = encoding === "proto" ? (decodeMessage(schema, bytes) as Record<string, unknown>) : (JSON.parse(view.toString("utf8")) as Record<string, unknown>);
  } catch {
    return undefined; // malformed: the decoder's own error says so
  }
  if (message === null || typeof message !== "object") return undefined;
  const keys = (field: (typeof maps)[number]) => (encoding === "proto" ? [field.localName] : [field.jsonName, field.name]);
  return maps.find((field) => keys(field).some((key) => {
    const map = Object.hasOwn(message, key) ? message[key] : undefined;
    return map !== null && typeof map === "object" && Object.hasOwn(map, "__proto__");
  }))?.name;
}
