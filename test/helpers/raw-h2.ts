// Hand-built HTTP/2 frames over a plain TCP socket, for what node:http2's client
// will not do on purpose: a message and a reset in one packet, half a request,
// a connection dropped mid-call. HPACK uses literal fields only (no table).
import * as net from "node:net";

export const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, GOAWAY: 7 } as const;
export const FLAG = { END_STREAM: 1, END_HEADERS: 4 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** A header block of literal fields without indexing (names and values under 127 bytes, or up to 2^14 with the long form). */
export function headerBlock(fields: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from([0]), hpackLength(name.length), Buffer.from(name), hpackLength(Buffer.byteLength(value)), Buffer.from(value));
  }
  return Buffer.concat(parts);
}

function hpackLength(length: number): Buffer {
  if (length < 127) return Buffer.from([length]);
  const out = [127];
  let rest = length - 127;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** The HEADERS of a gRPC call on stream 1 (END_HEADERS, not END_STREAM). */
export function grpcHeaders(path: string, extra: Record<string, string> = {}, streamId = 1): Buffer {
  const block = headerBlock({ ":method": "POST", ":scheme": "http", ":path": path, ":authority": "test", "content-type": "application/grpc", te: "trailers", ...extra });
  return frame(FRAME.HEADERS, FLAG.END_HEADERS, streamId, block);
}

export function rstStream(streamId: number, code = 8 /* CANCEL */): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

/** One gRPC length-prefixed message. */
export function grpcMessage(payload: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out[0] = flag;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

/** A TCP connection that has sent the preface and an empty SETTINGS frame; reads are kept. */
export async function rawConnection(port: number): Promise<{ socket: net.Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(Buffer.concat([H2_PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ReceivedFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** The whole frames in what a raw connection received (the 9-byte headers read as HTTP/2 defines them). */
export function parseFrames(bytes: Buffer): ReceivedFrame[] {
  const frames: ReceivedFrame[] = [];
  for (let at = 0; at + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(at, 3);
    if (at + 9 + length > bytes.length) break;
    frames.push({ type: bytes[at + 3]!, flags: bytes[at + 4]!, streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff, payload: bytes.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return frames;
}
