// Real probe targets on 127.0.0.1 that a test drives: an HTTP health endpoint
// that can fail, slow down, report a status or load and recover; a TCP listener;
// a gRPC server with grpc.health.v1 whose serving status can be set.
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus,
  type HealthCheckRequest,
} from "../../gen/grpc/health/v1/health_pb";
import { grpcServiceDefinition } from "../../src/transport/service-definition";

export interface HttpAnswer {
  status: number;
  body: string;
  contentType: string;
  delayMs: number;
}

/** Counts requests in flight over several targets. */
export class InFlightMeter {
  current = 0;
  max = 0;
  enter(): void {
    this.max = Math.max(this.max, ++this.current);
  }
  leave(): void {
    this.current--;
  }
}

export class HttpTarget {
  answer: HttpAnswer = { status: 200, body: "", contentType: "text/plain", delayMs: 0 };
  requests = 0;
  connections = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Requests whose client went away before the answer. */
  aborted = 0;
  readonly paths: string[] = [];
  readonly headers: http.IncomingHttpHeaders[] = [];
  private constructor(
    readonly server: http.Server,
    readonly port: number,
    private readonly meter: InFlightMeter,
  ) {}

  static async start(meter = new InFlightMeter()): Promise<HttpTarget> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const target = new HttpTarget(server, (server.address() as AddressInfo).port, meter);
    server.on("connection", () => target.connections++);
    server.on("request", (request, response) => target.handle(request, response));
    return target;
  }

  /** Answers JSON from now on. */
  json(body: unknown, status = 200, delayMs = 0): void {
    this.answer = { status, body: typeof body === "string" ? body : JSON.stringify(body), contentType: "application/json", delayMs };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    this.requests++;
    this.paths.push(request.url ?? "");
    this.headers.push(request.headers);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.meter.enter();
    const { status, body, contentType, delayMs } = this.answer;
    let finished = false;
    const timer = setTimeout(() => {
      finished = true;
      this.inFlight--;
      this.meter.leave();
      response.writeHead(status, { "content-type": contentType });
      response.end(body);
    }, delayMs);
    response.on("close", () => {
      if (finished) return;
      clearTimeout(timer);
      this.inFlight--;
      this.meter.leave();
      this.aborted++;
    });
  }
}

/** A port that refuses connections: it was bound, then released. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class TcpTarget {
  accepted = 0;
  private constructor(
    readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<TcpTarget> {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const target = new TcpTarget(server, (server.address() as AddressInfo).port);
    server.on("connection", () => target.accepted++);
    return target;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export class GrpcHealthTarget {
  /** Serving status per service name ("" is the server as a whole). */
  readonly statuses = new Map<string, HealthCheckResponse_ServingStatus>([["", HealthCheckResponse_ServingStatus.SERVING]]);
  checks = 0;
  private constructor(
    readonly server: grpc.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<GrpcHealthTarget> {
    const server = new grpc.Server();
    let target: GrpcHealthTarget | undefined;
    server.addService(grpcServiceDefinition(Health), {
      check: (call: grpc.ServerUnaryCall<HealthCheckRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        target!.checks++;
        const status = target!.statuses.get(call.request.service);
        if (status === undefined) return callback({ code: grpc.status.NOT_FOUND, details: "unknown service" });
        callback(null, create(HealthCheckResponseSchema, { status }));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    target = new GrpcHealthTarget(server, port);
    return target;
  }

  close(): Promise<void> {
    this.server.forceShutdown();
    return Promise.resolve();
  }
}
