// gRPC length-prefixed framing, for load generators that speak raw HTTP/2.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";

export function frame(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(bytes.length, 1);
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(out, 5);
  return out;
}

export function frameMessage<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Buffer {
  return frame(toBinary(schema, create(schema, init)));
}

/** Splits a byte stream into gRPC messages; keeps the remainder between chunks. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onMessage: (payload: Buffer) => void): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 5) {
      const length = this.buffered.readUInt32BE(1);
      if (this.buffered.length < 5 + length) return;
      onMessage(this.buffered.subarray(5, 5 + length));
      this.buffered = this.buffered.subarray(5 + length);
    }
  }
}

export function decode<D extends DescMessage>(schema: D, payload: Buffer): MessageShape<D> {
  return fromBinary(schema, payload);
}
