// gRPC server reflection (grpc.reflection.v1 and v1alpha), served from the exact
// file descriptors protobuf-es generated, with every import, so that grpcurl and
// strict clients can build the API's types with no .proto files at hand.
import { create, toBinary, type DescExtension, type DescFile, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type DescriptorProto, type EnumDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb";
import type { Handlers } from "../transport/contract";

/** What a client may ask for; both protocol versions share this shape. */
type MessageRequest =
  | { case: "fileByFilename"; value: string }
  | { case: "fileContainingSymbol"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: "allExtensionNumbersOfType"; value: string }
  | { case: "listServices"; value: string }
  | { case: undefined; value?: undefined };

interface ReflectionRequest {
  host: string;
  messageRequest: MessageRequest;
}

/** An index of the served files: by name, by symbol, and their extensions. */
class DescriptorIndex {
  private readonly byName = new Map<string, DescFile>();
  private readonly bySymbol = new Map<string, DescFile>();
  private readonly extensions = new Map<string, Map<number, DescFile>>();
  private readonly encoded = new Map<DescFile, Uint8Array>();

  constructor(
    files: readonly DescFile[],
    readonly services: readonly string[],
  ) {
    for (const file of files) this.addFile(file);
  }

  fileByName(name: string): DescFile | undefined {
    return this.byName.get(name);
  }

  fileBySymbol(symbol: string): DescFile | undefined {
    return this.bySymbol.get(symbol.replace(/^\./, ""));
  }

  fileByExtension(type: string, number: number): DescFile | undefined {
    return this.extensions.get(type)?.get(number);
  }

  extensionNumbers(type: string): number[] | undefined {
    const known = this.extensions.get(type);
    if (known === undefined) return this.bySymbol.has(type) ? [] : undefined;
    return [...known.keys()];
  }

  /** The file and everything it imports, transitively, each encoded once. */
  withDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const dep of f.dependencies) visit(dep);
    };
    visit(file);
    return [...seen].map((f) => this.encode(f));
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (bytes === undefined) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }

  private addFile(file: DescFile): void {
    if (this.byName.has(file.proto.name)) return;
    this.byName.set(file.proto.name, file);
    for (const dep of file.dependencies) this.addFile(dep);
    // Symbols come from the FileDescriptorProto itself, as a descriptor pool names
    // them: protobuf-es' DescMessage.nestedMessages leaves out map entries, and
    // oneofs (synthetic ones too) and enum values are symbols that clients ask for.
    const pkg = file.proto.package;
    const scoped = (scope: string, name: string) => (scope === "" ? name : `${scope}.${name}`);
    const addEnum = (scope: string, enumeration: EnumDescriptorProto) => {
      this.bySymbol.set(scoped(scope, enumeration.name), file);
      // Enum values are siblings of their enum, not children (C++ scoping rules).
      for (const value of enumeration.value) this.bySymbol.set(scoped(scope, value.name), file);
    };
    const addMessage = (scope: string, message: DescriptorProto) => {
      const typeName = scoped(scope, message.name);
      this.bySymbol.set(typeName, file);
      for (const field of message.field) this.bySymbol.set(`${typeName}.${field.name}`, file);
      for (const oneof of message.oneofDecl) this.bySymbol.set(`${typeName}.${oneof.name}`, file);
      for (const ext of message.extension) this.bySymbol.set(`${typeName}.${ext.name}`, file);
      for (const nested of message.nestedType) addMessage(typeName, nested);
      for (const nested of message.enumType) addEnum(typeName, nested);
    };
    for (const message of file.proto.messageType) addMessage(pkg, message);
    for (const enumeration of file.proto.enumType) addEnum(pkg, enumeration);
    for (const ext of file.proto.extension) this.bySymbol.set(scoped(pkg, ext.name), file);
    for (const service of file.proto.service) {
      const typeName = scoped(pkg, service.name);
      this.bySymbol.set(typeName, file);
      for (const method of service.method) this.bySymbol.set(`${typeName}.${method.name}`, file);
    }
    // Extensions by extendee and number, from the resolved descriptors.
    const addExtensions = (extensions: readonly DescExtension[]) => {
      for (const ext of extensions) this.addExtension(ext.extendee.typeName, ext.number, file);
    };
    const addNestedExtensions = (messages: readonly DescMessage[]) => {
      for (const message of messages) {
        addExtensions(message.nestedExtensions);
        addNestedExtensions(message.nestedMessages);
      }
    };
    addExtensions(file.extensions);
    addNestedExtensions(file.messages);
  }

  private addExtension(extendee: string, number: number, file: DescFile): void {
    let known = this.extensions.get(extendee);
    if (known === undefined) this.extensions.set(extendee, (known = new Map()));
    known.set(number, file);
  }
}

/** The answer's oneof, in the shape both protocol versions accept. */
function answer(index: DescriptorIndex, request: MessageRequest): Record<string, unknown> {
  const files = (file: DescFile | undefined, what: string) =>
    file === undefined
      ? { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } }
      : { case: "fileDescriptorResponse", value: { fileDescriptorProto: index.withDependencies(file) } };
  switch (request.case) {
    case "fileByFilename":
      return files(index.fileByName(request.value), `file ${request.value}`);
    case "fileContainingSymbol":
      return files(index.fileBySymbol(request.value), `symbol ${request.value}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = request.value;
      return files(index.fileByExtension(containingType, extensionNumber), `extension ${containingType}(${extensionNumber})`);
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(request.value);
      return numbers === undefined
        ? { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `type ${request.value} not found` } }
        : { case: "allExtensionNumbersResponse", value: { baseTypeName: request.value, extensionNumber: numbers } };
    }
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
    default:
      return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "message_request is required" } };
  }
}

async function* respond<T>(
  index: DescriptorIndex,
  requests: AsyncIterable<ReflectionRequest>,
  build: (request: ReflectionRequest, response: Record<string, unknown>) => T,
): AsyncGenerator<T> {
  for await (const request of requests) yield build(request, answer(index, request.messageRequest));
}

/** A ServerReflectionInfo handler answering in `schema` (the two versions differ only in their package). */
function answering<O extends DescMessage>(index: DescriptorIndex, schema: O) {
  return (requests: AsyncIterable<ReflectionRequest>): AsyncIterable<MessageShape<O>> =>
    respond(index, requests, (request, response) =>
      create(schema, { validHost: request.host, originalRequest: request, messageResponse: response } as unknown as MessageInitShape<O>),
    );
}

/** Handlers for both reflection versions over the given files and service names. */
export function createReflectionHandlers(
  files: readonly DescFile[],
  services: readonly string[],
): { v1: Handlers<typeof v1.ServerReflection>; v1alpha: Handlers<typeof v1alpha.ServerReflection> } {
  const index = new DescriptorIndex(files, services);
  return {
    v1: { serverReflectionInfo: answering(index, v1.ServerReflectionResponseSchema) },
    v1alpha: { serverReflectionInfo: answering(index, v1alpha.ServerReflectionResponseSchema) },
  };
}
