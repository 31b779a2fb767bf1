// The HTTP/1.1 side of the port: Connect and gRPC-Web RPCs through connect-node's
// router, anything else to a fallback (pages, metrics). connectNodeAdapter would
// do the same but reports a client that hung up mid-stream on console.error;
// here it goes to the logger, at debug, because it is routine.
import type * as http from "node:http";
import { Code, ConnectError, createConnectRouter, type ConnectRouter } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { peerContextValues } from "../peer-identity";

export type HttpHandler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

export interface HttpHandlerOptions {
  routes: (router: ConnectRouter) => void;
  fallback: HttpHandler;
  logger: Logger;
}

export function createHttpHandler(options: HttpHandlerOptions): HttpHandler {
  const router = createConnectRouter();
  options.routes(router);
  const byPath = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  return (request, response) => {
    const handler = byPath.get((request.url ?? "").split("?", 1)[0] ?? "");
    if (handler === undefined) {
      options.fallback(request, response);
      return;
    }
    handler(universalRequestFromNodeRequest(request, response, undefined, peerContextValues(request.socket)))
      .then((answer) => universalResponseToNodeResponse(answer, response))
      .catch((reason: unknown) => {
        const gone = response.destroyed || ConnectError.from(reason).code === Code.Aborted;
        options.logger[gone ? "debug" : "error"]({ err: reason, method: handler.method.name }, gone ? "client went away" : "http handler failed");
      });
  };
}
