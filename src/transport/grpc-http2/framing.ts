// gRPC's length-prefixed messages: a flag byte (1: compressed), a 4-byte length,
// the bytes. Reads them out of a stream's chunks without recopying per chunk,
// refusing a frame larger than the limit before any of it is held.
import { Code, ConnectError } from "@connectrpc/connect";

export interface Frame {
  compressed: boolean;
  payload: Buffer;
}

export class FrameReader {
  // Chunks of the frame being read, joined once it is complete.
  private chunks: Buffer[] = [];
  private length = 0;
  /** Payload length of the frame being read, once its header is in; -1 before. */
  private expected = -1;
  private compressed = false;

  constructor(private readonly maxFrameBytes: number) {}

  /**
   * Adds a chunk and returns the frames it completed; throws RESOURCE_EXHAUSTED
   * for a frame over the limit.
   */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.length < 5) return frames;
        const header = this.take(5);
        this.compressed = header[0] === 1;
        this.expected = header.readUInt32BE(1);
        if (this.expected > this.maxFrameBytes) {
          throw new ConnectError(`request message of ${this.expected} bytes is larger than the limit of ${this.maxFrameBytes} (DISCOVERY_MAX_MESSAGE_BYTES)`, Code.ResourceExhausted);
        }
      }
      if (this.length < this.expected) return frames;
      frames.push({ compressed: this.compressed, payload: this.take(this.expected) });
      this.expected = -1;
    }
  }

  /** What a stream that ends now would leave unread: undefined when it ends between messages. */
  get truncation(): string | undefined {
    if (this.expected < 0 && this.length === 0) return undefined;
    return `${this.length} bytes of ${this.expected < 0 ? "a header" : this.expected} received`;
  }

  /** Drops whatever is held (the call is over). */
  clear(): void {
    this.chunks = [];
    this.length = 0;
  }

  private take(count: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = count < joined.length ? [joined.subarray(count)] : [];
    this.length -= count;
    return joined.subarray(0, count);
  }
}
