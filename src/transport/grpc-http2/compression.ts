// gRPC message compression (node:zlib): gzip and deflate (zlib format, as grpc
// implementations use it). A request's grpc-encoding is honoured; an answer is
// compressed when its handler asks and the client's grpc-accept-encoding allows.
import * as zlib from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";

export type Encoding = "identity" | "gzip" | "deflate";

/** What we advertise in grpc-accept-encoding, and accept in grpc-encoding. */
export const ACCEPT_ENCODING = "gzip,deflate,identity";

export function isEncoding(value: string): value is Encoding {
  return value === "identity" || value === "gzip" || value === "deflate";
}

/**
 * The request's grpc-encoding, or an UNIMPLEMENTED error naming the ones we
 * take (gRPC's rule for an unsupported encoding).
 */
export function requestEncoding(header: string | string[] | undefined): Encoding | ConnectError {
  const value = typeof header === "string" ? header.trim() : "identity";
  if (isEncoding(value)) return value;
  return new ConnectError(`grpc-encoding ${JSON.stringify(value)} is not supported; use one of ${ACCEPT_ENCODING}`, Code.Unimplemented);
}

/** The encoding for the answers: the one a handler asked for, if the client accepts it. */
export function responseEncoding(asked: string | null, clientAccepts: string | string[] | undefined): Encoding {
  if (asked === null || !isEncoding(asked) || asked === "identity") return "identity";
  const accepted = (typeof clientAccepts === "string" ? clientAccepts : "").split(",").map((s) => s.trim());
  return accepted.includes(asked) ? asked : "identity";
}

/**
 * Decompresses one message, holding at most `maxBytes` of output: a small
 * compressed frame cannot make us hold more than an uncompressed one could.
 * Synchronous, so messages stay in order; each is bounded by the same limit.
 */
export function decompress(encoding: Encoding, bytes: Buffer, maxBytes: number): Buffer {
  // UNIMPLEMENTED, as the other transports answer a compressed message they cannot read (one error mapping).
  if (encoding === "identity") throw new ConnectError(`a message is marked compressed but the request has no grpc-encoding; use one of ${ACCEPT_ENCODING}`, Code.Unimplemented);
  try {
    const options = { maxOutputLength: Math.max(1, maxBytes) };
    return encoding === "gzip" ? zlib.gunzipSync(bytes, options) : zlib.inflateSync(bytes, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) {
      throw new ConnectError(`a decompressed request message is larger than the limit of ${maxBytes} bytes`, Code.ResourceExhausted);
    }
    throw new ConnectError(`could not decompress a ${encoding} request message: ${(error as Error).message}`, Code.Internal);
  }
}

export function compress(encoding: Exclude<Encoding, "identity">, bytes: Uint8Array): Buffer {
  return encoding === "gzip" ? zlib.gzipSync(bytes) : zlib.deflateSync(bytes);
}
