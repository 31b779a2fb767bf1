// How a method's messages become bytes, chosen per method when a service is
// added to a transport: protobuf by default, encode-once for answers shared by
// many calls (Watch events, cached list answers), or a hand-written encoder.
import { toBinary, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { decodeMessage } from "./decode-message";

export interface MessageCodec {
  /** The message's protobuf bytes. */
  encode(message: unknown): Uint8Array;
  /** The message as one uncompressed gRPC frame (flag, length, bytes); may be a Buffer many calls share. */
  frame(message: unknown): Buffer;
  decode(bytes: Uint8Array): unknown;
}

export interface MethodCodecs {
  request: MessageCodec;
  response: MessageCodec;
}

/** Codecs to use instead of the default, by method local name. */
export type ServiceCodecs<S extends DescService> = { [K in keyof S["method"]]?: Partial<MethodCodecs> };

/** A gRPC frame around protobuf bytes: flag 0 (uncompressed), 4-byte length. */
export function frameBytes(bytes: Uint8Array, compressed = false): Buffer {
  const out = Buffer.allocUnsafe(5 + bytes.byteLength);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(bytes.byteLength, 1);
  out.set(bytes, 5);
  return out;
}

/** protobuf-es's generic binary codec. */
export function protobufCodec(schema: DescMessage): MessageCodec {
  return {
    encode: (message) => toBinary(schema, message as never),
    frame: (message) => frameBytes(toBinary(schema, message as never)),
    // Keeps a map key "__proto__" so validation can refuse it (decode-message.ts).
    decode: (bytes) => decodeMessage(schema, bytes),
  };
}

/**
 * Keeps the bytes and frame of every message it encodes, by identity, so a
 * message sent on many streams is encoded once and reaches each stream as the
 * same Buffer. For methods whose answers are shared objects; the caches are
 * weak, so a message's bytes go when the message does.
 */
export function encodeOnceCodec(schema: DescMessage): MessageCodec {
  const encoded = new WeakMap<object, Uint8Array>();
  const framed = new WeakMap<object, Buffer>();
  const encode = (message: unknown) => {
    let bytes = encoded.get(message as object);
    if (bytes === undefined) {
      bytes = toBinary(schema, message as never);
      encoded.set(message as object, bytes);
    }
    return bytes;
  };
  return {
    encode,
    frame(message) {
      let frame = framed.get(message as object);
      if (frame === undefined) {
        frame = frameBytes(encode(message));
        framed.set(message as object, frame);
      }
      return frame;
    },
    // Keeps a map key "__proto__" so validation can refuse it (decode-message.ts).
    decode: (bytes) => decodeMessage(schema, bytes),
  };
}

/** A method's codecs: the given ones, protobuf for the rest. */
export function codecsOf(method: DescMethod, given: Partial<MethodCodecs> | undefined): MethodCodecs {
  return {
    request: given?.request ?? protobufCodec(method.input),
    response: given?.response ?? protobufCodec(method.output),
  };
}
