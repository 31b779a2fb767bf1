// The required interop cases (grpc's doc/interop-test-descriptions.md,
// "Client"), written against TestService with a grpc-js client. Each case
// throws when an assertion of its description fails.
import * as assert from "node:assert/strict";
import { create, type DescMethod } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { TestService, UnimplementedService } from "../gen/grpc/testing/test_pb";
import {
  SimpleRequestSchema,
  StreamingInputCallRequestSchema,
  StreamingOutputCallRequestSchema,
  type SimpleResponse,
  type StreamingInputCallResponse,
  type StreamingOutputCallResponse,
} from "../gen/grpc/testing/messages_pb";
import { grpcServiceDefinition } from "../../src/transport/service-definition";

type Compression = "identity" | "deflate" | "gzip";
const ALGORITHM: Record<Compression, number> = { identity: 0, deflate: 1, gzip: 2 };

type Client = grpc.Client & Record<string, Function>;
const zeros = (size: number) => ({ body: new Uint8Array(size) });
const M = TestService.method;

export interface CaseOptions {
  port: number;
  /** Compression the client applies to its requests (the compressed cases). */
  compression?: Compression;
}

function clientFor(service: typeof TestService | typeof UnimplementedService, port: number, compression: Compression = "identity"): Client {
  const Ctor = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.typeName);
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": ALGORITHM[compression] }) as Client;
}

function unary<T>(client: Client, method: DescMethod, request: unknown, metadata = new grpc.Metadata(), onHeaders?: (m: grpc.Metadata) => void, onStatus?: (s: grpc.StatusObject) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const call = client[method.localName]!.call(client, create(method.input, request as never), metadata, {}, (error: grpc.ServiceError | null, answer: T) =>
      error ? reject(error) : resolve(answer),
    ) as grpc.ClientUnaryCall;
    if (onHeaders) call.on("metadata", onHeaders);
    if (onStatus) call.on("status", onStatus);
  });
}

function expectCode(promise: Promise<unknown>, code: grpc.status, message?: string): Promise<void> {
  return promise.then(
    () => assert.fail(`expected status ${grpc.status[code]}, the call succeeded`),
    (error: grpc.ServiceError) => {
      assert.equal(error.code, code, `status: ${error.code} ${error.details}`);
      if (message !== undefined) assert.equal(error.details, message);
    },
  );
}

/** Reads a call's responses and how it ended. */
function collect(call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>): Promise<{ responses: unknown[]; status: grpc.StatusObject; error?: grpc.ServiceError }> {
  const responses: unknown[] = [];
  let error: grpc.ServiceError | undefined;
  call.on("data", (message) => responses.push(message));
  call.on("error", (e: grpc.ServiceError) => (error = e));
  return new Promise((resolve) => call.on("status", (status: grpc.StatusObject) => setImmediate(() => resolve({ responses, status, error }))));
}

const sizes = (responses: unknown[]) => (responses as StreamingOutputCallResponse[]).map((r) => r.payload?.body.length);
const largeRequest = (extra: Record<string, unknown> = {}) => create(SimpleRequestSchema, { responseSize: 314159, payload: zeros(271828), ...extra });

