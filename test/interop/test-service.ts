// grpc.testing.TestService as grpc's interop test descriptions define the
// server side (doc/interop-test-descriptions.md, "Server"): payloads of the
// asked sizes, Echo Status, Echo Metadata, CompressedRequest/CompressedResponse.
import { Code, ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { TestService } from "../gen/grpc/testing/test_pb";
import type { EchoStatus, ResponseParameters, StreamingOutputCallResponseSchema } from "../gen/grpc/testing/messages_pb";
import type { CallContext, Handlers } from "../../src/transport/contract";

const ECHO_INITIAL = "x-grpc-test-echo-initial";
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";

/** Echo Metadata: the initial key back as a header, the trailing one as a trailer. */
function echoMetadata(context: CallContext): void {
  const initial = context.requestHeader.get(ECHO_INITIAL);
  if (initial !== null) context.responseHeader.set(ECHO_INITIAL, initial);
  const trailing = context.requestHeader.get(ECHO_TRAILING);
  if (trailing !== null) context.responseTrailer.set(ECHO_TRAILING, trailing);
}

/** Echo Status: a non-OK response_status ends the call with it. */
function echoStatus(status: EchoStatus | undefined): void {
  if (status !== undefined && status.code !== 0) throw new ConnectError(status.message, status.code as Code);
}

/**
 * CompressedRequest: a request that expects compression must have come with a
 * grpc-encoding. Handlers see the call's encoding, not each message's flag.
 */
function checkCompressed(expected: boolean | undefined, context: CallContext): void {
  const encoding = context.requestHeader.get("grpc-encoding");
  if (expected === true && (encoding === null || encoding === "identity")) {
    throw new ConnectError("expect_compressed is set but the request was not compressed", Code.InvalidArgument);
  }
}

/** CompressedResponse: answer in the request's encoding, or gzip. */
function compressAnswers(context: CallContext): void {
  const encoding = context.requestHeader.get("grpc-encoding");
  context.responseHeader.set("grpc-encoding", encoding === "deflate" ? "deflate" : "gzip");
}

const payload = (size: number) => ({ body: new Uint8Array(size) });

function* answers(parameters: ResponseParameters[]): Generator<MessageInitShape<typeof StreamingOutputCallResponseSchema>> {
  for (const p of parameters) yield { payload: payload(p.size) };
}

export function createTestServiceHandlers(): Handlers<typeof TestService> {
  return {
    emptyCall: () => ({}),

    unaryCall(request, context) {
      echoMetadata(context);
      echoStatus(request.responseStatus);
      checkCompressed(request.expectCompressed?.value, context);
      if (request.responseCompressed?.value === true) compressAnswers(context);
      return { payload: payload(request.responseSize) };
    },

    async *streamingOutputCall(request, context) {
      echoMetadata(context);
      echoStatus(request.responseStatus);
      if (request.responseParameters.some((p) => p.compressed?.value === true)) compressAnswers(context);
      yield* answers(request.responseParameters);
    },

    async streamingInputCall(requests, context) {
      let total = 0;
      for await (const request of requests) {
        checkCompressed(request.expectCompressed?.value, context);
        total += request.payload?.body.length ?? 0;
      }
      return { aggregatedPayloadSize: total };
    },

    async *fullDuplexCall(requests, context) {
      echoMetadata(context);
      for await (const request of requests) {
        echoStatus(request.responseStatus);
        if (request.responseParameters.some((p) => p.compressed?.value === true)) compressAnswers(context);
        yield* answers(request.responseParameters);
      }
    },

    async *halfDuplexCall(requests, context) {
      echoMetadata(context);
      const parameters: ResponseParameters[] = [];
      for await (const request of requests) {
        echoStatus(request.responseStatus);
        parameters.push(...request.responseParameters);
      }
      yield* answers(parameters);
    },
  };
}
