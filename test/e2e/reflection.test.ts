// gRPC server reflection (v1 and v1alpha) as strict clients use it: a bidi stream
// of requests, file descriptors with every import, NOT_FOUND answers that leave
// the stream usable, and descriptors that build a registry with nothing else at
// hand. A Python client (Debian's grpcio + protobuf, whose C++ DescriptorPool
// rejects anything malformed) then calls the API through the fetched types only.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { DiscoveryService, HealthStatusSchema } from "../../gen/discovery/v1/discovery_pb";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const DISCOVERY_FILE = "discovery/v1/discovery.proto";
const TIMESTAMP_FILE = "google/protobuf/timestamp.proto";
const DURATION_FILE = "google/protobuf/duration.proto";
const NOT_FOUND = 5;

const EXPECTED_SERVICES = [
  "discovery.v1.DiscoveryService",
  "envoy.service.discovery.v3.AggregatedDiscoveryService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

// v1alpha differs from v1 only in its package: the same test body drives both,
// typed with v1's shapes (the $typeName of every answer is checked separately).
type ReflectionService = typeof v1.ServerReflection;
type Request = v1.ServerReflectionRequest["messageRequest"];
type Response = v1.ServerReflectionResponse;

const VERSIONS: { name: string; service: ReflectionService; responseType: string }[] = [
  { name: "v1", service: v1.ServerReflection, responseType: "grpc.reflection.v1.ServerReflectionResponse" },
  {
    name: "v1alpha",
    service: v1alpha.ServerReflection as unknown as ReflectionService,
    responseType: "grpc.reflection.v1alpha.ServerReflectionResponse",
  },
];

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

/** One reflection stream: ask() writes a request and awaits its answer. */
class ReflectionStream {
  private readonly client: GrpcTestClient<ReflectionService>;
  private readonly call;
  private readonly reader: StreamReader<Response>;

  constructor(
    private readonly service: ReflectionService,
    private readonly responseType: string,
  ) {
    this.client = new GrpcTestClient(service, server.target);
    this.call = this.client.bidiStream(service.method.serverReflectionInfo);
    this.reader = new StreamReader<Response>(this.call);
  }

  send(messageRequest: Request, host = ""): void {
    // The request message of this version's schema (v1alpha's, for v1alpha).
    this.call.write(create(this.service.method.serverReflectionInfo.input, { host, messageRequest }));
  }

  async next(): Promise<Response> {
    const response = await this.reader.next();
    expect(response.$typeName).toBe(this.responseType);
    return response;
  }

  async ask(messageRequest: Request, host = ""): Promise<Response> {
    this.send(messageRequest, host);
    return this.next();
  }

  /** Half-closes and expects the server to end the stream with OK. */
  async end(): Promise<void> {
    this.call.end();
    expect(await this.reader.finished()).toBeUndefined();
    expect(this.reader.pending).toHaveLength(0);
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

function fileDescriptors(response: Response): FileDescriptorProto[] {
  if (response.messageResponse.case !== "fileDescriptorResponse") {
    throw new Error(`expected a file_descriptor_response, got ${summarize(response)}`);
  }
  return response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

function summarize(response: Response): string {
  const { case: kind, value } = response.messageResponse;
  return kind === "errorResponse" ? `error ${value.errorCode}: ${value.errorMessage}` : String(kind);
}

function names(files: FileDescriptorProto[]): string[] {
  return files.map((file) => file.name);
}

/** Every file's imports are among the returned files: the set is closed. */
function expectClosed(files: FileDescriptorProto[]): void {
  const returned = new Set(names(files));
  expect(returned.size).toBe(files.length); // no file twice
  for (const file of files) {
    for (const dependency of file.dependency) expect(returned).toContain(dependency);
  }
}

function messageOf(file: FileDescriptorProto, dottedPath: string): DescriptorProto {
  const [first, ...rest] = dottedPath.split(".");
  let message = file.messageType.find((m) => m.name === first);
  for (const name of rest) message = message?.nestedType.find((m) => m.name === name);
  if (message === undefined) throw new Error(`${dottedPath} is not in ${file.name}`);
  return message;
}

describe.each(VERSIONS)("server reflection $name", ({ service, responseType }) => {
  let stream: ReflectionStream;

  beforeEach(() => {
    stream = new ReflectionStream(service, responseType);
  });

  afterEach(() => {
    stream.close();
  });

  test("list_services names every served service", async () => {
    const response = await stream.ask({ case: "listServices", value: "*" }, "localhost");
    expect(response.messageResponse.case).toBe("listServicesResponse");
    const listed = response.messageResponse.case === "listServicesResponse" ? response.messageResponse.value.service : [];
    expect(listed.map((s) => s.name).sort()).toEqual(EXPECTED_SERVICES);
    // The answer echoes the request it answers.
    expect(response.validHost).toBe("localhost");
    expect(response.originalRequest?.messageRequest).toEqual({ case: "listServices", value: "*" });
    await stream.end();
  });

  test("file_containing_symbol for the service returns its file first, then every import", async () => {
    const files = fileDescriptors(await stream.ask({ case: "fileContainingSymbol", value: "discovery.v1.DiscoveryService" }));
    expect(files[0]?.name).toBe(DISCOVERY_FILE);
    expect(names(files).sort()).toEqual([DISCOVERY_FILE, DURATION_FILE, TIMESTAMP_FILE].sort());
    expectClosed(files);

    const discovery = files[0]!;
    expect(discovery.package).toBe("discovery.v1");
    expect(discovery.syntax).toBe("proto3");
    expect([...discovery.dependency].sort()).toEqual([DURATION_FILE, TIMESTAMP_FILE]);
    expect(discovery.service.map((s) => s.name)).toEqual(["DiscoveryService"]);
    // Map entries are declared as strict descriptor pools require.
    const entry = messageOf(discovery, "Instance.MetadataEntry");
    expect(entry.options?.mapEntry).toBe(true);
    expect(entry.field.map((f) => [f.name, f.number])).toEqual([
      ["key", 1],
      ["value", 2],
    ]);
    await stream.end();
  });

  test.each([
    ["a method", "discovery.v1.DiscoveryService.Register"],
    ["a streaming method", "discovery.v1.DiscoveryService.Watch"],
    ["a message", "discovery.v1.Instance"],
    ["a field", "discovery.v1.Instance.load_percentage"],
    ["a map entry", "discovery.v1.Instance.MetadataEntry"],
    ["another map entry", "discovery.v1.RegisterRequest.MetadataEntry"],
    ["an enum", "discovery.v1.HealthStatus"],
    ["an enum value", "discovery.v1.HEALTH_STATUS_HEALTHY"],
    ["a proto3 optional's synthetic oneof", "discovery.v1.HeartbeatRequest._load_percentage"],
  ])("file_containing_symbol finds %s (%s)", async (_kind, symbol) => {
    const response = await stream.ask({ case: "fileContainingSymbol", value: symbol });
    const files = fileDescriptors(response);
    expect(files[0]?.name).toBe(DISCOVERY_FILE);
    expect(names(files).sort()).toEqual([DISCOVERY_FILE, DURATION_FILE, TIMESTAMP_FILE].sort());
    expect(response.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: symbol });
  });

  test("file_containing_symbol finds well-known types and the reflection API itself", async () => {
    const timestamp = fileDescriptors(await stream.ask({ case: "fileContainingSymbol", value: "google.protobuf.Timestamp" }));
    expect(names(timestamp)).toEqual([TIMESTAMP_FILE]);
    const reflection = fileDescriptors(
      await stream.ask({ case: "fileContainingSymbol", value: "grpc.reflection.v1alpha.ServerReflection" }),
    );
    expect(names(reflection)).toEqual(["grpc/reflection/v1alpha/reflection.proto"]);
    const health = fileDescriptors(await stream.ask({ case: "fileContainingSymbol", value: "grpc.health.v1.Health.Watch" }));
    expect(names(health)).toEqual(["grpc/health/v1/health.proto"]);
  });

  test("file_by_filename returns the file and its imports", async () => {
    const files = fileDescriptors(await stream.ask({ case: "fileByFilename", value: DISCOVERY_FILE }));
    expect(files[0]?.name).toBe(DISCOVERY_FILE);
    expect(names(files).sort()).toEqual([DISCOVERY_FILE, DURATION_FILE, TIMESTAMP_FILE].sort());
    expectClosed(files);

    const duration = fileDescriptors(await stream.ask({ case: "fileByFilename", value: DURATION_FILE }));
    expect(names(duration)).toEqual([DURATION_FILE]);
    expect(duration[0]?.messageType.map((m) => m.name)).toEqual(["Duration"]);
    await stream.end();
  });

  test("unknown symbols and files answer NOT_FOUND and the stream stays usable", async () => {
    const unknownSymbol = await stream.ask({ case: "fileContainingSymbol", value: "discovery.v1.NoSuchThing" });
    expect(unknownSymbol.messageResponse.case).toBe("errorResponse");
    if (unknownSymbol.messageResponse.case === "errorResponse") {
      expect(unknownSymbol.messageResponse.value.errorCode).toBe(NOT_FOUND);
      expect(unknownSymbol.messageResponse.value.errorMessage).toContain("discovery.v1.NoSuchThing");
    }
    expect(unknownSymbol.originalRequest?.messageRequest).toEqual({
      case: "fileContainingSymbol",
      value: "discovery.v1.NoSuchThing",
    });

    // The same stream answers the next request.
    const found = fileDescriptors(await stream.ask({ case: "fileContainingSymbol", value: "discovery.v1.Instance" }));
    expect(found[0]?.name).toBe(DISCOVERY_FILE);

    const unknownFile = await stream.ask({ case: "fileByFilename", value: "discovery/v1/nope.proto" });
    expect(unknownFile.messageResponse.case).toBe("errorResponse");
    if (unknownFile.messageResponse.case === "errorResponse") {
      expect(unknownFile.messageResponse.value.errorCode).toBe(NOT_FOUND);
    }

    const services = await stream.ask({ case: "listServices", value: "" });
    expect(services.messageResponse.case).toBe("listServicesResponse");
    await stream.end();
  });

  test("pipelined requests are answered in order", async () => {
    stream.send({ case: "fileByFilename", value: TIMESTAMP_FILE });
    stream.send({ case: "fileContainingSymbol", value: "no.such.Symbol" });
    stream.send({ case: "fileByFilename", value: DURATION_FILE });
    stream.send({ case: "listServices", value: "" });
    expect(names(fileDescriptors(await stream.next()))).toEqual([TIMESTAMP_FILE]);
    expect(summarize(await stream.next())).toMatch(/^error 5: /);
    expect(names(fileDescriptors(await stream.next()))).toEqual([DURATION_FILE]);
    expect((await stream.next()).messageResponse.case).toBe("listServicesResponse");
    await stream.end();
  });

  test("the returned descriptors build a registry with the whole DiscoveryService", async () => {
    const files = fileDescriptors(await stream.ask({ case: "fileContainingSymbol", value: DiscoveryService.typeName }));
    // The requested file comes first and its imports after it (as grpc-go and
    // grpc-java send them), so imports are resolved by name, as clients do.
    const byName = new Map(files.map((file) => [file.name, file]));
    const registry = createFileRegistry(files[0]!, (name) => byName.get(name));
    expect(registry.getFile(DISCOVERY_FILE)?.dependencies.map((f) => f.proto.name).sort()).toEqual([DURATION_FILE, TIMESTAMP_FILE]);

    const reflected = registry.getService(DiscoveryService.typeName);
    expect(reflected).toBeDefined();
    expect(reflected!.methods.map((m) => m.name)).toEqual(expect.arrayContaining(["Register", "Heartbeat", "Unregister", "ListHealthy", "ListInstances", "ListServices", "Watch"]));
    expect(reflected!.methods.map((m) => [m.name, m.methodKind, m.input.typeName, m.output.typeName])).toEqual(
      DiscoveryService.methods.map((m) => [m.name, m.methodKind, m.input.typeName, m.output.typeName]),
    );

    // Types resolve across files: maps, enums, well-known types, proto3 optional.
    const instance = registry.getMessage("discovery.v1.Instance")!;
    expect(instance.field.metadata?.fieldKind).toBe("map");
    expect(instance.field.status?.fieldKind).toBe("enum");
    expect(instance.field.registeredAt?.message?.typeName).toBe("google.protobuf.Timestamp");
    expect(instance.field.ttl?.message?.typeName).toBe("google.protobuf.Duration");
    expect(registry.getMessage("discovery.v1.RegisterRequest")!.field.loadPercentage?.proto.proto3Optional).toBe(true);
    expect(registry.getEnum("discovery.v1.HealthStatus")!.values.map((v) => v.name)).toEqual(HealthStatusSchema.values.map((v) => v.name));
  });
});

describe("a strict Python client (grpcio + protobuf's C++ DescriptorPool)", () => {
  const PYTHON = "/usr/bin/python3";
  const SCRIPT = path.join(__dirname, "..", "python", "reflection_client.py");
  const INSTALL_HINT = "install Debian's packages: apt-get update && apt-get install -y python3-grpcio python3-protobuf";

  function runPython(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(PYTHON, args, { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${PYTHON} (${error.message}); ${INSTALL_HINT}`));
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  test("fetches the API by reflection, builds its types, and calls Register and ListHealthy", async () => {
    const run = await runPython([SCRIPT, server.target]);
    if (run.code === 3) throw new Error(`${PYTHON} lacks grpc/protobuf: ${INSTALL_HINT}\n${run.stderr}`);
    if (run.code !== 0) throw new Error(`reflection_client.py exited with ${run.code}\n${run.stderr}${run.stdout}`);
    const lines = run.stdout.trim().split("\n");
    const result = JSON.parse(lines[lines.length - 1]!);

    expect(result.services.sort()).toEqual(EXPECTED_SERVICES);
    // One request was enough: the server sent every import along with the file.
    expect(result.files[0]).toBe(DISCOVERY_FILE);
    expect([...result.files].sort()).toEqual([DISCOVERY_FILE, DURATION_FILE, TIMESTAMP_FILE].sort());
    expect(result.extra_fetches).toEqual([]);
    expect(result.not_found_code).toBe(NOT_FOUND);
    expect(result.methods).toEqual(DiscoveryService.methods.map((m) => m.name));
    expect(result.instance_map_fields).toEqual(["metadata"]);

    // The call went through the reflected classes and reached the registry.
    expect(result.instance_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.instance).toMatchObject({
      service_name: "py-reflect",
      host: "10.1.2.3",
      port: 9000,
      metadata: { zone: "a" },
      load_percentage: 0.5,
    });
    // Enums and well-known types decode through the reflected descriptors too.
    expect(["HEALTH_STATUS_HEALTHY", "HEALTH_STATUS_DEGRADED"]).toContain(result.instance.status);
    expect(result.instance.ttl_seconds).toBeGreaterThan(0);
    expect(result.instance.registered_at_seconds).toBeGreaterThan(1_600_000_000);
    expect(result.heartbeat_interval_seconds).toBeGreaterThan(0);
    expect(result.listed).toBe(1);
    expect(result.listed_ids).toEqual([result.instance_id]);

    expect(server.store.get("py-reflect", result.instance_id)).toMatchObject({
      host: "10.1.2.3",
      port: 9000,
      metadata: { zone: "a" },
      load: 0.5,
    });
  });
});
