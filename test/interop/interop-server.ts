// The interop server: TestService on a chosen Transport behind the one-port
// front, on a free loopback port, as the discovery server mounts its services.
import type { AddressInfo } from "node:net";
import pino from "pino";
import { TestService } from "../gen/grpc/testing/test_pb";
import { createFront } from "../../src/transport/front";
import { GrpcHttp2Server } from "../../src/transport/grpc-http2/server";
import { createGrpcJsTransport } from "../../src/transport/grpc-js/transport";
import type { Transport } from "../../src/transport/contract";
import { createTestServiceHandlers } from "./test-service";

export interface InteropServer {
  readonly port: number;
  /** Connections accepted so far: how the clients spread their calls. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startInteropServer(kind: "http2" | "grpc-js" = "http2"): Promise<InteropServer> {
  const logger = pino({ level: "silent" });
  const transport: Transport = kind === "grpc-js" ? createGrpcJsTransport({ logger }) : new GrpcHttp2Server({ logger });
  transport.addService(TestService, createTestServiceHandlers());
  const front = createFront({ onHttp2: (socket) => transport.accept(socket), onHttp1: (socket) => socket.destroy() });
  let connections = 0;
  front.server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => front.server.listen(0, "127.0.0.1", resolve));
  return {
    port: (front.server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    async close() {
      const closed = front.close();
      await transport.drain(500);
      front.destroyAll();
      await closed;
    },
  };
}
