// The four gRPC method kinds over an Http2Call: how many request messages a
// handler gets (one, or a stream) and how its answer goes out (one message, or
// a stream honouring flow control; push sources without a promise per message).
import { create, isMessage, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AnyHandler } from "../contract";
import { EACH, isPushSource, PUSH, type PushSource, type RequestFeed, type RequestListener } from "../push-source";
import { settle } from "../settle";
import type { Http2Call } from "./call";

/** Request messages a streaming handler may have waiting before its stream is paused. */
export const STREAM_REQUEST_BUFFER = 16;

export interface Route {
  method: DescMethod;
  handler: AnyHandler;
}

/** Runs the call's handler as its method kind requires. */
export function serveCall(call: Http2Call, route: Route): void {
  switch (route.method.methodKind) {
    case "unary":
      return oneRequest(call, (request) => answerOnce(call, route, () => route.handler(request, call.context)));
    case "server_streaming":
      return oneRequest(call, (request) => answerStream(call, route, () => route.handler(request, call.context) as AsyncIterable<unknown>));
    case "client_streaming":
      return answerOnce(call, route, () => route.handler(requestStream(call), call.context));
    case "bidi_streaming":
      return answerStream(call, route, () => route.handler(requestStream(call), call.context) as AsyncIterable<unknown>);
  }
}

/** Exactly one request message, then `then`. */
function oneRequest(call: Http2Call, then: (request: unknown) => void): void {
  let request: unknown;
  let count = 0;
  call.readRequests(
    (message) => {
      request = message;
      count++;
    },
    () => {
      if (count === 1) then(request);
      // The code connect-node gives the same mistake over gRPC-Web and Connect.
      else call.finish(new ConnectError(count === 0 ? "the request message is missing" : "a unary request must carry exactly one message", Code.Unimplemented));
    },
    (error) => call.finish(error),
  );
}

/** One answer (unary, client-streaming): a synchronous result is written without a promise. */
function answerOnce(call: Http2Call, route: Route, run: () => unknown): void {
  const output = route.method.output as DescMessage;
  const respond = call.guard((result: unknown) => {
    if (call.isFinished) return;
    call.write(asMessage(output, result));
    call.finish();
  });
  settle(run, undefined, call.context, undefined, respond, call.guard((error: unknown) => call.finish(error)));
}

/**
 * The request messages as an async iterable, read ahead up to
 * STREAM_REQUEST_BUFFER. A clean end (the client half-closed) ends the
 * iteration; a cancelled call makes it throw, so a handler can tell a goodbye
 * from a crash. A push handler may instead take them one by one as they
 * arrive ([EACH]), with no queue and no promise per message.
 */
function requestStream(call: Http2Call): RequestFeed<unknown> {
  const queue: unknown[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  let listener: RequestListener<unknown> | undefined;
  const flow = call.readRequests(
    (message) => {
      if (listener !== undefined) {
        listener.message(message);
        return true;
      }
      queue.push(message);
      wake?.();
      return queue.length < STREAM_REQUEST_BUFFER;
    },
    call.whenHalfClosed(() => {
      ended = true;
      if (listener !== undefined) listener.end();
      else wake?.();
    }),
    (error) => {
      failure = error;
      if (listener !== undefined) listener.error(error);
      else wake?.();
      call.finish(error);
    },
  );
  call.whenEnded(() => {
    if (listener !== undefined && !ended && failure === undefined) listener.error(cancelReason(call));
    wake?.();
  });
  return {
    [EACH](each) {
      listener = each;
      for (const message of queue.splice(0)) each.message(message);
      flow.resume();
      if (failure !== undefined) each.error(failure);
      else if (ended) each.end();
      else if (call.isFinished) each.error(cancelReason(call));
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length > 0) {
          const message = queue.shift();
          if (queue.length === STREAM_REQUEST_BUFFER - 1) flow.resume();
          yield message;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (ended) return;
        if (call.isFinished) throw cancelReason(call);
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
}

function cancelReason(call: Http2Call): Error {
  return (call.endReason as Error | undefined) ?? new ConnectError("the call was cancelled", Code.Canceled);
}

function answerStream(call: Http2Call, route: Route, open: () => AsyncIterable<unknown>): void {
  let source: AsyncIterable<unknown>;
  try {
    source = open();
  } catch (error) {
    return call.finish(error);
  }
  if (isPushSource(source)) pushTo(call, source);
  else iterateTo(call, route.method.output as DescMessage, source).catch((error: unknown) => call.fault(error));
}

/** Drives a push source: synchronous writes while the stream has room, resumed on "drain". */
function pushTo(call: Http2Call, source: PushSource<unknown>): void {
  const control = source[PUSH]({ write: (message) => call.write(message), end: (error) => call.finish(error) });
  const onDrain = call.guard(() => control.resume());
  call.stream.on("drain", onDrain);
  call.whenEnded(() => {
    call.stream.removeListener("drain", onDrain);
    // The reason (a deadline, a cancel) travels to whoever observes the stream's end.
    control.cancel(call.endReason);
  });
}

/** Drives an async iterable, waiting for "drain" whenever the stream is full. */
async function iterateTo(call: Http2Call, output: DescMessage, source: AsyncIterable<unknown>): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  call.whenEnded(() => void iterator.return?.());
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true || call.isFinished) break;
      if (!call.write(asMessage(output, next.value))) await drained(call);
    }
    call.finish();
  } catch (error) {
    call.finish(error);
  }
}

function drained(call: Http2Call): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.stream.removeListener("drain", done);
      forget();
      resolve();
    };
    call.stream.once("drain", done);
    const forget = call.whenEnded(done);
  });
}

function asMessage(schema: DescMessage, value: unknown): unknown {
  return isMessage(value, schema) ? value : create(schema, value as never);
}
