// gRPC conformance: the required cases of grpc's interop test descriptions
// against grpc.testing.TestService mounted on our transport, driven by a
// grpc-js client (in process) and Debian's python3-grpcio (a child process),
// plus the compressed cases with gzip and with deflate, the compression flags
// and limits read straight off the wire, and why each Python case has a
// connection of its own.
import { execFile } from "node:child_process";
import * as http2 from "node:http2";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SimpleRequestSchema, SimpleResponseSchema } from "../gen/grpc/testing/messages_pb";
import { frameBytes } from "../../src/transport/codec";
import { FRAME, parseFrames, rawConnection, rstStream } from "../helpers/raw-h2";
import { CASES, COMPRESSED_CASES } from "../interop/grpc-js-cases";
import { startInteropServer, type InteropServer } from "../interop/interop-server";

const REQUIRED = [
  "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream", "cancel_after_begin",
  "cancel_after_first_response", "timeout_on_sleeping_server", "custom_metadata", "status_code_and_message",
  "special_status_message", "unimplemented_method", "unimplemented_service",
];
const ALGORITHMS = ["gzip", "deflate"] as const;

interface PythonResult {
  case: string;
  ok: boolean;
  error?: string;
}

/** Runs the Python client's cases in one process; one result per case. */
function runPython(port: number, compression: string, cases: string[]): Promise<Map<string, PythonResult>> {
  const script = path.join(__dirname, "../interop/python_client.py");
  return new Promise((resolve, reject) => {
    execFile("/usr/bin/python3", [script, String(port), compression, ...cases], { timeout: 60_000 }, (error, stdout, stderr) => {
      const results = new Map<string, PythonResult>();
      for (const line of stdout.split("\n").filter(Boolean)) {
        const result = JSON.parse(line) as PythonResult;
        results.set(result.case, result);
      }
      if (error !== null && results.size === 0) reject(new Error(`python client failed: ${error.message}\n${stderr}`));
      else resolve(results);
    });
  });
}

/**
 * Every case, by both clients, against TestService on one transport. The
 * compressed cases run on ours: grpc-js's Server (1.14) does not compress answers.
 */
function interopSuite(kind: "http2" | "grpc-js", compressed: readonly string[]): void {
  let server: InteropServer;
  beforeAll(async () => {
    server = await startInteropServer(kind);
  });
  afterAll(() => server.close());

  describe("grpc-js client", () => {
    test.each(REQUIRED)("%s", (name) => CASES[name]!({ port: server.port }));
    for (const compression of ALGORITHMS) {
      if (compressed.length > 0) test.each(compressed)(`%s (${compression})`, (name) => CASES[name]!({ port: server.port, compression }));
    }
  });

  describe("python grpcio client", () => {
    const results = new Map<string, PythonResult>();
    let connectionsOpened = 0;
    beforeAll(async () => {
      const before = server.connections;
      for (const [name, result] of await runPython(server.port, "gzip", [...REQUIRED, ...compressed])) results.set(`${name} (gzip)`, result);
      connectionsOpened = server.connections - before;
      if (compressed.length > 0) for (const [name, result] of await runPython(server.port, "deflate", [...compressed])) results.set(`${name} (deflate)`, result);
    }, 90_000);
    const expectOk = (key: string) => {
      const result = results.get(key);
      expect(result?.error).toBeUndefined();
      expect(result?.ok).toBe(true);
    };
    test.each(REQUIRED)("%s", (name) => expectOk(`${name} (gzip)`));
    for (const compression of ALGORITHMS) {
      if (compressed.length > 0) test.each(compressed)(`%s (${compression})`, (name) => expectOk(`${name} (${compression})`));
    }
    // grpcio shares one connection between channels to a target; a case that
    // has its connection ended (see "a RST_STREAM for a stream never opened")
    // then failed the next case's calls with UNAVAILABLE "GOAWAY received".
    test("each case runs on connections of its own, as in grpc's interop runner", () => {
      expect(connectionsOpened).toBeGreaterThanOrEqual(REQUIRED.length + compressed.length);
    });
  });
}

describe("TestService on our transport", () => interopSuite("http2", COMPRESSED_CASES));
describe("TestService on grpc-js's Server through the same seam", () => interopSuite("grpc-js", []));

interface WireAnswer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  /** Each response message's compressed flag and payload (as sent). */
  frames: { flag: number; payload: Buffer }[];
}

const frame = (payload: Uint8Array, flag = 0) => frameBytes(payload, flag === 1);

/** One UnaryCall over raw HTTP/2, so the frames' compressed flags can be read. */
function unaryOnTheWire(port: number, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": "/grpc.testing.TestService/UnaryCall", "content-type": "application/grpc", te: "trailers", ...headers });
    const answer: WireAnswer = { headers: {}, trailers: {}, frames: [] };
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (answer.headers = h));
    stream.on("trailers", (t) => (answer.trailers = t));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("close", () => {
      let rest = Buffer.concat(chunks);
      while (rest.length >= 5) {
        const length = rest.readUInt32BE(1);
        answer.frames.push({ flag: rest[0]!, payload: rest.subarray(5, 5 + length) });
        rest = rest.subarray(5 + length);
      }
      session.close();
      resolve(answer);
    });
    stream.end(body);
  });
}

