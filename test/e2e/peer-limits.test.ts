// What one peer may make the server hold or keep open (issue 9, item 2), each
// limit through its setting, over real sockets: slow headers and idle
// connections on both protocols, SETTINGS_MAX_CONCURRENT_STREAMS, GOAWAY,
// grpc-message length, grpc-timeout 0, and a `__proto__` metadata key.
import * as http2 from "node:http2";
import * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { DiscoveryService, ListServicesRequestSchema, RegisterRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { FRAME, frame, grpcHeaders, grpcMessage, parseFrames, pause, rawConnection } from "../helpers/raw-h2";
import { GrpcTestClient } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { grpcCall } from "../helpers/wire-calls";
import { waitFor } from "../helpers/wait-for";

const LIST_SERVICES = "/discovery.v1.DiscoveryService/ListServices";
const REGISTER = "/discovery.v1.DiscoveryService/Register";
const EMPTY_LIST = grpcMessage(toBinary(ListServicesRequestSchema, create(ListServicesRequestSchema)));

let server: TestServer;
afterEach(async () => {
  await server?.close();
});

function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe("HTTP_BODY_TIMEOUT_SECONDS", () => {
  beforeEach(async () => {
    server = await startTestServer({ peerLimits: { bodyTimeoutMs: 800 } });
  });

  const body = '{"serviceName":"users","host":"10.0.0.1","port":8080,"instanceId":"slow"}';
  /** Sends the headers at once, then the body a byte every `everyMs`; resolves with the answer's first bytes, or "closed". */
  const trickle = (path: string, everyMs: number) =>
    new Promise<string>((resolve) => {
      const socket = net.connect(server.port, "127.0.0.1");
      socket.on("error", () => {});
      let answer = "";
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
      socket.write(`POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      let sent = 0;
      const timer = setInterval(() => (sent < body.length ? socket.write(body[sent++]!) : clearInterval(timer)), everyMs);
      socket.on("close", () => {
        clearInterval(timer);
        resolve(answer === "" ? "closed" : answer.split("\r\n", 1)[0]!);
      });
      socket.on("data", () => socket.end());
    });

  test.each([["Connect", "/discovery.v1.DiscoveryService/Register"], ["REST", "/v1/discovery/register"]])(
    "%s: a body trickled a byte every 100 ms is dropped with its connection, and nothing is stored",
    async (_name, path) => {
      expect(await trickle(path, 100)).toBe("closed");
      expect(server.store.get("users", "slow")).toBeUndefined();
    },
  );

  test("a body that arrives in pieces within the timeout is served", async () => {
    expect(await trickle("/discovery.v1.DiscoveryService/Register", 0)).toBe("HTTP/1.1 200 OK");
    expect(server.store.get("users", "slow")).toBeDefined();
  });
});

describe("HTTP_HEADERS_TIMEOUT_SECONDS and HTTP_IDLE_TIMEOUT_SECONDS", () => {
  beforeEach(async () => {
    server = await startTestServer({ peerLimits: { headersTimeoutMs: 300, idleTimeoutMs: 400, goawayGraceMs: 300 } });
  });

  test("an HTTP/1.1 connection whose headers never finish is closed (slowloris)", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /metrics HTTP/1.1\r\nHost: test\r\nX-Slow: ");
    expect(await closedWithin(socket, 3000)).toBe(true);
  });

  test("an HTTP/1.1 keep-alive connection left idle after its response is closed", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    const answered = new Promise<void>((resolve) => socket.once("data", () => resolve()));
    socket.write("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
    await answered;
    expect(await closedWithin(socket, 3000)).toBe(true);
  });

  test("an HTTP/2 connection that opens no stream is sent GOAWAY and closed", async () => {
    const { socket, received, closed } = await rawConnection(server.port);
    await Promise.race([closed, pause(3000)]);
    expect(socket.destroyed || socket.readableEnded).toBe(true);
    expect(parseFrames(received()).some((f) => f.type === FRAME.GOAWAY)).toBe(true);
  });

  test("an HTTP/2 connection idle after its calls is closed; one with an open stream is not", async () => {
    const idle = http2.connect(`http://127.0.0.1:${server.port}`);
    const busy = http2.connect(`http://127.0.0.1:${server.port}`);
    const idleClosed = new Promise<void>((resolve) => idle.once("close", () => resolve()));
    const busyClosed = new Promise<string>((resolve) => busy.once("close", () => resolve("closed")));
    idle.on("error", () => {});
    busy.on("error", () => {});
    expect((await callOn(idle, LIST_SERVICES, EMPTY_LIST)).code).toBe(0);
    const watch = busy.request({ ":method": "POST", ":path": "/discovery.v1.DiscoveryService/Watch", "content-type": "application/grpc", te: "trailers" });
    watch.on("data", () => {});
    watch.on("error", () => {});
    watch.end(grpcMessage(new Uint8Array()));
    await idleClosed;
    expect(await Promise.race([busyClosed, pause(1000).then(() => "open")])).toBe("open");
    busy.destroy();
  });
});

describe("HTTP2_MAX_CONCURRENT_STREAMS", () => {
  test("is announced in SETTINGS and streams past it are refused", async () => {
    server = await startTestServer({ peerLimits: { http2MaxConcurrentStreams: 3 } });
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    await new Promise<void>((resolve) => session.once("remoteSettings", () => resolve()));
    expect(session.remoteSettings.maxConcurrentStreams).toBe(3);
    session.destroy();

    // A peer that ignores the setting: five Watch streams at once on raw frames.
    const { socket, received } = await rawConnection(server.port);
    const ids = [1, 3, 5, 7, 9];
    socket.write(Buffer.concat(ids.map((id) => Buffer.concat([grpcHeaders("/discovery.v1.DiscoveryService/Watch", {}, id), frame(FRAME.DATA, 1, id, grpcMessage(new Uint8Array()))]))));
    const refused = await waitFor(() => {
      const resets = parseFrames(received()).filter((f) => f.type === FRAME.RST_STREAM && f.payload.readUInt32BE(0) === 7 /* REFUSED_STREAM */);
      return resets.length >= 2 ? resets.map((f) => f.streamId) : undefined;
    }, 3000, "REFUSED_STREAM for the streams past the limit");
    expect(refused.sort()).toEqual([7, 9]);
    socket.destroy();
  });
});

describe("HTTP2_GOAWAY_GRACE_SECONDS", () => {
  test("a connection whose peer sent GOAWAY with a stream still open is closed after the grace period", async () => {
    server = await startTestServer({ http2KeepAliveMs: 0, peerLimits: { goawayGraceMs: 500 } });
    const { socket, closed } = await rawConnection(server.port);
    expect((await callRaw(socket)).length).toBeGreaterThan(0);
    // A Watch on stream 3 never ends by itself.
    socket.write(Buffer.concat([grpcHeaders("/discovery.v1.DiscoveryService/Watch", {}, 3), frame(FRAME.DATA, 1, 3, grpcMessage(new Uint8Array()))]));
    await waitFor(() => server.hub.watcherCount === 1, 3000, "the watch to start");
    const goaway = Buffer.alloc(8);
    goaway.writeUInt32BE(0, 0); // last stream id: the server opened none
    socket.write(frame(FRAME.GOAWAY, 0, 0, goaway));
    expect(await Promise.race([closed.then(() => "closed"), pause(3000).then(() => "open")])).toBe("closed");
  });
});

describe("grpc-message and grpc-timeout", () => {
  beforeEach(async () => {
    server = await startTestServer();
  });

  test("a 60 KB :path is not echoed whole in grpc-message", async () => {
    const path = `/discovery.v1.DiscoveryService/${"x".repeat(60_000)}`;
    const answer = await grpcCall(server.port, path, EMPTY_LIST);
    expect(answer.code).toBe(Code.Unimplemented);
    expect(answer.message!.length).toBeLessThanOrEqual(1024);
  });

  test("grpc-timeout: 0n answers DEADLINE_EXCEEDED and runs no handler (nothing is registered)", async () => {
    const register = create(RegisterRequestSchema, { serviceName: "users", host: "10.0.0.1", port: 8080, instanceId: "late" });
    const answer = await grpcCall(server.port, REGISTER, grpcMessage(toBinary(RegisterRequestSchema, register)), { "grpc-timeout": "0n" });
    expect(answer.code).toBe(Code.DeadlineExceeded);
    expect([...server.store.instancesOf("users")]).toEqual([]);
  });

  test("a metadata key __proto__ does not crash the server on either transport", async () => {
    const client = new GrpcTestClient(DiscoveryService, server.target);
    try {
      await client.unary(DiscoveryService.method.register, { serviceName: "users", host: "10.0.0.1", port: 8080, instanceId: "p" }, { metadata: { __proto__: "x" } as Record<string, string> }).catch(() => undefined);
      const response = await fetch(`${server.baseUrl}/discovery.v1.DiscoveryService/Register`, {
        method: "POST",
        headers: { "content-type": "application/json", "connect-protocol-version": "1" },
        body: '{"serviceName":"users","host":"10.0.0.1","port":8080,"instanceId":"q","metadata":{"__proto__":"x","zone":"a"}}',
      });
      expect(response.status).not.toBe(500);
      expect((await client.unary(DiscoveryService.method.listServices, {})).services.length).toBeGreaterThanOrEqual(0);
    } finally {
      client.close();
    }
  });
});

/** One unary call on an existing session. */
function callOn(session: http2.ClientHttp2Session, path: string, body: Buffer): Promise<{ code: number | undefined }> {
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    let code: number | undefined;
    stream.on("response", (h) => h["grpc-status"] !== undefined && (code = Number(h["grpc-status"])));
    stream.on("trailers", (h) => h["grpc-status"] !== undefined && (code = Number(h["grpc-status"])));
    stream.on("data", () => {});
    stream.on("close", () => resolve({ code }));
    stream.end(body);
  });
}

/** A complete ListServices on stream 1 of a raw connection; resolves with the bytes received so far. */
async function callRaw(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.write(Buffer.concat([grpcHeaders(LIST_SERVICES), frame(FRAME.DATA, 1, 1, EMPTY_LIST)]));
  await waitFor(() => parseFrames(Buffer.concat(chunks)).some((f) => f.streamId === 1 && (f.flags & 1) === 1), 3000, "the answer on stream 1");
  return Buffer.concat(chunks);
}
