// Mounts a service written in Connect's handler shape on a @grpc/grpc-js server,
// using protobuf-es for (de)serialisation (see src/grpc/service-definition.ts).
import { create, isMessage, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AnyHandler, CallContext, Handlers } from "./handlers";
import { isPushSource, PUSH, type PushControl, type PushSource } from "./push-source";
import { grpcMethodDefinition } from "../grpc/service-definition";

type GrpcCall = NodeJS.EventEmitter & { readonly metadata: grpc.Metadata };
type StreamCall = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** Adds the service's handlers to a grpc-js server. */
export function addConnectService<S extends DescService>(server: grpc.Server, service: S, handlers: Handlers<S>): void {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = (handlers as Record<string, AnyHandler>)[method.localName];
    if (handler === undefined) continue;
    definition[method.localName] = grpcMethodDefinition(service, method);
    implementation[method.localName] = makeHandler(method, handler);
  }
  server.addService(definition as grpc.ServiceDefinition, implementation);
}

function makeHandler(method: DescMethod, handler: AnyHandler): grpc.UntypedHandleCall {
  switch (method.methodKind) {
    case "unary":
      return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const context = new GrpcCallContext(call);
        const respond = (result: unknown) => {
          context.done();
          callback(null, asMessage(method.output, result));
        };
        const fail = (error: unknown) => {
          context.done();
          callback(toStatus(error));
        };
        // Most handlers answer synchronously: no promise hop unless they return one.
        let result: unknown;
        try {
          result = handler(call.request, context);
        } catch (error) {
          fail(error);
          return;
        }
        if (isThenable(result)) result.then(respond, fail);
        else respond(result);
      };
    case "server_streaming":
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const context = new GrpcCallContext(call);
        void pump(call, method, handler(call.request, context) as AsyncIterable<unknown>).finally(() => context.done());
      };
    case "bidi_streaming":
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        const context = new GrpcCallContext(call);
        // The call's readable side yields the decoded requests. Iterating the call
        // itself would destroy it when the client half-closes, before the status
        // is sent (strict clients then hang until their deadline): keep it open.
        const requests: AsyncIterable<unknown> = { [Symbol.asyncIterator]: () => endOrCancel(call, call.iterator({ destroyOnReturn: false })) };
        void pump(call, method, handler(requests, context) as AsyncIterable<unknown>).finally(() => context.done());
      };
    default:
      throw new Error(`client-streaming methods are not supported: ${method.name}`);
  }
}

/**
 * The requests of a bidi call, where a cancel is an error rather than an end.
 * grpc-js ends the readable side of a cancelled call (RST_STREAM) before it
 * marks the call cancelled, so the end of the requests alone cannot tell a
 * client's half-close from a vanished peer. The cancel follows in the same
 * turn of the event loop: waiting one turn before passing the end on settles it.
 */
function endOrCancel(call: grpc.ServerDuplexStream<unknown, unknown>, inner: AsyncIterator<unknown>): AsyncIterator<unknown> {
  return {
    async next() {
      const result = await inner.next();
      if (result.done !== true) return result;
      await new Promise((resolve) => setImmediate(resolve));
      if (call.cancelled) throw new ConnectError("the call was cancelled", Code.Canceled);
      return result;
    },
    return: inner.return === undefined ? undefined : (value?: unknown) => inner.return!(value),
  };
}

/** Writes a handler's messages to the call, waiting while the transport is full. */
async function pump(
  call: StreamCall,
  method: DescMethod,
  responses: AsyncIterable<unknown>,
): Promise<void> {
  if (isPushSource(responses)) return pushPump(call, responses);
  const iterator = responses[Symbol.asyncIterator]();
  const stop = () => void iterator.return?.();
  call.once("cancelled", stop);
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      if (call.cancelled) return;
      if (!call.write(asMessage(method.output, next.value))) await drained(call);
    }
    if (!call.cancelled) call.end();
  } catch (error) {
    if (!call.cancelled) call.emit("error", toStatus(error));
  } finally {
    call.removeListener("cancelled", stop);
  }
}

/**
 * Drives a push source: its items are written synchronously while the call
 * accepts them, and it is resumed on "drain". No promise per message, which is
 * what lets one change reach thousands of Watch streams quickly.
 */
function pushPump(call: StreamCall, source: PushSource<unknown>): Promise<void> {
  return new Promise((resolve) => {
    let finished = false;
    let control: PushControl | undefined;
    const onDrain = () => control?.resume();
    const onCancelled = () => control?.cancel();
    control = source[PUSH]({
      write: (message) => call.write(message),
      end: (error) => {
        if (finished) return;
        finished = true;
        call.removeListener("drain", onDrain);
        call.removeListener("cancelled", onCancelled);
        if (!call.cancelled) {
          if (error === undefined) call.end();
          else call.emit("error", toStatus(error));
        }
        resolve();
      },
    });
    if (finished) return;
    call.on("drain", onDrain);
    call.once("cancelled", onCancelled);
    if (call.cancelled) control.cancel();
  });
}

function drained(call: StreamCall): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      call.removeListener("drain", finish);
      call.removeListener("cancelled", finish);
      resolve();
    };
    call.once("drain", finish);
    call.once("cancelled", finish);
  });
}

/**
 * A call's context, built lazily: a unary handler that never reads its signal or
 * headers costs no AbortController (whose abort allocates a DOMException) and no
 * Headers object, which measurably slowed the heartbeat path.
 */
class GrpcCallContext implements CallContext {
  private controller: AbortController | undefined;
  private headers: Headers | undefined;
  private finished = false;
  private readonly onCancelled = () => this.controller?.abort();

  constructor(private readonly call: GrpcCall) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.finished || (this.call as { cancelled?: boolean }).cancelled === true) this.controller.abort();
      else this.call.once("cancelled", this.onCancelled);
    }
    return this.controller.signal;
  }

  get requestHeader(): Headers {
    if (this.headers === undefined) {
      this.headers = new Headers();
      for (const [key, value] of Object.entries(this.call.metadata.getMap())) {
        if (typeof value === "string") this.headers.append(key, value);
      }
    }
    return this.headers;
  }

  /** The call is over: whatever the handler started with the signal stops too. */
  done(): void {
    this.finished = true;
    if (this.controller === undefined) return;
    this.call.removeListener("cancelled", this.onCancelled);
    this.controller.abort();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function asMessage(schema: DescMessage, value: unknown): unknown {
  return isMessage(value, schema) ? value : create(schema, value as never);
}

function toStatus(error: unknown): Partial<grpc.StatusObject> {
  const connectError = ConnectError.from(error);
  return { code: connectError.code as number as grpc.status, details: connectError.rawMessage };
}
