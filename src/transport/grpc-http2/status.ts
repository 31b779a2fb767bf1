// How a call's end reaches the wire: grpc-status and a percent-encoded
// grpc-message, plus the trailers a handler set and an error's own metadata.
import { Code, ConnectError } from "@connectrpc/connect";
import { MAX_STATUS_MESSAGE_BYTES } from "../peer-limits";

/** Headers a handler may not set: the transport owns them (or HTTP/2 forbids them). */
const RESERVED = new Set([
  "content-type", "grpc-status", "grpc-message", "grpc-encoding", "grpc-accept-encoding", "grpc-timeout",
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host",
]);

/** Copies a handler's headers into `into`, leaving out the reserved ones. */
export function copyMetadata(from: Headers | undefined, into: Record<string, string>): Record<string, string> {
  from?.forEach((value, key) => {
    if (!key.startsWith(":") && !RESERVED.has(key)) into[key] = value;
  });
  return into;
}

/** The status trailers for a call that ended with `error` (undefined: OK). */
export function statusTrailers(error: unknown, trailer: Headers | undefined): Record<string, string> {
  if (error === undefined) return copyMetadata(trailer, { "grpc-status": "0" });
  // Anything but a ConnectError is a fault of ours: its text stays in the logs.
  const e = error instanceof ConnectError ? error : new ConnectError("internal error", Code.Internal);
  const out = copyMetadata(trailer, {});
  copyMetadata(e.metadata, out);
  out["grpc-status"] = String(e.code);
  if (e.rawMessage !== "") out["grpc-message"] = percentEncode(capped(e.rawMessage));
  return out;
}

/** At most MAX_STATUS_MESSAGE_BYTES of UTF-8, cut at a character boundary: a peer's huge input is never echoed whole. */
function capped(message: string): string {
  if (message.length <= MAX_STATUS_MESSAGE_BYTES / 4) return message;
  const bytes = Buffer.from(message, "utf8");
  if (bytes.length <= MAX_STATUS_MESSAGE_BYTES) return message;
  return `${bytes.subarray(0, MAX_STATUS_MESSAGE_BYTES - 3).toString("utf8").replace(/\uFFFD$/, "")}...`;
}

/** grpc-message is percent-encoded UTF-8: printable ASCII but '%' stays as is. */
export function percentEncode(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