export const CASES: Record<string, (options: CaseOptions) => Promise<void>> = {
  async empty_unary({ port }) {
    const answer = await unary(clientFor(TestService, port), M.emptyCall, {});
    assert.ok(answer !== undefined);
  },

  async large_unary({ port }) {
    const answer = await unary<SimpleResponse>(clientFor(TestService, port), M.unaryCall, largeRequest());
    assert.equal(answer.payload?.body.length, 314159);
    assert.ok(answer.payload!.body.every((b) => b === 0));
  },

  async client_streaming({ port }) {
    const client = clientFor(TestService, port);
    const answer = await new Promise<StreamingInputCallResponse>((resolve, reject) => {
      const call = client.streamingInputCall!.call(client, (error: grpc.ServiceError | null, response: StreamingInputCallResponse) => (error ? reject(error) : resolve(response))) as grpc.ClientWritableStream<unknown>;
      for (const size of [27182, 8, 1828, 45904]) call.write(create(StreamingInputCallRequestSchema, { payload: zeros(size) }));
      call.end();
    });
    assert.equal(answer.aggregatedPayloadSize, 74922);
  },

  async server_streaming({ port }) {
    const client = clientFor(TestService, port);
    const call = client.streamingOutputCall!.call(
      client,
      create(StreamingOutputCallRequestSchema, { responseParameters: [31415, 9, 2653, 58979].map((size) => ({ size })) }),
    ) as grpc.ClientReadableStream<unknown>;
    const { responses, status } = await collect(call);
    assert.equal(status.code, grpc.status.OK, status.details);
    assert.deepEqual(sizes(responses), [31415, 9, 2653, 58979]);
  },

  async ping_pong({ port }) {
    const client = clientFor(TestService, port);
    const call = client.fullDuplexCall!.call(client) as grpc.ClientDuplexStream<unknown, unknown>;
    const ended = collect(call);
    const got: number[] = [];
    const pairs = [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]] as const;
    for (const [size, body] of pairs) {
      const next = new Promise<StreamingOutputCallResponse>((resolve) => call.once("data", resolve));
      call.write(create(StreamingOutputCallRequestSchema, { responseParameters: [{ size }], payload: zeros(body) }));
      got.push((await next).payload!.body.length);
    }
    call.end();
    const { status, responses } = await ended;
    assert.equal(status.code, grpc.status.OK, status.details);
    assert.equal(responses.length, 4);
    assert.deepEqual(got, [31415, 9, 2653, 58979]);
  },

  async empty_stream({ port }) {
    const client = clientFor(TestService, port);
    const call = client.fullDuplexCall!.call(client) as grpc.ClientDuplexStream<unknown, unknown>;
    call.end();
    const { responses, status } = await collect(call);
    assert.equal(status.code, grpc.status.OK, status.details);
    assert.equal(responses.length, 0);
  },

  async cancel_after_begin({ port }) {
    const client = clientFor(TestService, port);
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      const call = client.streamingInputCall!.call(client, () => {}) as grpc.ClientWritableStream<unknown>;
      call.on("status", resolve);
      call.cancel();
    });
    assert.equal(status.code, grpc.status.CANCELLED);
  },

  async cancel_after_first_response({ port }) {
    const client = clientFor(TestService, port);
    const call = client.fullDuplexCall!.call(client) as grpc.ClientDuplexStream<unknown, unknown>;
    const ended = collect(call);
    const first = new Promise((resolve) => call.once("data", resolve));
    call.write(create(StreamingOutputCallRequestSchema, { responseParameters: [{ size: 31415 }], payload: zeros(27182) }));
    await first;
    call.cancel();
    const { status } = await ended;
    assert.equal(status.code, grpc.status.CANCELLED);
  },

  async timeout_on_sleeping_server({ port }) {
    const client = clientFor(TestService, port);
    const call = client.fullDuplexCall!.call(client, new grpc.Metadata(), { deadline: Date.now() + 1 }) as grpc.ClientDuplexStream<unknown, unknown>;
    const ended = collect(call);
    call.write(create(StreamingOutputCallRequestSchema, { payload: zeros(27182) }));
    const { status } = await ended;
    assert.equal(status.code, grpc.status.DEADLINE_EXCEEDED);
  },

  async custom_metadata({ port }) {
    const client = clientFor(TestService, port);
    const metadata = () => {
      const m = new grpc.Metadata();
      m.set("x-grpc-test-echo-initial", "test_initial_metadata_value");
      m.set("x-grpc-test-echo-trailing-bin", Buffer.from([0xab, 0xab, 0xab]));
      return m;
    };
    const check = (headers: grpc.Metadata | undefined, trailers: grpc.Metadata | undefined) => {
      assert.deepEqual(headers?.get("x-grpc-test-echo-initial"), ["test_initial_metadata_value"]);
      assert.deepEqual(trailers?.get("x-grpc-test-echo-trailing-bin"), [Buffer.from([0xab, 0xab, 0xab])]);
    };
    let headers: grpc.Metadata | undefined;
    let trailers: grpc.Metadata | undefined;
    await unary(client, M.unaryCall, largeRequest(), metadata(), (m) => (headers = m), (s) => (trailers = s.metadata));
    await new Promise((r) => setImmediate(r));
    check(headers, trailers);

    const call = client.fullDuplexCall!.call(client, metadata()) as grpc.ClientDuplexStream<unknown, unknown>;
    let streamHeaders: grpc.Metadata | undefined;
    call.on("metadata", (m: grpc.Metadata) => (streamHeaders = m));
    const ended = collect(call);
    call.write(create(StreamingOutputCallRequestSchema, { responseParameters: [{ size: 314159 }], payload: zeros(271828) }));
    call.end();
    const { status, responses } = await ended;
    assert.equal(status.code, grpc.status.OK, status.details);
    assert.deepEqual(sizes(responses), [314159]);
    check(streamHeaders, status.metadata);
  },

  async status_code_and_message({ port }) {
    const client = clientFor(TestService, port);
    const responseStatus = { code: 2, message: "test status message" };
    await expectCode(unary(client, M.unaryCall, { responseStatus }), grpc.status.UNKNOWN, "test status message");
    const call = client.fullDuplexCall!.call(client) as grpc.ClientDuplexStream<unknown, unknown>;
    const ended = collect(call);
    call.write(create(StreamingOutputCallRequestSchema, { responseStatus }));
    call.end();
    const { status } = await ended;
    assert.equal(status.code, grpc.status.UNKNOWN);
    assert.equal(status.details, "test status message");
  },

  async special_status_message({ port }) {
    const message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
    await expectCode(unary(clientFor(TestService, port), M.unaryCall, { responseStatus: { code: 2, message } }), grpc.status.UNKNOWN, message);
  },

  async unimplemented_method({ port }) {
    await expectCode(unary(clientFor(TestService, port), M.unimplementedCall, {}), grpc.status.UNIMPLEMENTED);
  },

  async unimplemented_service({ port }) {
    await expectCode(unary(clientFor(UnimplementedService, port), UnimplementedService.method.unimplementedCall, {}), grpc.status.UNIMPLEMENTED);
  },

  async client_compressed_unary({ port, compression = "gzip" }) {
    // The feature probe: an uncompressed request that expects compression is refused.
    await expectCode(unary(clientFor(TestService, port), M.unaryCall, largeRequest({ expectCompressed: { value: true } })), grpc.status.INVALID_ARGUMENT);
    const compressed = clientFor(TestService, port, compression);
    const answer = await unary<SimpleResponse>(compressed, M.unaryCall, largeRequest({ expectCompressed: { value: true } }));
    assert.equal(answer.payload?.body.length, 314159);
    const plain = await unary<SimpleResponse>(clientFor(TestService, port), M.unaryCall, largeRequest({ expectCompressed: { value: false } }));
    assert.equal(plain.payload?.body.length, 314159);
  },

  async server_compressed_unary({ port, compression = "gzip" }) {
    const client = clientFor(TestService, port, compression);
    // grpc-js does not show a message's compressed flag; interop.test.ts reads it off the wire.
    for (const value of [true, false]) {
      const answer = await unary<SimpleResponse>(client, M.unaryCall, largeRequest({ responseCompressed: { value } }));
      assert.equal(answer.payload?.body.length, 314159);
    }
  },

  async client_compressed_streaming({ port, compression = "gzip" }) {
    const stream = (client: Client, requests: Array<{ expect: boolean; size: number }>) =>
      new Promise<StreamingInputCallResponse>((resolve, reject) => {
        const call = client.streamingInputCall!.call(client, (error: grpc.ServiceError | null, answer: StreamingInputCallResponse) => (error ? reject(error) : resolve(answer))) as grpc.ClientWritableStream<unknown>;
        for (const r of requests) call.write(create(StreamingInputCallRequestSchema, { expectCompressed: { value: r.expect }, payload: zeros(r.size) }));
        call.end();
      });
    await expectCode(stream(clientFor(TestService, port), [{ expect: true, size: 27182 }]), grpc.status.INVALID_ARGUMENT);
    const answer = await stream(clientFor(TestService, port, compression), [{ expect: true, size: 27182 }, { expect: false, size: 45904 }]);
    assert.equal(answer.aggregatedPayloadSize, 73086);
  },

  async server_compressed_streaming({ port, compression = "gzip" }) {
    const client = clientFor(TestService, port, compression);
    const call = client.streamingOutputCall!.call(
      client,
      create(StreamingOutputCallRequestSchema, { responseParameters: [{ size: 31415, compressed: { value: true } }, { size: 92653, compressed: { value: false } }] }),
    ) as grpc.ClientReadableStream<unknown>;
    const { responses, status } = await collect(call);
    assert.equal(status.code, grpc.status.OK, status.details);
    assert.deepEqual(sizes(responses), [31415, 92653]);
  },
};

/** The compressed cases, run once per algorithm. */
export const COMPRESSED_CASES = ["client_compressed_unary", "server_compressed_unary", "client_compressed_streaming", "server_compressed_streaming"];
