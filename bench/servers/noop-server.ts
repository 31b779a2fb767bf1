// The baseline for our handlers: the same one-port front and gRPC transport as
// the real registry, serving DiscoveryService with handlers that do nothing but
// return a constant empty answer. Requests are still decoded, as in the real one.
import { create } from "@bufbuild/protobuf";
import pino from "pino";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { createFront } from "../../src/transport/front";
import { GrpcHttp2Server } from "../../src/transport/grpc-http2/server";
import type { Handlers } from "../../src/transport/contract";

const handlers: Handlers<typeof DiscoveryService> = {};
for (const method of DiscoveryService.methods) {
  if (method.methodKind !== "unary") continue;
  const answer = create(method.output);
  (handlers as Record<string, unknown>)[method.localName] = () => answer;
}
const grpcServer = new GrpcHttp2Server({ logger: pino({ level: "silent" }) });
grpcServer.addService(DiscoveryService, handlers);
const front = createFront({ onHttp2: (socket) => grpcServer.accept(socket), onHttp1: (socket) => socket.destroy() });
front.server.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
