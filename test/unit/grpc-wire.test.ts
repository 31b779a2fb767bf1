// The protocol pieces of the node:http2 transport that need no socket:
// frames out of arbitrary chunks, grpc-timeout, encodings, grpc-message.
import * as zlib from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";
import { frameBytes } from "../../src/transport/codec";
import { decompress, requestEncoding, responseEncoding } from "../../src/transport/grpc-http2/compression";
import { parseTimeout } from "../../src/transport/grpc-http2/deadline";
import { FrameReader } from "../../src/transport/grpc-http2/framing";
import { percentEncode, statusTrailers } from "../../src/transport/grpc-http2/status";

test("frames split across chunks at every byte come out whole, in order, with their flags", () => {
  const wire = Buffer.concat([frameBytes(Buffer.from("first")), frameBytes(Buffer.alloc(0)), frameBytes(Buffer.from("third"), true)]);
  for (let cut = 1; cut < wire.length; cut++) {
    const reader = new FrameReader(1024);
    const frames = [...reader.push(wire.subarray(0, cut)), ...reader.push(wire.subarray(cut))];
    expect(frames.map((f) => [f.compressed, f.payload.toString()])).toEqual([[false, "first"], [false, ""], [true, "third"]]);
  }
});

test("a frame over the limit is refused from its header, before its bytes arrive", () => {
  const header = Buffer.from([0, 0, 0, 4, 1]); // 1025 bytes announced
  expect(() => new FrameReader(1024).push(header)).toThrow(expect.objectContaining({ code: Code.ResourceExhausted }));
});

test("grpc-timeout: each unit, and malformed or overlong values mean no deadline", () => {
  expect(parseTimeout("1H")).toBe(3_600_000);
  expect(parseTimeout("2M")).toBe(120_000);
  expect(parseTimeout("3S")).toBe(3_000);
  expect(parseTimeout("250m")).toBe(250);
  expect(parseTimeout("1500u")).toBe(2);
  expect(parseTimeout("1n")).toBe(1);
  for (const bad of ["", "10", "10x", "-1S", "123456789S", undefined]) expect(parseTimeout(bad)).toBeUndefined();
  expect(parseTimeout("99999999H")).toBeUndefined(); // past what a timer takes
});

test("request encodings: identity, gzip and deflate are taken, anything else is UNIMPLEMENTED naming ours", () => {
  expect(requestEncoding(undefined)).toBe("identity");
  expect(requestEncoding("gzip")).toBe("gzip");
  expect(requestEncoding("deflate")).toBe("deflate");
  const refused = requestEncoding("snappy") as ConnectError;
  expect(refused.code).toBe(Code.Unimplemented);
  expect(refused.rawMessage).toMatch(/gzip,deflate,identity/);
});

test("answers are compressed only in an encoding the handler asked for and the client accepts", () => {
  expect(responseEncoding("gzip", "identity,deflate,gzip")).toBe("gzip");
  expect(responseEncoding("deflate", "gzip, deflate")).toBe("deflate");
  expect(responseEncoding("gzip", "identity")).toBe("identity");
  expect(responseEncoding("gzip", undefined)).toBe("identity");
  expect(responseEncoding("br", "br,gzip")).toBe("identity");
  expect(responseEncoding(null, "gzip")).toBe("identity");
});

test("decompression stops at the limit: RESOURCE_EXHAUSTED; corrupt input is INTERNAL; no encoding UNIMPLEMENTED", () => {
  expect(decompress("gzip", zlib.gzipSync(Buffer.from("hello")), 100).toString()).toBe("hello");
  expect(decompress("deflate", zlib.deflateSync(Buffer.from("hello")), 100).toString()).toBe("hello");
  expect(() => decompress("gzip", zlib.gzipSync(Buffer.alloc(101)), 100)).toThrow(expect.objectContaining({ code: Code.ResourceExhausted }));
  expect(() => decompress("deflate", Buffer.from("not deflate"), 100)).toThrow(expect.objectContaining({ code: Code.Internal }));
  expect(() => decompress("identity", Buffer.from("x"), 100)).toThrow(expect.objectContaining({ code: Code.Unimplemented }));
});

test("grpc-message is percent-encoded UTF-8; a handler's trailers cannot override the status", () => {
  expect(percentEncode("a%b\n☺")).toBe("a%25b%0A%E2%98%BA");
  const trailer = new Headers({ "grpc-status": "0", "x-mine": "kept" });
  const out = statusTrailers(new ConnectError("no", Code.NotFound), trailer);
  expect(out).toEqual({ "x-mine": "kept", "grpc-status": String(Code.NotFound), "grpc-message": "no" });
  expect(statusTrailers(new Error("secret cause"), undefined)).toEqual({ "grpc-status": String(Code.Internal), "grpc-message": "internal error" });
});
