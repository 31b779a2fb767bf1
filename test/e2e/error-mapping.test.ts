// One error mapping on every transport (issue 9, item 8): the same bad inputs
// through gRPC, gRPC-Web, Connect binary and JSON (unary) and Connect streaming
// end with the same code: malformed or truncated INVALID_ARGUMENT, oversized
// RESOURCE_EXHAUSTED, compressed without support UNIMPLEMENTED; never HTTP 500.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ListHealthyRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { grpcMessage } from "../helpers/raw-h2";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { connectStreamCall, connectUnaryCall, grpcCall, grpcWebCall, type WireAnswer } from "../helpers/wire-calls";

const UNARY = "/discovery.v1.DiscoveryService/ListHealthy";
const STREAM = "/discovery.v1.DiscoveryService/Watch";
const LIMIT = 4 * 1024 * 1024;

/** Bytes that are not a protobuf message: a field with wire type 7 (there is none). */
const MALFORMED = Buffer.from([0x0f, 0x00]);
/** A length-delimited field announcing 5 bytes and carrying 1. */
const CUT_SHORT = Buffer.from([0x0a, 0x05, 0x61]);
const GOOD = Buffer.from(toBinary(ListHealthyRequestSchema, create(ListHealthyRequestSchema, { serviceName: "users" })));
const HUGE = Buffer.from(toBinary(ListHealthyRequestSchema, create(ListHealthyRequestSchema, { serviceName: "u".repeat(LIMIT + 10) })));

/** A frame header announcing `length` bytes (the payload may be shorter). */
function header(length: number, flags = 0): Buffer {
  const out = Buffer.alloc(5);
  out[0] = flags;
  out.writeUInt32BE(length, 1);
  return out;
}

type Send = (port: number) => Promise<WireAnswer>;
interface Case {
  name: string;
  code: Code;
  grpc: Send;
  grpcWeb: Send;
  connectStream: Send;
  connectBinary?: Send;
  connectJson?: Send;
}

const CASES: Case[] = [
  {
    name: "malformed protobuf",
    code: Code.InvalidArgument,
    grpc: (port) => grpcCall(port, UNARY, grpcMessage(MALFORMED)),
    grpcWeb: (port) => grpcWebCall(port, UNARY, grpcMessage(MALFORMED)),
    connectStream: (port) => connectStreamCall(port, STREAM, grpcMessage(MALFORMED)),
    connectBinary: (port) => connectUnaryCall(port, UNARY, MALFORMED, "proto"),
    connectJson: (port) => connectUnaryCall(port, UNARY, Buffer.from('{"serviceName": '), "json"),
  },
  {
    name: "truncated message",
    code: Code.InvalidArgument,
    grpc: (port) => grpcCall(port, UNARY, Buffer.concat([header(GOOD.length), GOOD.subarray(0, 3)])),
    grpcWeb: (port) => grpcWebCall(port, UNARY, Buffer.concat([header(GOOD.length), GOOD.subarray(0, 3)])),
    connectStream: (port) => connectStreamCall(port, STREAM, Buffer.concat([header(GOOD.length), GOOD.subarray(0, 3)])),
    connectBinary: (port) => connectUnaryCall(port, UNARY, CUT_SHORT, "proto"),
    connectJson: (port) => connectUnaryCall(port, UNARY, Buffer.from('{"serviceName": "us'), "json"),
  },
  {
    name: "protobuf cut short inside a frame",
    code: Code.InvalidArgument,
    grpc: (port) => grpcCall(port, UNARY, grpcMessage(CUT_SHORT)),
    grpcWeb: (port) => grpcWebCall(port, UNARY, grpcMessage(CUT_SHORT)),
    connectStream: (port) => connectStreamCall(port, STREAM, grpcMessage(CUT_SHORT)),
  },
  {
    name: "message over the 4 MiB limit",
    code: Code.ResourceExhausted,
    grpc: (port) => grpcCall(port, UNARY, grpcMessage(HUGE)),
    grpcWeb: (port) => grpcWebCall(port, UNARY, grpcMessage(HUGE)),
    connectStream: (port) => connectStreamCall(port, STREAM, grpcMessage(HUGE)),
    connectBinary: (port) => connectUnaryCall(port, UNARY, HUGE, "proto"),
    connectJson: (port) => connectUnaryCall(port, UNARY, Buffer.from(JSON.stringify({ serviceName: "u".repeat(LIMIT + 10) })), "json"),
  },
  {
    name: "4 GB length prefix",
    code: Code.ResourceExhausted,
    grpc: (port) => grpcCall(port, UNARY, Buffer.concat([header(0xffffffff), GOOD])),
    grpcWeb: (port) => grpcWebCall(port, UNARY, Buffer.concat([header(0xffffffff), GOOD])),
    connectStream: (port) => connectStreamCall(port, STREAM, Buffer.concat([header(0xffffffff), GOOD])),
  },
  {
    name: "compressed flag without a supported encoding",
    code: Code.Unimplemented,
    grpc: (port) => grpcCall(port, UNARY, grpcMessage(GOOD, 1)),
    grpcWeb: (port) => grpcWebCall(port, UNARY, grpcMessage(GOOD, 1)),
    connectStream: (port) => connectStreamCall(port, STREAM, grpcMessage(GOOD, 1)),
    connectBinary: (port) => connectUnaryCall(port, UNARY, GOOD, "proto", { "content-encoding": "br" }),
    connectJson: (port) => connectUnaryCall(port, UNARY, Buffer.from('{"serviceName":"users"}'), "json", { "content-encoding": "br" }),
  },
];

const TRANSPORTS = ["grpc", "grpcWeb", "connectStream", "connectBinary", "connectJson"] as const;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe.each(CASES)("$name", (row) => {
  test.each(TRANSPORTS.filter((t) => row[t] !== undefined))(`%s answers ${Code[row.code]}, never HTTP 500 or INTERNAL`, async (transport) => {
    const answer = await row[transport]!(server.port);
    expect(answer.httpStatus).not.toBe(500);
    expect({ code: answer.code === undefined ? undefined : Code[answer.code], message: answer.message }).toEqual({ code: Code[row.code], message: expect.any(String) });
  });
});

test("a good request still succeeds (OK) on every transport after the bad ones", async () => {
  expect((await grpcCall(server.port, UNARY, grpcMessage(GOOD))).code).toBe(0);
  expect((await grpcWebCall(server.port, UNARY, grpcMessage(GOOD))).code).toBe(0);
  expect((await connectUnaryCall(server.port, UNARY, GOOD, "proto")).code).toBe(0);
  expect((await connectUnaryCall(server.port, UNARY, Buffer.from('{"serviceName":"users"}'), "json")).code).toBe(0);
});
