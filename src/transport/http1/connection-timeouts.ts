// Timeouts for HTTP/1.1 connections handed to the node:http server through
// emit("connection"): that server never listens, so its own headersTimeout and
// requestTimeout checks never run (slowloris). A connection must complete a
// request's headers within the headers timeout of opening or of its previous
// response ending; that also closes keep-alive connections left idle.
import type * as http from "node:http";
import type { Socket } from "node:net";

export function limitHttp1Connections(server: http.Server, headersTimeoutMs: number): void {
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
    response.once("close", () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (left === 0 && !socket.destroyed) expect(socket);
    });
  });
}
