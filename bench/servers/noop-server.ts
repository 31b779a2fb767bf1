// The baseline for our handlers: the same one-port front and gRPC transport as
// the real registry, serving DiscoveryService with handlers that do nothing but
// return a constant empty answer. Requests are still decoded, as in the real one.
// BENCH_TRANSPORT=grpc-js mounts them on grpc-js's Server through the same seam.
import { create } from "@bufbuild/protobuf";
import pino from "pino";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { createFront } from "../../src/transport/front";
import { GrpcHttp2Server } from "../../src/transport/grpc-http2/server";
import { createGrpcJsTransport } from "../../src/transport/grpc-js/transport";
import type { Handlers, Transport } from "../../src/transport/contract";

const handlers: Handlers<typeof DiscoveryService> = {};
for (const method of DiscoveryService.methods) {
  if (method.methodKind !== "unary") continue;
  const answer = create(method.output);
  (handlers as Record<string, unknown>)[method.localName] = () => answer;
}
const logger = pino({ level: "silent" });
const grpcServer: Transport = process.env.BENCH_TRANSPORT === "grpc-js" ? createGrpcJsTransport({ logger }) : new GrpcHttp2Server({ logger });
grpcServer.addService(DiscoveryService, handlers);
const front = createFront({ onHttp2: (socket) => grpcServer.accept(socket), onHttp1: (socket) => socket.destroy() });
front.server.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
