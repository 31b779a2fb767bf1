// A real HTTP receiver for webhooks on 127.0.0.1: records each POST (headers
// and body) and answers as the test says: a status, or nothing until released.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface Hook {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver that records each POST and answers as told: a status, or never (hang). */
export class Receiver {
  readonly hooks: Hook[] = [];
  /** Statuses for the next requests, in order; then 204. */
  answers: number[] = [];
  hang = false;
  inFlight = 0;
  maxInFlight = 0;
  private readonly held: http.ServerResponse[] = [];
  private constructor(readonly server: http.Server) {}

  static async start(): Promise<Receiver> {
    const server = http.createServer();
    const receiver = new Receiver(server);
    server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      receiver.maxInFlight = Math.max(receiver.maxInFlight, ++receiver.inFlight);
      response.once("close", () => receiver.inFlight--);
      request.on("data", (c: Buffer) => chunks.push(c));
      request.on("end", () => {
        receiver.hooks.push({ headers: request.headers, body: Buffer.concat(chunks).toString() });
        if (receiver.hang) return void receiver.held.push(response);
        response.writeHead(receiver.answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get url(): URL {
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/discovery`);
  }

  release(): void {
    this.hang = false;
    for (const response of this.held.splice(0)) response.writeHead(204).end();
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
