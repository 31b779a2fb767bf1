// The contract between a transport and the services mounted on it: the shape
// of a handler per method kind and what a handler may use of its call. Both
// transports (gRPC over node:http2 and the HTTP/1.1 Connect side) serve it.
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

/** What a handler may use of a call; Connect's HandlerContext satisfies it. */
export interface CallContext {
  /** Aborts when the call ends, is cancelled, or its deadline passes. */
  readonly signal: AbortSignal;
  readonly requestHeader: Headers;
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
type BiDiStreaming<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

type HandlerOf<M> = M extends DescMethod & { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? Unary<I, O>
  : M extends DescMethod & { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? ServerStreaming<I, O>
    : M extends DescMethod & { methodKind: "bidi_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? BiDiStreaming<I, O>
      : never;

/**
 * Handlers for the methods of a service, in Connect's ServiceImpl shape. A method
 * without one answers UNIMPLEMENTED on both transports.
 */
export type Handlers<S extends DescService> = { [K in keyof S["method"]]?: HandlerOf<S["method"][K]> };

/** Any handler, as the transports see it. */
export type AnyHandler = (input: unknown, context: CallContext) => unknown;
