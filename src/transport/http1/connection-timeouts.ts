// Timeouts for HTTP/1.1 connections handed to the node:http server through
// emit("connection"): that server never listens, so its own headersTimeout and
// requestTimeout checks never run (slowloris). A connection must complete a
// request's headers within the headers timeout of opening or of its previous
// response ending; that also closes keep-alive connections left idle. A
// request's body must then arrive whole within the body timeout: one trickled
// a byte at a time would otherwise hold the connection and its buffer for ever.
import type * as http from "node:http";
import type { Socket } from "node:net";

export function limitHttp1Connections(server: http.Server, headersTimeoutMs: number, bodyTimeoutMs: number): void {
  const waiting = new Map<Socket, NodeJS.Timeout>();
  const inFlight = new Map<Socket, number>();
  const expect = (socket: Socket) => {
    clearTimeout(waiting.get(socket));
    const timer = setTimeout(() => socket.destroy(), headersTimeoutMs);
    timer.unref();
    waiting.set(socket, timer);
  };
  const stop = (socket: Socket) => {
    clearTimeout(waiting.get(socket));
    waiting.delete(socket);
  };
  server.on("connection", (socket: Socket) => {
    expect(socket);
    socket.once("close", () => {
      stop(socket);
      inFlight.delete(socket);
    });
  });
  server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
    const socket = request.socket;
    stop(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    if (!request.complete) {
      // `complete` turns true once the parser has the whole body, read or not.
      const body = setTimeout(() => request.complete || socket.destroy(), bodyTimeoutMs);
      body.unref();
      const settled = () => clearTimeout(body);
      request.once("end", settled);
      response.once("close", settled);
    }
    response.once("close", () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (left === 0 && !socket.destroyed) expect(socket);
    });
  });
}
