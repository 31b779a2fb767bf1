// No client action crashes the server (issue 9, item 1): calls cancelled or cut
// off between their message and their end, from hand-built HTTP/2 frames and from
// a stock grpcio client, against the real server process.
import * as path from "node:path";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { ROOT, spawnChild } from "../helpers/child-process";
import { startServerProcess, type ServerProcess } from "../helpers/cli-process";
import { GrpcTestClient } from "../helpers/grpc-client";
import { FRAME, frame, grpcHeaders, grpcMessage, pause, rawConnection, rstStream } from "../helpers/raw-h2";

const CALLS = [
  "/discovery.v1.DiscoveryService/ListServices",
  "/discovery.v1.DiscoveryService/ListHealthy",
  "/discovery.v1.DiscoveryService/Watch",
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
];

let server: ServerProcess;
beforeEach(async () => {
  server = await startServerProcess();
});
afterEach(async () => {
  server.child.kill("SIGKILL");
  await server.exited;
});

/** The server still answers, and did not exit or log an error. */
async function expectServing(): Promise<void> {
  const client = new GrpcTestClient(DiscoveryService, `127.0.0.1:${server.port}`);
  try {
    const exitedEarly = server.exited.then((code) => {
      throw new Error(`the server exited (${String(code)}): ${server.stderr.join("")}`);
    });
    await Promise.race([client.unary(DiscoveryService.method.listServices, {}), exitedEarly]);
  } finally {
    client.close();
  }
  expect(server.logs.filter((entry) => (entry.level as number) >= 50)).toEqual([]);
}

describe.each(CALLS)("%s", (callPath) => {
  test("a message and a RST_STREAM arriving together do not crash the server", async () => {
    const { socket } = await rawConnection(server.port);
    socket.write(grpcHeaders(callPath));
    await pause(50); // the stream is open and read before the rest arrives
    socket.write(Buffer.concat([frame(FRAME.DATA, 0, 1, grpcMessage(new Uint8Array())), rstStream(1)]));
    await pause(100);
    socket.destroy();
    await expectServing();
  });

  test("a message followed by the connection closing does not crash the server", async () => {
    const { socket } = await rawConnection(server.port);
    socket.write(grpcHeaders(callPath));
    await pause(50);
    socket.end(frame(FRAME.DATA, 0, 1, grpcMessage(new Uint8Array())));
    await pause(100);
    socket.destroy();
    await expectServing();
  });
});

test("grpcio stream_unary then cancel(), repeated, leaves the server serving", async () => {
  const script = path.join(ROOT, "test/python/cancel_stream_unary.py");
  for (const callPath of ["/discovery.v1.DiscoveryService/ListServices", "/grpc.health.v1.Health/Check"]) {
    const child = spawnChild("/usr/bin/python3", [script, `127.0.0.1:${server.port}`, callPath, "10"]);
    await child.waitForLine(/^done$/, 20_000);
    await child.exited;
  }
  await expectServing();
});
