// Output is safe: validation refuses control characters in host and metadata
// and reserved metadata keys (naming the field, changing nothing), and the CLI
// escapes what could still drive a terminal (bidirectional overrides).
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { RegisterRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { runCli, spawnCli } from "../helpers/cli-run";
import { discoveryClient, PROTOCOLS } from "../helpers/rpc-clients";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "OK";
  } catch (error) {
    const e = ConnectError.from(error);
    return `${Code[e.code]}: ${e.rawMessage}`;
  }
};

describe.each(PROTOCOLS)("validation over %s", (protocol) => {
  const register = (fields: { host?: string; metadata?: Record<string, string> }) =>
    discoveryClient(protocol, server.baseUrl).register({ serviceName: "svc", instanceId: "x", host: "h", port: 1, ...fields });

  test.each([
    ["ESC in host", { host: "evil\u001b[2J" }, 'host: must not contain control characters'],
    ["BEL in host", { host: "a\u0007b" }, "host: must not contain control characters"],
    ["a C1 CSI in host", { host: "a\u009bb" }, "host: must not contain control characters"],
    ["ESC in a metadata value", { metadata: { zone: "eu\u001b]0;pwned\u0007" } }, 'metadata["zone"]: value must not contain control characters'],
    ["a control character in a metadata key", { metadata: { "k\u001b": "v" } }, 'metadata["k\\u001b"]: key must be'],
    ["the reserved key constructor", { metadata: { constructor: "v" } }, 'metadata["constructor"]: key is reserved'],
  ])("%s is INVALID_ARGUMENT naming the field, and nothing is stored", async (_name, fields, message) => {
    expect(await refusal(register(fields))).toContain(`InvalidArgument: ${message}`);
    expect(server.store.instanceCount).toBe(0);
  });
});

test("metadata key __proto__ is refused over gRPC, not silently dropped", async () => {
  // Encoded by hand: a client's own protobuf library drops the key before sending, as ours did on receipt.
  const base = toBinary(RegisterRequestSchema, create(RegisterRequestSchema, { serviceName: "svc", instanceId: "p", host: "h", port: 1 }));
  const key = Buffer.from("__proto__");
  const entry = Buffer.concat([Buffer.from([0x0a, key.length]), key, Buffer.from([0x12, 1]), Buffer.from("v")]);
  const bytes = Buffer.concat([base, Buffer.from([0x32, entry.length]), entry]);
  const client = new grpc.Client(server.target, grpc.credentials.createInsecure());
  try {
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest("/discovery.v1.DiscoveryService/Register", (b: Buffer) => b, (b: Buffer) => b, bytes, (e) => resolve(e)),
    );
    expect(error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'metadata["__proto__"]: key is reserved' });
    expect(server.store.instanceCount).toBe(0);
  } finally {
    client.close();
  }
});

describe("metadata key __proto__ over HTTP/1.1 is refused too, not silently dropped", () => {
  const base = toBinary(RegisterRequestSchema, create(RegisterRequestSchema, { serviceName: "svc", instanceId: "p", host: "h", port: 1 }));
  const key = Buffer.from("__proto__");
  const entry = Buffer.concat([Buffer.from([0x0a, key.length]), key, Buffer.from([0x12, 1]), Buffer.from("v")]);
  const binary = Buffer.concat([base, Buffer.from([0x32, entry.length]), entry]);
  const enveloped = Buffer.concat([Buffer.from([0, 0, 0, 0, binary.length]), binary]);
  const json = Buffer.from('{"serviceName":"svc","instanceId":"p","host":"h","port":1,"metadata":{"__proto__":"v","zone":"a"}}');
  const rpc = "/discovery.v1.DiscoveryService/Register";

  /** The error message: from the JSON body (Connect, REST) or grpc-message (gRPC-Web, headers or body trailers). */
  const errorOf = async (response: Response) => {
    const text = Buffer.from(await response.arrayBuffer()).toString("latin1");
    if (!(response.headers.get("content-type") ?? "").startsWith("application/grpc-web")) return `${response.status} ${(JSON.parse(text) as { message: string }).message}`;
    const status = response.headers.get("grpc-status") ?? /grpc-status: *(\d+)/.exec(text)?.[1];
    const message = response.headers.get("grpc-message") ?? /grpc-message: *([^\r]*)/.exec(text)?.[1] ?? "";
    return `grpc-status ${status} ${decodeURIComponent(message)}`;
  };

  test.each([
    ["Connect JSON", rpc, "application/json", json, "400"],
    ["Connect binary", rpc, "application/proto", binary, "400"],
    ["gRPC-Web", rpc, "application/grpc-web+proto", enveloped, `grpc-status ${grpc.status.INVALID_ARGUMENT}`],
    ["REST", "/v1/discovery/register", "application/json", json, "400"],
  ])("%s: INVALID_ARGUMENT naming the key, nothing stored", async (_name, path, contentType, body, status) => {
    const response = await fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { "content-type": contentType }, body });
    expect(await errorOf(response)).toBe(`${status} metadata["__proto__"]: key is reserved`);
    expect(server.store.get("svc", "p")).toBeUndefined();
  });
});

describe("the CLI", () => {
  const addr = () => ["--addr", server.target];
  beforeAll(async () => {
    // Allowed by validation (not a control character) but able to reorder what a terminal shows.
    await discoveryClient("grpc", server.baseUrl).register({ serviceName: "bidi", instanceId: "b1", host: "10.0.0.1", port: 80, metadata: { note: "abc\u202edef" } });
  });

  test("`instances` prints a bidirectional override as an escape", async () => {
    const result = await runCli(["instances", "bidi", ...addr()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("note=abc\\u202edef");
    expect(result.stdout).not.toContain("\u202e");
    const json = await runCli(["instances", "bidi", "--json", ...addr()]);
    expect(json.stdout).not.toContain("\u202e");
    expect((JSON.parse(json.stdout) as { instances: { metadata: Record<string, string> }[] }).instances[0]!.metadata.note).toBe("abc\u202edef");
  });

  test("`watch --json` escapes it too and stays valid JSON", async () => {
    const watch = spawnCli(["watch", "bidi", "--json", ...addr()]);
    try {
      const line = await watch.waitForLine(/EVENT_TYPE_SNAPSHOT/);
      expect(line).not.toContain("\u202e");
      expect(line).toContain("\\u202e");
      expect((JSON.parse(line) as { instance: { metadata: Record<string, string> } }).instance.metadata.note).toBe("abc\u202edef");
    } finally {
      watch.child.kill("SIGKILL");
    }
  });
});
