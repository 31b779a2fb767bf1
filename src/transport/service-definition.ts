// A grpc-js service definition built from a protobuf-es service descriptor, so
// that grpc-js servers and clients use protobuf-es messages with no second copy
// of the API (no proto-loader, no generated grpc-js stubs).
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { codecsOf, type MethodCodecs, type ServiceCodecs } from "./codec";

const asBuffer = (bytes: Uint8Array) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

export function grpcMethodDefinition(service: DescService, method: DescMethod, given?: Partial<MethodCodecs>): grpc.MethodDefinition<unknown, unknown> {
  const codecs = codecsOf(method, given);
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (message: unknown) => asBuffer(codecs.request.encode(message)),
    requestDeserialize: (bytes: Buffer) => codecs.request.decode(bytes),
    responseSerialize: (message: unknown) => asBuffer(codecs.response.encode(message)),
    responseDeserialize: (bytes: Buffer) => codecs.response.decode(bytes),
    originalName: method.localName,
  };
}

/** The definition of every method, keyed by its local (camelCase) name. */
export function grpcServiceDefinition<S extends DescService>(service: S, codecs?: ServiceCodecs<S>): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const given = codecs as Record<string, Partial<MethodCodecs>> | undefined;
  for (const method of service.methods) definition[method.localName] = grpcMethodDefinition(service, method, given?.[method.localName]);
  return definition as grpc.ServiceDefinition;
}
