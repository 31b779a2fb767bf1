// The baseline for our handlers: the same one-port front and grpc-js server as
// the real registry, serving DiscoveryService with handlers that do nothing but
// return a constant empty answer. Requests are still decoded, as in the real one.
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { createFront } from "../../src/server/front";
import { addConnectService } from "../../src/server/grpc-adapter";
import type { Handlers } from "../../src/server/handlers";

const handlers: Handlers<typeof DiscoveryService> = {};
for (const method of DiscoveryService.methods) {
  if (method.methodKind !== "unary") continue;
  const answer = create(method.output);
  (handlers as Record<string, unknown>)[method.localName] = () => answer;
}
const grpcServer = new grpc.Server();
addConnectService(grpcServer, DiscoveryService, handlers);
const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
const front = createFront({ onHttp2: (socket) => injector.injectConnection(socket), onHttp1: (socket) => socket.destroy() });
front.server.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
