// Property tests of the request decoders of every transport (issue 9, item 9):
// random and mutated bodies through gRPC (our frame reader), gRPC-Web and
// Connect (binary and JSON) always end in a proper status (never INTERNAL,
// UNKNOWN or HTTP 500), and the server keeps serving and keeps its state.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { HeartbeatRequestSchema, ListHealthyRequestSchema, RegisterRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { bodyKindOf, inspectBody } from "../../src/transport/http1/request-body";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { grpcMessage } from "../helpers/raw-h2";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { connectUnaryCall, grpcCall, grpcWebCall, type WireAnswer } from "../helpers/wire-calls";

const METHODS = {
  register: { path: "/discovery.v1.DiscoveryService/Register", valid: toBinary(RegisterRequestSchema, create(RegisterRequestSchema, { serviceName: "fuzz", host: "10.0.0.1", port: 8080, instanceId: "f1" })) },
  heartbeat: { path: "/discovery.v1.DiscoveryService/Heartbeat", valid: toBinary(HeartbeatRequestSchema, create(HeartbeatRequestSchema, { serviceName: "kept", instanceId: "k1", loadPercentage: 0.5 })) },
  listHealthy: { path: "/discovery.v1.DiscoveryService/ListHealthy", valid: toBinary(ListHealthyRequestSchema, create(ListHealthyRequestSchema, { serviceName: "kept" })) },
};
const method = fc.constantFrom(...Object.values(METHODS));

/** A valid message with some bytes overwritten, cut or extended. */
const mutated = (valid: Uint8Array) =>
  fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.integer({ min: -4, max: 4 })).map(([edits, resize]) => {
    const bytes = Buffer.from(valid);
    for (const [at, value] of edits) bytes[at % bytes.length] = value;
    return resize < 0 ? bytes.subarray(0, Math.max(0, bytes.length + resize)) : Buffer.concat([bytes, Buffer.alloc(resize, 0x08)]);
  });

/** One frame: usually honest, sometimes with a lying length or a random flag. */
const framed = (payload: Buffer) =>
  fc.tuple(fc.constantFrom(0, 0, 0, 1, 2, 0x80, 0xff), fc.constantFrom("honest", "honest", "short", "long", "huge")).map(([flag, length]) => {
    const out = grpcMessage(payload, flag);
    if (length === "short") out.writeUInt32BE(Math.max(0, payload.length - 2), 1);
    if (length === "long") out.writeUInt32BE(payload.length + 7, 1);
    if (length === "huge") out.writeUInt32BE(0xfffffff0, 1);
    return out;
  });

/** A method and a body for it: random bytes, or one to three mutated frames. */
const request = method.chain((m) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ path: m.path, message: Buffer.from(bytes), body: Buffer.from(bytes) })),
    mutated(m.valid).chain((message) => fc.array(framed(message), { minLength: 1, maxLength: 3 }).map((frames) => ({ path: m.path, message, body: Buffer.concat(frames) }))),
  ),
);

/** Codes a bad request may end with; INTERNAL and UNKNOWN would be the server's fault. */
const PROPER = [Code.InvalidArgument, Code.ResourceExhausted, Code.Unimplemented, Code.NotFound, Code.FailedPrecondition, 0];

function expectProper(answer: WireAnswer): void {
  expect(answer.httpStatus).not.toBe(500);
  expect(PROPER).toContain(answer.code);
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await server.registry.register({ serviceName: "kept", instanceId: "k1", host: "10.0.0.2", port: 9000, healthEndpoint: "", metadata: {}, ttlMs: 3_600_000, load: undefined });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  // Whatever was sent, the registration made before the fuzzing is intact.
  expect(Array.from(server.store.instancesOf("kept"), (i) => i.instanceId)).toEqual(["k1"]);
});

test("gRPC: random and mutated frames always end in a proper status", async () => {
  await fc.assert(fc.asyncProperty(request, async ({ path, body }) => expectProper(await grpcCall(server.port, path, body))), { numRuns: 300 });
});

test("gRPC-Web: random and mutated frames always end in a proper status", async () => {
  await fc.assert(fc.asyncProperty(request, async ({ path, body }) => expectProper(await grpcWebCall(server.port, path, body))), { numRuns: 200 });
});

test("Connect binary: random and mutated messages always end in a proper status", async () => {
  await fc.assert(fc.asyncProperty(request, async ({ path, message }) => expectProper(await connectUnaryCall(server.port, path, message, "proto"))), { numRuns: 200 });
});

test("Connect JSON: random and mutated text always end in a proper status", async () => {
  const json = fc.oneof(fc.string({ maxLength: 60 }), fc.json({ maxDepth: 3 }), fc.constantFrom('{"serviceName":"kept"}', '{"serviceName":', '{"port": 1e400}', '{"metadata":{"__proto__":"x"}}'));
  await fc.assert(
    fc.asyncProperty(method, json, async (m, text) => expectProper(await connectUnaryCall(server.port, m.path, Buffer.from(text), "json"))),
    { numRuns: 200 },
  );
});

test("the HTTP/1.1 body inspector never throws and refuses only with INVALID_ARGUMENT, RESOURCE_EXHAUSTED or UNIMPLEMENTED", () => {
  const kinds = ["application/proto", "application/json", "application/grpc-web+proto", "application/connect+json"].map((type) => bodyKindOf(type)!);
  fc.assert(
    fc.property(fc.constantFrom(...kinds), fc.constantFrom(...DiscoveryService.methods), fc.uint8Array({ maxLength: 200 }), (kind, m, body) => {
      const refusal = inspectBody(kind, m.input, body, 64);
      if (refusal !== undefined) expect([Code.InvalidArgument, Code.ResourceExhausted, Code.Unimplemented]).toContain(refusal.code);
    }),
    { numRuns: 3000 },
  );
});
