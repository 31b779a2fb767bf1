// A grpc-js service definition built from a protobuf-es service descriptor, so
// that grpc-js servers and clients use protobuf-es messages with no second copy
// of the API (no proto-loader, no generated grpc-js stubs).
import { fromBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { encode } from "./wire-cache";

export function grpcMethodDefinition(service: DescService, method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (message: unknown) => encode(method.input, message as never),
    requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
    responseSerialize: (message: unknown) => encode(method.output, message as never),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    originalName: method.localName,
  };
}

/** The definition of every method, keyed by its local (camelCase) name. */
export function grpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) definition[method.localName] = grpcMethodDefinition(service, method);
  return definition as grpc.ServiceDefinition;
}
