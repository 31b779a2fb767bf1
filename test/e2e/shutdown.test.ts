// Shutdown: health turns NOT_SERVING, Watch streams end with UNAVAILABLE so
// clients reconnect elsewhere, and the process exits 0 within 5 s of SIGTERM.
import { status as GrpcStatus } from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DiscoveryService, EventType, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { startServerProcess } from "../helpers/cli-process";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { startTestServer } from "../helpers/server-fixture";

test("close() ends gRPC and Connect Watch streams with UNAVAILABLE and stops accepting", async () => {
  const server = await startTestServer();
  const grpcClient = new GrpcTestClient(DiscoveryService, server.target);
  const grpcWatch = new StreamReader<WatchEvent>(grpcClient.serverStream(DiscoveryService.method.watch, {}));
  expect((await grpcWatch.next()).type).toBe(EventType.SYNCED);
  const connect = createClient(DiscoveryService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
  const connectWatch = connect.watch({})[Symbol.asyncIterator]();
  expect((await connectWatch.next()).value?.type).toBe(EventType.SYNCED);

  const started = Date.now();
  await server.close();
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(await grpcWatch.finished()).toMatchObject({ code: GrpcStatus.UNAVAILABLE });
  const connectError = await connectWatch.next().catch((e: unknown) => ConnectError.from(e));
  expect(connectError).toMatchObject({ code: Code.Unavailable });
  await expect(fetch(`${server.baseUrl}/discovery.v1.DiscoveryService/ListServices`, { method: "POST" })).rejects.toThrow();
  grpcClient.close();
});

test("the process exits 0 on SIGTERM within 5 s, ending an open Watch with UNAVAILABLE", async () => {
  const proc = await startServerProcess();
  const client = new GrpcTestClient(DiscoveryService, `127.0.0.1:${proc.port}`);
  await client.unary(DiscoveryService.method.register, { serviceName: "users", instanceId: "u1", host: "h", port: 1 });
  const watch = new StreamReader<WatchEvent>(client.serverStream(DiscoveryService.method.watch, {}));
  await watch.take(2);
  const started = Date.now();
  proc.child.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(await watch.finished()).toMatchObject({ code: GrpcStatus.UNAVAILABLE });
  expect(proc.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(["registered users/u1", "shutting down", "stopped"]));
  client.close();
});

test("SIGINT stops it the same way", async () => {
  const proc = await startServerProcess();
  proc.child.kill("SIGINT");
  expect(await proc.exited).toBe(0);
});

test("a bad setting stops the process at start with a message naming the variable", async () => {
  await expect(startServerProcess({ CRITICAL_LOAD_THRESHOLD: "high" })).rejects.toThrow(
    /CRITICAL_LOAD_THRESHOLD must be a number from 0 to 1 \(got "high"\)/,
  );
});

test("on loopback without a secret it starts with no warning (beyond loopback: see config.test.ts)", async () => {
  const proc = await startServerProcess();
  proc.child.kill("SIGTERM");
  await proc.exited;
  expect(proc.logs.filter((l) => (l.level as number) >= 40)).toEqual([]);
});
