// The HTTP/1.1 side of the port: Connect and gRPC-Web RPCs through connect-node's
// router, anything else to a fallback (pages, metrics). connectNodeAdapter would
// do the same but reports a client that hung up mid-stream on console.error;
// here it goes to the logger, at debug, because it is routine. RPC bodies are
// read and inspected first (request-body.ts) so bad input is refused with the
// code gRPC gives it.
import type * as http from "node:http";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createConnectRouter, createContextKey, type HandlerContext, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { AnyHandler, CallContext, Handlers } from "../contract";
import { NO_SHUTDOWN } from "../no-shutdown";
import { peerContextValues } from "../peer-identity";
import { bodyKindOf, inspectBody, placeholderBody, readBody } from "./request-body";
import { DEFAULT_MAX_RECEIVE_MESSAGE_BYTES } from "../grpc-http2/server";

/** A refusal found in the request body, thrown by the first interceptor before any handler runs. */
const REFUSAL = createContextKey<ConnectError | undefined>(undefined);
const refuseBadInput: Interceptor = (next) => (request) => {
  const refusal = request.contextValues.get(REFUSAL);
  if (refusal !== undefined) throw refusal;
  return next(request);
};
/** An envelope's header, allowed on top of one message of the maximum size. */
const ENVELOPE_HEADER = 5;

export type HttpHandler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** Serves a service's handlers over Connect and gRPC-Web. */
export type Mount = <S extends DescService>(service: S, handlers: Handlers<S>) => void;

export interface HttpHandlerOptions {
  routes: (mount: Mount) => void;
  fallback: HttpHandler;
  logger: Logger;
  /** Largest request message (DISCOVERY_MAX_MESSAGE_BYTES, shared with gRPC). */
  maxMessageBytes?: number;
  /** The server's shutdown, handed to handlers as `CallContext.shutdownSignal`. */
  shutdownSignal?: AbortSignal;
}

export function createHttpHandler(options: HttpHandlerOptions): HttpHandler {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_RECEIVE_MESSAGE_BYTES;
  const router = createConnectRouter({ interceptors: [refuseBadInput], readMaxBytes: maxMessageBytes + ENVELOPE_HEADER });
  const shutdownSignal = options.shutdownSignal ?? NO_SHUTDOWN;
  options.routes((service, handlers) => {
    const impl: Record<string, (input: unknown, context: HandlerContext) => unknown> = {};
    for (const [name, handler] of Object.entries(handlers as Record<string, AnyHandler | undefined>)) {
      if (handler === undefined) continue;
      // Connect's context is a plain object made for this one call: adding our
      // field to it costs no allocation. (Connect's own shutdownSignal option
      // would abort every call at once, leaving in-flight calls no grace.)
      impl[name] = (input, context) => handler(input, Object.assign(context, { shutdownSignal }) satisfies CallContext);
    }
    router.service(service, impl as unknown as Partial<ServiceImpl<typeof service>>);
  });
  const byPath = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  return (request, response) => {
    const handler = byPath.get((request.url ?? "").split("?", 1)[0] ?? "");
    if (handler === undefined) {
      options.fallback(request, response);
      return;
    }
    const kind = request.method === "POST" ? bodyKindOf(request.headers["content-type"]) : undefined;
    const ready =
      kind === undefined
        ? Promise.resolve(universalRequestFromNodeRequest(request, response, undefined, peerContextValues(request.socket)))
        : readBody(request, kind.framing === "unary" ? maxMessageBytes : maxMessageBytes + ENVELOPE_HEADER).then((body) => {
            const refusal = body instanceof ConnectError ? body : inspectBody(kind, handler.method.input, body, maxMessageBytes);
            // A body left unread (too large) cannot be skipped on this connection.
            if (body instanceof ConnectError) response.setHeader("connection", "close");
            const universal = universalRequestFromNodeRequest(request, response, undefined, peerContextValues(request.socket).set(REFUSAL, refusal));
            if (refusal === undefined) return { ...universal, body: oneChunk(body as Uint8Array) };
            // connect-node checks the body against content-length: the placeholder has its own.
            universal.header.delete("content-length");
            return { ...universal, body: oneChunk(placeholderBody(kind)) };
          });
    ready
      .then((universal) => handler(universal))
      .then((answer) => universalResponseToNodeResponse(answer, response))
      .catch((reason: unknown) => {
        const gone = response.destroyed || ConnectError.from(reason).code === Code.Aborted;
        options.logger[gone ? "debug" : "error"]({ err: reason, method: handler.method.name }, gone ? "client went away" : "http handler failed");
      });
  };
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
