// The contract between a transport and the services mounted on it: the shape
// of a handler per method kind, what a handler may use of its call, and what a
// transport offers the composition root. Our gRPC over node:http2, grpc-js's
// server (a bench target) and the HTTP/1.1 Connect side all serve it.
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { ContextValues } from "@connectrpc/connect";
import type { Duplex } from "node:stream";
import type { ServiceCodecs } from "./codec";

/** What a handler may use of a call: Connect's HandlerContext plus the server's shutdownSignal. */
export interface CallContext {
  /** Aborts when the call ends, is cancelled, or its deadline passes. */
  readonly signal: AbortSignal;
  readonly requestHeader: Headers;
  /** Per-call values; carries the TLS client certificate's identities (transport/peer-identity.ts). */
  readonly values?: ContextValues;
  /**
   * Sent with the response headers (before the first message). `-bin` keys take
   * base64 values, as on the wire. Setting `grpc-encoding` (gzip, deflate) asks
   * the gRPC transport to compress the answers, if the client accepts that encoding.
   */
  readonly responseHeader: Headers;
  /** Sent with the status at the end of the call (`-bin` keys: base64 values). */
  readonly responseTrailer: Headers;
  /**
   * Aborts once when the server begins to shut down, with the error long-lived
   * calls should end with (UNAVAILABLE: reconnect elsewhere). Unlike `signal`, it
   * does not end the call: unary calls in flight still get their grace period.
   */
  readonly shutdownSignal: AbortSignal;
}

type Unary<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;
type ServerStreaming<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;
type ClientStreaming<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => Promise<MessageInitShape<O>>;
type BiDiStreaming<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

type HandlerOf<M> = M extends DescMethod & { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? Unary<I, O>
  : M extends DescMethod & { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? ServerStreaming<I, O>
    : M extends DescMethod & { methodKind: "client_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ClientStreaming<I, O>
      : M extends DescMethod & { methodKind: "bidi_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
        ? BiDiStreaming<I, O>
        : never;

/**
 * Handlers for the methods of a service, in Connect's ServiceImpl shape. A method
 * without one answers UNIMPLEMENTED on every transport.
 */
export type Handlers<S extends DescService> = { [K in keyof S["method"]]?: HandlerOf<S["method"][K]> };

/** Any handler, as the transports see it. */
export type AnyHandler = (input: unknown, context: CallContext) => unknown;

/**
 * A gRPC server as the composition root uses it: services with their handlers
 * and per-method codecs in, connections the one-port front classified as
 * HTTP/2 in, and a graceful end.
 */
export interface Transport {
  /** Serves `service`; `codecs` replace the protobuf codec per method (encode-once, hand-written encoders). */
  addService<S extends DescService>(service: S, handlers: Handlers<S>, codecs?: ServiceCodecs<S>): void;
  /** Serves one connection (HTTP/2, preface not yet read). */
  accept(socket: Duplex): void;
  /** GOAWAY: no new calls; running ones get `graceMs`, then their connections are cut. */
  drain(graceMs: number): Promise<void>;
  /** Cuts every connection now. */
  destroy(): void;
}
