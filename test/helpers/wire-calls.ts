// One raw request per wire protocol, answering with the gRPC code the client
// would see (and the HTTP status): gRPC over HTTP/2, gRPC-Web, Connect unary
// (binary or JSON) and Connect streaming. For tests that send bytes no
// generated client would, and must see how each transport answers them.
import * as http from "node:http";
import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";

export interface WireAnswer {
  httpStatus: number;
  /** The gRPC code (numeric), from headers, trailers or the Connect error body. */
  code: number | undefined;
  message: string | undefined;
}

const CONNECT_CODES = new Map<string, number>(
  Object.entries(Code)
    .filter(([, value]) => typeof value === "number")
    .map(([name, value]) => [name.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`)), value as number]),
);

export function grpcCall(port: number, path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    const answer: WireAnswer = { httpStatus: 0, code: undefined, message: undefined };
    const read = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) answer.code = Number(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) answer.message = decodeURIComponent(String(h["grpc-message"]));
    };
    stream.on("response", (h) => {
      answer.httpStatus = Number(h[":status"]);
      read(h);
    });
    stream.on("trailers", read);
    stream.on("data", () => {});
    stream.on("error", () => {}); // a reset after the status (we stopped reading) is fine
    stream.on("close", () => {
      session.close();
      resolve(answer);
    });
    stream.end(body);
  });
}

function http1(port: number, path: string, body: Buffer, headers: http.OutgoingHttpHeaders): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, method: "POST", headers: { "content-length": body.length, ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

export async function grpcWebCall(port: number, path: string, body: Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<WireAnswer> {
  const response = await http1(port, path, body, { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...headers });
  const answer: WireAnswer = { httpStatus: response.status, code: undefined, message: undefined };
  const take = (lines: Record<string, string | string[] | undefined>) => {
    if (lines["grpc-status"] !== undefined) answer.code = Number(lines["grpc-status"]);
    if (lines["grpc-message"] !== undefined) answer.message = decodeURIComponent(String(lines["grpc-message"]));
  };
  take(response.headers);
  for (let at = 0; at + 5 <= response.body.length; ) {
    const flags = response.body[at]!;
    const length = response.body.readUInt32BE(at + 1);
    const payload = response.body.subarray(at + 5, at + 5 + length);
    if ((flags & 0x80) !== 0) {
      const trailer: Record<string, string> = {};
      for (const line of payload.toString().split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) trailer[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      take(trailer);
    }
    at += 5 + length;
  }
  return answer;
}

export async function connectUnaryCall(port: number, path: string, body: Buffer, encoding: "proto" | "json", headers: http.OutgoingHttpHeaders = {}): Promise<WireAnswer> {
  const response = await http1(port, path, body, { "content-type": `application/${encoding}`, "connect-protocol-version": "1", ...headers });
  if (response.status === 200) return { httpStatus: 200, code: 0, message: undefined };
  return fromConnectError(response.status, response.body);
}

export async function connectStreamCall(port: number, path: string, body: Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<WireAnswer> {
  const response = await http1(port, path, body, { "content-type": "application/connect+proto", "connect-protocol-version": "1", ...headers });
  if (response.status !== 200) return fromConnectError(response.status, response.body);
  for (let at = 0; at + 5 <= response.body.length; ) {
    const flags = response.body[at]!;
    const length = response.body.readUInt32BE(at + 1);
    if ((flags & 0x02) !== 0) {
      const end = JSON.parse(response.body.subarray(at + 5, at + 5 + length).toString()) as { error?: { code: string; message?: string } };
      if (end.error === undefined) return { httpStatus: 200, code: 0, message: undefined };
      return { httpStatus: 200, code: CONNECT_CODES.get(end.error.code), message: end.error.message };
    }
    at += 5 + length;
  }
  return { httpStatus: 200, code: undefined, message: undefined };
}

function fromConnectError(status: number, body: Buffer): WireAnswer {
  try {
    const error = JSON.parse(body.toString()) as { code: string; message?: string };
    return { httpStatus: status, code: CONNECT_CODES.get(error.code), message: error.message };
  } catch {
    return { httpStatus: status, code: undefined, message: body.toString().slice(0, 200) };
  }
}
