// The same Transport contract on @grpc/grpc-js's Server, fed connections by
// the one-port front through grpc-js's connection injector. Kept as the
// measured alternative to our node:http2 transport (bench transport-choice).
import * as grpc from "@grpc/grpc-js";
import type { Duplex } from "node:stream";
import { create, isMessage, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { ServiceCodecs } from "../codec";
import type { AnyHandler, Handlers, Transport } from "../contract";
import { isPushSource, PUSH } from "../push-source";
import { grpcServiceDefinition } from "../service-definition";
import { DEFAULT_HTTP2_KEEPALIVE_MS, DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS } from "../grpc-http2/pings";
import { GrpcJsCallContext } from "./call-context";
import { NO_SHUTDOWN } from "../no-shutdown";
import { settle } from "../settle";

export interface GrpcJsTransportOptions {
  logger: Logger;
  maxReceiveMessageBytes?: number;
  /** As GrpcHttp2ServerOptions: HTTP2_KEEPALIVE_SECONDS and HTTP2_KEEPALIVE_TIMEOUT_SECONDS. */
  keepAliveMs?: number;
  keepAliveTimeoutMs?: number;
  /** The server's shutdown, handed to handlers as `CallContext.shutdownSignal`. */
  shutdownSignal?: AbortSignal;
}

export function createGrpcJsTransport(options: GrpcJsTransportOptions): Transport {
  const ping = options.keepAliveMs ?? DEFAULT_HTTP2_KEEPALIVE_MS;
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    // As ours: Watch streams keep many small writes queued per session (MB).
    "grpc-node.max_session_memory": 64,
    ...(ping > 0 ? { "grpc.keepalive_time_ms": ping, "grpc.keepalive_timeout_ms": options.keepAliveTimeoutMs ?? DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS } : {}),
  });
  const shutdownSignal = options.shutdownSignal ?? NO_SHUTDOWN;
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    addService<S extends DescService>(service: S, handlers: Handlers<S>, codecs?: ServiceCodecs<S>) {
      const implementation: grpc.UntypedServiceImplementation = {};
      for (const method of service.methods) {
        const handler = (handlers as Record<string, AnyHandler>)[method.localName];
        if (handler !== undefined) implementation[method.localName] = adapt(method, handler, options.logger, shutdownSignal);
      }
      server.addService(grpcServiceDefinition(service, codecs), implementation);
    },
    accept: (socket: Duplex) => injector.injectConnection(socket),
    async drain(graceMs) {
      injector.drain(graceMs);
      await new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      injector.destroy();
    },
    destroy() {
      injector.destroy();
      server.forceShutdown();
    },
  };
}

function adapt(method: DescMethod, handler: AnyHandler, logger: Logger, shutdownSignal: AbortSignal): grpc.UntypedHandleCall {
  const output = method.output as DescMessage;
  const toError = (error: unknown, context: GrpcJsCallContext): Partial<grpc.StatusObject> => {
    const e = error instanceof ConnectError ? error : new ConnectError("internal error", 13);
    if (!(error instanceof ConnectError)) logger.error({ err: error }, "handler failed");
    return { code: e.code as number, details: e.rawMessage, metadata: context.trailers(e.metadata) };
  };
  switch (method.methodKind) {
    case "unary":
    case "client_streaming":
      return (call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const context = new GrpcJsCallContext(call, shutdownSignal);
        const input = method.methodKind === "unary" ? (call as grpc.ServerUnaryCall<unknown, unknown>).request : requestsOf(call as grpc.ServerReadableStream<unknown, unknown>);
        const respond = (result: unknown) => {
          context.sendHeader();
          callback(null, asMessage(output, result), context.trailers());
          context.abort();
        };
        const fail = (error: unknown) => {
          callback(toError(error, context) as grpc.ServiceError);
          context.abort();
        };
        try {
          settle(handler, input, context, undefined, respond, fail);
        } catch (error) {
          fail(error);
        }
      };
    case "server_streaming":
    case "bidi_streaming":
      return (call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>) => {
        const context = new GrpcJsCallContext(call, shutdownSignal);
        const input = method.methodKind === "server_streaming" ? (call as grpc.ServerWritableStream<unknown, unknown>).request : requestsOf(call as grpc.ServerDuplexStream<unknown, unknown>);
        const end = (error?: unknown) => {
          if (context.signal.aborted) return;
          if (error === undefined) call.end(context.trailers());
          else call.emit("error", toError(error, context));
          context.abort();
        };
        let source: AsyncIterable<unknown>;
        try {
          source = handler(input, context) as AsyncIterable<unknown>;
        } catch (error) {
          return end(error);
        }
        const write = (message: unknown) => {
          context.sendHeader();
          return call.write(asMessage(output, message));
        };
        if (isPushSource(source)) {
          const control = source[PUSH]({ write, end });
          call.on("drain", () => control.resume());
          call.once("cancelled", () => control.cancel(new ConnectError("the client cancelled the call", 1)));
          return;
        }
        void (async () => {
          try {
            for await (const message of source) {
              if (context.signal.aborted) return;
              if (!write(message)) await new Promise((resolve) => call.once("drain", resolve));
            }
            end();
          } catch (error) {
            end(error);
          }
        })();
      };
  }
}

/**
 * A grpc-js readable call as the AsyncIterable our handlers take. Not iterated
 * directly: that destroys the call at the client's half-close, before the
 * status goes out. grpc-js ends the readable side of a cancelled call before it
 * marks it cancelled, so the end waits one turn to tell a goodbye from a cancel.
 */
async function* requestsOf(call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>): AsyncIterable<unknown> {
  yield* call.iterator({ destroyOnReturn: false });
  await new Promise((resolve) => setImmediate(resolve));
  if (call.cancelled) throw new ConnectError("the call was cancelled", 1);
}

function asMessage(schema: DescMessage, value: unknown): unknown {
  return isMessage(value, schema) ? value : create(schema, value as never);
}
