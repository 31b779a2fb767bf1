// Middleware around a service's handlers: the wrappers that map their errors
// and observe their calls, on both transports. Both keep synchronous handlers synchronous
// and push streams pushable: they sit on the heartbeat and Watch hot paths.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { AnyHandler, Handlers } from "../../transport/contract";
import type { Logger } from "pino";
import { ConnectError } from "@connectrpc/connect";
import { codeName } from "../../transport/code-names";
import { isExpected, toConnectError } from "./error-map";
import { isPushSource, PUSH, type PushSource } from "../../transport/push-source";
import { settle } from "../../transport/settle";
import type { CallObserver } from "../../metrics/rpc-cells";

/**
 * Wraps every handler so that domain errors reach the wire with their code and
 * unexpected ones are logged and sent as INTERNAL, never as UNKNOWN with a stack.
 */
export function withErrorMapping<S extends DescService>(service: S, handlers: Handlers<S>, logger: Logger): Handlers<S> {
  return wrapEach(service, handlers, (method, handler) => {
    const name = `${service.typeName}/${method.name}`;
    const report = (error: unknown) => {
      if (!isExpected(error)) logger.error({ err: error, method: name }, "handler failed");
      return toConnectError(error);
    };
    if (answersOnce(method)) return unary(handler, { mapError: report });
    return (input, context) => stream(() => handler(input, context) as AsyncIterable<unknown>, { mapError: report });
  });
}

/** The canonical name of the code an error reaches the wire with. */
export function codeNameOf(error: unknown): string {
  return codeName(ConnectError.from(error).code);
}

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
  return wrapEach(service, handlers, (method, handler) => {
    const observe = observerFor(`${service.typeName}/${method.name}`);
    const since = (start: number) => (performance.now() - start) / 1000;
    if (answersOnce(method)) {
      // Made once per method; the start time travels as settle's state: nothing is allocated per call on the heartbeat path.
      const onValue = (value: unknown, start: number) => {
        observe("OK", since(start));
        return value;
      };
      const onError = (error: unknown, start: number): never => {
        observe(codeNameOf(error), since(start));
        throw error;
      };
      return (input, context) => settle(handler, input, context, performance.now(), onValue, onError);
    }
    return (input, context) => {
      const start = performance.now();
      // A stream that ends because its call was aborted (the client left) did not succeed.
      const onEnd = (error: unknown) => observe(error !== undefined ? codeNameOf(error) : context.signal.aborted ? "CANCELLED" : "OK", since(start));
      return stream(() => handler(input, context) as AsyncIterable<unknown>, { onEnd });
    };
  });
}

export type Wrap = (method: DescMethod, handler: AnyHandler) => AnyHandler;

/** Unary and client-streaming handlers return one answer (or a promise of it), not a stream. */
function answersOnce(method: DescMethod): boolean {
  return method.methodKind === "unary" || method.methodKind === "client_streaming";
}

export function wrapEach<S extends DescService>(service: S, handlers: Handlers<S>, wrap: Wrap): Handlers<S> {
  const wrapped: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    const handler = (handlers as Record<string, AnyHandler>)[method.localName];
    if (handler !== undefined) wrapped[method.localName] = wrap(method, handler);
  }
  return wrapped as Handlers<S>;
}

interface Hooks {
  /** Replaces an error on its way out. */
  mapError?: (error: unknown) => unknown;
  /** Hears how the call ended: undefined for success, else the (mapped) error. */
  onEnd?: (error: unknown) => void;
}

/** A unary handler with hooks; a synchronous answer stays synchronous (no promise per call). */
function unary(handler: AnyHandler, hooks: Hooks): AnyHandler {
  const onValue = (value: unknown) => {
    hooks.onEnd?.(undefined);
    return value;
  };
  const onError = (error: unknown): never => {
    const mapped = hooks.mapError === undefined ? error : hooks.mapError(error);
    hooks.onEnd?.(mapped);
    throw mapped;
  };
  return (input, context) => settle(handler, input, context, undefined, onValue, onError);
}

/** A stream with hooks, keeping its push capability when it has one. */
function stream(open: () => AsyncIterable<unknown>, hooks: Hooks): AsyncIterable<unknown> {
  const map = (error: unknown) => (hooks.mapError === undefined ? error : hooks.mapError(error));
  let source: AsyncIterable<unknown>;
  try {
    source = open();
  } catch (error) {
    const mapped = map(error);
    hooks.onEnd?.(mapped);
    return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(mapped) }) };
  }
  const iterate = async function* () {
    let failure: unknown;
    try {
      yield* source;
    } catch (error) {
      failure = map(error);
      throw failure;
    } finally {
      hooks.onEnd?.(failure);
    }
  };
  if (!isPushSource(source)) return iterate();
  const pushable: PushSource<unknown> = {
    [Symbol.asyncIterator]: () => iterate(),
    [PUSH]: (sink) =>
      source[PUSH]({
        write: (item) => sink.write(item),
        end: (error) => {
          const mapped = error === undefined ? undefined : map(error);
          hooks.onEnd?.(mapped);
          sink.end(mapped);
        },
      }),
  };
  return pushable;
}
