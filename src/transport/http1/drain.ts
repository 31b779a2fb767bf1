// Graceful close for HTTP/1.1 connections handed to a node:http server that does
// not listen itself (so its closeIdleConnections() knows none of them): counts
// in-flight requests per socket, closes idle sockets at once when draining, and
// busy ones as soon as their last response is done.
import type * as http from "node:http";
import type { Socket } from "node:net";

export interface Http1Drain {
  /** Closes idle connections now and the others as their responses finish. */
  drain(): void;
}

export function trackHttp1Connections(server: http.Server): Http1Drain {
  const inFlight = new Map<Socket, number>();
  let draining = false;
  server.on("connection", (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once("close", () => inFlight.delete(socket));
  });
  server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    if (draining) response.setHeader("connection", "close");
    response.once("close", () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (draining && left === 0) socket.end();
    });
  });
  return {
    drain() {
      draining = true;
      for (const [socket, count] of inFlight) if (count === 0) socket.end();
    },
  };
}
