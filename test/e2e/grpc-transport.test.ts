// The gRPC transport on node:http2 (src/transport/grpc-http2/), checked against
// the protocol's edges with grpc-js clients and raw HTTP/2.
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { DiscoveryService, ListHealthyRequestSchema, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { Health } from "../../gen/grpc/health/v1/health_pb";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { waitFor } from "../helpers/wait-for";

let server: TestServer;
let client: GrpcTestClient<typeof DiscoveryService>;
beforeEach(async () => {
  server = await startTestServer();
  client = new GrpcTestClient(DiscoveryService, server.target);
});
afterEach(async () => {
  client.close();
  await server.close();
});

interface RawAnswer {
  status: number;
  grpcStatus?: string;
  grpcMessage?: string;
}

/** One raw HTTP/2 request; resolves with the HTTP status and the gRPC status from headers or trailers. */
function raw(headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${server.target}`);
    const stream = session.request({ ":method": "POST", "content-type": "application/grpc", te: "trailers", ...headers });
    const answer: RawAnswer = { status: 0 };
    const read = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) answer.grpcStatus = String(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) answer.grpcMessage = String(h["grpc-message"]);
    };
    stream.on("response", (h) => {
      answer.status = Number(h[":status"]);
      read(h);
    });
    stream.on("trailers", read);
    stream.on("data", () => {});
    stream.on("end", () => {
      session.close();
      resolve(answer);
    });
    stream.on("error", reject);
    stream.end(body);
  });
}

function frame(payload: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out[0] = flag;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

const listHealthy = frame(toBinary(ListHealthyRequestSchema, create(ListHealthyRequestSchema, { serviceName: "users" })));

test("an unknown method is UNIMPLEMENTED", async () => {
  const answer = await raw({ ":path": "/discovery.v1.DiscoveryService/Nope" }, listHealthy);
  expect(answer).toMatchObject({ status: 200, grpcStatus: String(GrpcStatus.UNIMPLEMENTED) });
  const unknownService = await raw({ ":path": "/no.Such/Method" }, listHealthy);
  expect(unknownService.grpcStatus).toBe(String(GrpcStatus.UNIMPLEMENTED));
});

test("a request that is not gRPC is refused at the HTTP level", async () => {
  expect((await raw({ ":path": "/discovery.v1.DiscoveryService/ListHealthy", "content-type": "text/plain" }, listHealthy)).status).toBe(415);
  expect((await raw({ ":path": "/discovery.v1.DiscoveryService/ListHealthy", ":method": "PUT" }, listHealthy)).status).toBe(405);
});

test("a message over 4 MiB is RESOURCE_EXHAUSTED; an unknown encoding UNIMPLEMENTED; bad gzip INTERNAL; garbage INVALID_ARGUMENT", async () => {
  const huge = Buffer.alloc(5);
  huge.writeUInt32BE(5 * 1024 * 1024, 1);
  expect((await raw({ ":path": "/discovery.v1.DiscoveryService/ListHealthy" }, huge)).grpcStatus).toBe(String(GrpcStatus.RESOURCE_EXHAUSTED));
  const compressed = frame(Buffer.from("not really gzip"), 1);
  // gzip and deflate are served (test/e2e/interop.test.ts); an encoding we do not know is refused.
  const snappy = await raw({ ":path": "/discovery.v1.DiscoveryService/ListHealthy", "grpc-encoding": "snappy" }, compressed);
  expect(snappy.grpcStatus).toBe(String(GrpcStatus.UNIMPLEMENTED));
  expect((await raw({ ":path": "/discovery.v1.DiscoveryService/ListHealthy", "grpc-encoding": "gzip" }, compressed)).grpcStatus).toBe(
    String(GrpcStatus.INTERNAL),
  );
  const garbage = frame(Buffer.from([0xff, 0xff, 0xff]));
  expect((await raw({ ":path": "/discovery.v1.DiscoveryService/ListHealthy" }, garbage)).grpcStatus).toBe(String(GrpcStatus.INVALID_ARGUMENT));
  const missing = await raw({ ":path": "/discovery.v1.DiscoveryService/ListHealthy" }, Buffer.alloc(0));
  // As connect-node answers the same mistake over gRPC-Web and Connect.
  expect(missing.grpcStatus).toBe(String(GrpcStatus.UNIMPLEMENTED));
});

test("the server ends a stream at its grpc-timeout with DEADLINE_EXCEEDED and releases its subscription", async () => {
  const watchRequest = frame(new Uint8Array(0));
  const started = Date.now();
  const answer = await raw({ ":path": "/discovery.v1.DiscoveryService/Watch", "grpc-timeout": "300m" }, watchRequest);
  expect(answer.grpcStatus).toBe(String(GrpcStatus.DEADLINE_EXCEEDED));
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  await waitFor(() => server.hub.watcherCount === 0, 2000, "subscription released");
});

test("a cancelled stream releases its subscription", async () => {
  const stream = client.serverStream(DiscoveryService.method.watch, {});
  const watch = new StreamReader<WatchEvent>(stream);
  await watch.next();
  stream.cancel();
  await waitFor(() => server.hub.watcherCount === 0, 2000, "subscription released");
});

test("error messages with non-ASCII text survive the trip (percent-encoded grpc-message)", async () => {
  const error = await client
    .unary(DiscoveryService.method.register, { serviceName: "users", host: "h", port: 1, metadata: { "clé": "v" } })
    .catch((e: { code: number; details: string }) => e);
  expect(error).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
  expect((error as { details: string }).details).toMatch(/^metadata\["clé"\]: key must be/);
});

test("many calls share one connection, interleaved with a stream", async () => {
  const health = new GrpcTestClient(Health, server.target);
  const watch = new StreamReader<WatchEvent>(client.serverStream(DiscoveryService.method.watch, {}));
  await watch.next();
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => client.unary(DiscoveryService.method.register, { serviceName: "users", instanceId: `i${i}`, host: "h", port: 1 })),
  );
  expect((await watch.take(200)).length).toBe(200);
  expect((await health.unary(Health.method.check, { service: "users" })).status).toBe(1);
  health.close();
});

test("a client that keeps sending after its request was refused is reset, not read forever", async () => {
  const session = http2.connect(`http://${server.target}`);
  const stream = session.request({ ":method": "POST", ":path": "/discovery.v1.DiscoveryService/ListHealthy", "content-type": "application/grpc", te: "trailers" });
  const header = Buffer.alloc(5);
  header.writeUInt32BE(10 * 1024 * 1024, 1); // a 10 MiB message: over the limit
  let status: string | undefined;
  stream.on("response", (h) => (status = h["grpc-status"] === undefined ? status : String(h["grpc-status"])));
  stream.on("trailers", (t) => (status = String(t["grpc-status"])));
  stream.on("data", () => {});
  stream.on("error", () => {});
  const closed = new Promise<number | undefined>((resolve) => stream.once("close", () => resolve(stream.rstCode)));
  stream.write(header);
  const chunk = Buffer.alloc(64 * 1024);
  const pump = setInterval(() => !stream.closed && stream.write(chunk), 5); // never half-closes
  const rstCode = await closed;
  clearInterval(pump);
  expect(status).toBe(String(GrpcStatus.RESOURCE_EXHAUSTED));
  expect(rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
  session.close();
});

test("a grpc-timeout longer than a timer can hold is no deadline at all", async () => {
  const started = Date.now();
  const answer = await Promise.race([
    raw({ ":path": "/discovery.v1.DiscoveryService/Watch", "grpc-timeout": "3000000S" }, frame(new Uint8Array(0))),
    new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), 500)),
  ]);
  expect(answer).toBe("still open");
  expect(Date.now() - started).toBeGreaterThanOrEqual(490);
});

test("a Watch that reaches its deadline is counted as DEADLINE_EXCEEDED in the metrics", async () => {
  await raw({ ":path": "/discovery.v1.DiscoveryService/Watch", "grpc-timeout": "100m" }, frame(new Uint8Array(0)));
  await waitFor(() => server.hub.watcherCount === 0, 2000, "subscription released");
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  expect(text).toMatch(/discovery_rpc_total\{method="discovery\.v1\.DiscoveryService\/Watch",code="DEADLINE_EXCEEDED"\} 1/);
});