const request = (init: Parameters<typeof create<typeof SimpleRequestSchema>>[1]) => toBinary(SimpleRequestSchema, create(SimpleRequestSchema, init));

describe("compression on the wire (our transport)", () => {
  let server: InteropServer;
  beforeAll(async () => {
    server = await startInteropServer("http2");
  });
  afterAll(() => server.close());
  const port = () => server.port;

  test.each(ALGORITHMS)("response_compressed sets the compressed flag and grpc-encoding (%s); without it the flag is clear", async (encoding) => {
    const accept = { "grpc-accept-encoding": "identity,deflate,gzip", "grpc-encoding": encoding };
    const body = (responseCompressed: boolean) => {
      const bytes = request({ responseSize: 1000, responseCompressed: { value: responseCompressed } });
      return frame(encoding === "gzip" ? zlib.gzipSync(bytes) : zlib.deflateSync(bytes), 1);
    };
    const compressed = await unaryOnTheWire(port(), accept, body(true));
    expect(compressed.trailers["grpc-status"]).toBe("0");
    expect(compressed.headers["grpc-encoding"]).toBe(encoding);
    expect(compressed.frames.map((f) => f.flag)).toEqual([1]);
    const inflated = encoding === "gzip" ? zlib.gunzipSync(compressed.frames[0]!.payload) : zlib.inflateSync(compressed.frames[0]!.payload);
    expect(fromBinary(SimpleResponseSchema, inflated).payload?.body.length).toBe(1000);

    const plain = await unaryOnTheWire(port(), accept, body(false));
    expect(plain.frames.map((f) => f.flag)).toEqual([0]);
    expect(plain.headers["grpc-encoding"]).toBeUndefined();
  });

  test("a client that does not accept the handler's encoding gets the answer uncompressed", async () => {
    const answer = await unaryOnTheWire(port(), { "grpc-accept-encoding": "identity" }, frame(request({ responseSize: 10, responseCompressed: { value: true } })));
    expect(answer.trailers["grpc-status"]).toBe("0");
    expect(answer.frames.map((f) => f.flag)).toEqual([0]);
  });

  test("every answer advertises grpc-accept-encoding", async () => {
    const answer = await unaryOnTheWire(port(), {}, frame(request({ responseSize: 1 })));
    expect(String(answer.headers["grpc-accept-encoding"]).split(",")).toEqual(expect.arrayContaining(["gzip", "deflate", "identity"]));
  });

  test("a small compressed message that inflates past the receive limit is RESOURCE_EXHAUSTED, not held", async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(5 * 1024 * 1024)); // about 5 KB on the wire
    const answer = await unaryOnTheWire(port(), { "grpc-encoding": "gzip" }, frame(bomb, 1));
    expect(answer.headers["grpc-status"] ?? answer.trailers["grpc-status"]).toBe("8");
    expect(String(answer.headers["grpc-message"] ?? answer.trailers["grpc-message"])).toMatch(/decompressed request message is larger than the limit/);
  });

  test("a compressed flag without grpc-encoding is UNIMPLEMENTED, as on the other transports", async () => {
    const answer = await unaryOnTheWire(port(), {}, frame(zlib.gzipSync(request({ responseSize: 1 })), 1));
    expect(answer.headers["grpc-status"] ?? answer.trailers["grpc-status"]).toBe("12");
  });
});

/**
 * What grpcio 1.51 (Debian's) sends when a deadline or a cancel beats its
 * HEADERS write (grpc/grpc#38758, fixed upstream in 2025 by grpc/grpc#38881):
 * RST_STREAM for a stream the server never saw. RFC 9113 section 6.4 makes that
 * a connection error, so node:http2 (under both transports) answers GOAWAY and
 * ends the connection, and every call on it.
 */
describe.each(["http2", "grpc-js"] as const)("a RST_STREAM for a stream never opened (%s)", (kind) => {
  let server: InteropServer;
  beforeAll(async () => {
    server = await startInteropServer(kind);
  });
  afterAll(() => server.close());

  test("ends that connection with GOAWAY; the server serves the next one", async () => {
    const { socket, received, closed } = await rawConnection(server.port);
    socket.write(rstStream(1));
    await closed;
    const goaway = parseFrames(received()).find((f) => f.type === FRAME.GOAWAY);
    expect(goaway).toBeDefined();
    expect(goaway!.payload.readUInt32BE(0)).toBe(0); // the last stream processed: none
    const answer = await unaryOnTheWire(server.port, {}, frame(request({ responseSize: 1 })));
    expect(answer.trailers["grpc-status"]).toBe("0");
  });
});
