// Reads and inspects an HTTP/1.1 RPC body (Connect or gRPC-Web) before
// connect-node sees it, so that bad input gets the same code as over gRPC:
// malformed or truncated INVALID_ARGUMENT, oversized RESOURCE_EXHAUSTED,
// compressed without support UNIMPLEMENTED (connect-node would answer INTERNAL
// for some of these). The body is read at most up to the message limit.
import type * as http from "node:http";
import { fromBinary, fromJsonString, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { mapFieldWithProtoKey } from "../decode-message";

/** How the RPC body is framed and encoded, by its content type. */
export type BodyKind = { framing: "unary" | "envelopes"; encoding: "proto" | "json" };

export function bodyKindOf(contentType: string | undefined): BodyKind | undefined {
  const type = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
  switch (type) {
    case "application/proto":
      return { framing: "unary", encoding: "proto" };
    case "application/json":
      return { framing: "unary", encoding: "json" };
    case "application/connect+proto":
    case "application/grpc-web":
    case "application/grpc-web+proto":
      return { framing: "envelopes", encoding: "proto" };
    case "application/connect+json":
    case "application/grpc-web+json":
      return { framing: "envelopes", encoding: "json" };
    default:
      return undefined;
  }
}

/** An envelope's header: one flags byte and a 4-byte length. */
const ENVELOPE_HEADER = 5;
const FLAG_COMPRESSED = 0x01;

/**
 * Reads the whole body, refusing (RESOURCE_EXHAUSTED) once it passes `limit`
 * bytes or when its declared length already does; nothing past the limit is kept.
 */
export function readBody(request: http.IncomingMessage, limit: number): Promise<Uint8Array | ConnectError> {
  const declared = Number(request.headers["content-length"] ?? NaN);
  if (declared > limit) return Promise.resolve(tooLarge(declared, limit));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        request.removeListener("data", onData);
        request.pause();
        chunks.length = 0;
        resolve(tooLarge(length, limit));
        return;
      }
      chunks.push(chunk);
    };
    request.on("data", onData);
    request.once("end", () => resolve(Buffer.concat(chunks, length)));
    request.once("error", () => resolve(new ConnectError("the request body could not be read", Code.Canceled)));
  });
}

function tooLarge(size: number, limit: number): ConnectError {
  return new ConnectError(`request of ${size} bytes is larger than the limit of ${limit} (DISCOVERY_MAX_MESSAGE_BYTES)`, Code.ResourceExhausted);
}

/**
 * What is wrong with a complete body for a method taking `input`, or undefined.
 * `encoded` is true when the request names a content encoding other than identity.
 */
export function inspectBody(kind: BodyKind, input: DescMessage, body: Uint8Array, maxMessageBytes: number): ConnectError | undefined {
  if (kind.framing === "unary") return inspectMessage(kind, input, body, maxMessageBytes);
  let at = 0;
  while (at < body.length) {
    if (body.length - at < ENVELOPE_HEADER) return new ConnectError("truncated message: the body ends inside a message header", Code.InvalidArgument);
    const flags = body[at]!;
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    if ((flags & FLAG_COMPRESSED) !== 0) {
      return new ConnectError("compressed messages are not supported; send identity encoding", Code.Unimplemented);
    }
    if (length > maxMessageBytes) {
      return new ConnectError(`request message of ${length} bytes is larger than the limit of ${maxMessageBytes} (DISCOVERY_MAX_MESSAGE_BYTES)`, Code.ResourceExhausted);
    }
    at += ENVELOPE_HEADER;
    if (body.length - at < length) return new ConnectError(`truncated message: ${length} bytes announced, ${body.length - at} sent`, Code.InvalidArgument);
    const problem = inspectMessage(kind, input, body.subarray(at, at + length), maxMessageBytes);
    if (problem !== undefined) return problem;
    at += length;
  }
  return undefined;
}

function inspectMessage(kind: BodyKind, input: DescMessage, bytes: Uint8Array, maxMessageBytes: number): ConnectError | undefined {
  if (bytes.length > maxMessageBytes) return tooLarge(bytes.length, maxMessageBytes);
  try {
    if (kind.encoding === "proto") fromBinary(input, bytes);
    else fromJsonString(input, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8"));
  } catch (error) {
    return new ConnectError(`could not decode the request: ${(error as Error).message}`, Code.InvalidArgument);
  }
  // The decoder would drop it silently; over gRPC validation refuses it with these words.
  const field = mapFieldWithProtoKey(input, bytes, kind.encoding);
  if (field !== undefined) return new ConnectError(`${field}["__proto__"]: key is reserved`, Code.InvalidArgument);
  return undefined;
}

/** A well-formed empty request in the same framing: what connect-node parses while the refusal travels beside it. */
export function placeholderBody(kind: BodyKind): Uint8Array {
  const message = kind.encoding === "json" ? Buffer.from("{}") : Buffer.alloc(0);
  if (kind.framing === "unary") return message;
  const envelope = Buffer.alloc(ENVELOPE_HEADER + message.length);
  envelope.writeUInt32BE(message.length, 1);
  message.copy(envelope, ENVELOPE_HEADER);
  return envelope;
}
