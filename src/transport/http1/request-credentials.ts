// How a plain HTTP/1.1 request (pages, /metrics, later REST routes) identifies
// itself, in the shape the authorizer reads for RPCs: headers and TLS identities.
import type * as http from "node:http";
import type { ContextValues } from "@connectrpc/connect";
import { peerContextValues } from "../peer-identity";

export function requestCredentials(request: http.IncomingMessage): { requestHeader: Headers; values: ContextValues } {
  const requestHeader = new Headers();
  const authorization = request.headers.authorization;
  if (authorization !== undefined) requestHeader.set("authorization", authorization);
  return { requestHeader, values: peerContextValues(request.socket) };
}
