// The shape of a service implementation, written once and mounted on both
// transports (grpc-js and connect-node), and the wrapper that maps its errors.
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ConnectError } from "@connectrpc/connect";
import { codeName } from "../grpc/code-names";
import { isExpected, toConnectError } from "./error-map";

/** What a handler may use of a call; Connect's HandlerContext satisfies it. */
export interface CallContext {
  /** Aborts when the call ends, is cancelled, or its deadline passes. */
  readonly signal: AbortSignal;
  readonly requestHeader: Headers;
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

/**
 * Wraps every handler so that domain errors reach the wire with their code and
 * unexpected ones are logged and sent as INTERNAL, never as UNKNOWN with a stack.
 */
export function withErrorMapping<S extends DescService>(service: S, handlers: Handlers<S>, logger: Logger): Handlers<S> {
  const wrapped: Record<string, AnyHandler> = {};
  const report = (method: string, error: unknown) => {
    if (!isExpected(error)) logger.error({ err: error, method }, "handler failed");
    return toConnectError(error);
  };
  for (const method of service.methods) {
    const handler = (handlers as Record<string, AnyHandler>)[method.localName];
    if (handler === undefined) continue;
    const name = `${service.typeName}/${method.name}`;
    wrapped[method.localName] =
      method.methodKind === "unary"
        ? (input, context) => {
            // Synchronous handlers stay synchronous: no promise per call on the hot path.
            try {
              const result = handler(input, context);
              if (typeof (result as PromiseLike<unknown> | null)?.then !== "function") return result;
              return (result as Promise<unknown>).catch((error: unknown) => {
                throw report(name, error);
              });
            } catch (error) {
              throw report(name, error);
            }
          }
        : async function* (input, context) {
            try {
              yield* handler(input, context) as AsyncIterable<unknown>;
            } catch (error) {
              throw report(name, error);
            }
          };
  }
  return wrapped as Handlers<S>;
}

/** The canonical name of the code an error reaches the wire with. */
export function codeNameOf(error: unknown): string {
  return codeName(ConnectError.from(error).code);
}

/** Receives one finished call: its gRPC code name and duration in seconds. */
export type CallObserver = (code: string, seconds: number) => void;

/**
 * Wraps every handler to report how each call ended and how long it took, on
 * both transports. Wrap outside withErrorMapping so errors carry their final
 * code. A stream is measured until it ends; one the client leaves is CANCELLED.
 * `observerFor` runs once per method, so per-call work is a clock read and a call.
 */
export function withCallObserver<S extends DescService>(
  service: S,
  handlers: Handlers<S>,
  observerFor: (method: string) => CallObserver,
): Handlers<S> {
  const wrapped: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    const handler = (handlers as Record<string, AnyHandler>)[method.localName];
    if (handler === undefined) continue;
    const observe = observerFor(`${service.typeName}/${method.name}`);
    wrapped[method.localName] =
      method.methodKind === "unary"
        ? async (input, context) => {
            const start = performance.now();
            try {
              const output = await handler(input, context);
              observe("OK", (performance.now() - start) / 1000);
              return output;
            } catch (error) {
              observe(codeNameOf(error), (performance.now() - start) / 1000);
              throw error;
            }
          }
        : async function* (input, context) {
            const start = performance.now();
            let code = "CANCELLED";
            try {
              yield* handler(input, context) as AsyncIterable<unknown>;
              // A stream that ends because its call was aborted (the client left) did not succeed.
              code = context.signal.aborted ? "CANCELLED" : "OK";
            } catch (error) {
              code = codeNameOf(error);
              throw error;
            } finally {
              observe(code, (performance.now() - start) / 1000);
            }
          };
  }
  return wrapped as Handlers<S>;
}
