// Shutdown is one AbortSignal: the hub, the health board, the prober and every
// KeepAlive, Watch and xDS stream subscribe to it, so close() only has connections
// left to drain; and both transports hand it to handlers as `shutdownSignal`.
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { status as GrpcStatus } from "@grpc/grpc-js";
import pino from "pino";
import { DiscoveryService, HeartbeatRequestSchema, type HeartbeatResponse, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving, type HealthCheckResponse } from "../../gen/grpc/health/v1/health_pb";
import { AggregatedDiscoveryService } from "../../gen/envoy/service/discovery/v3/ads_pb";
import { DiscoveryRequestSchema, type DiscoveryResponse } from "../../gen/envoy/service/discovery/v3/discovery_pb";
import type { Handlers } from "../../src/transport/contract";
import type { Transport } from "../../src/transport/contract";
import { createGrpcJsTransport } from "../../src/transport/grpc-js/transport";
import { GrpcHttp2Server } from "../../src/transport/grpc-http2/server";
import { createHttpHandler } from "../../src/transport/http1/handler";
import { spawnCli } from "../helpers/cli-run";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { startTestServer } from "../helpers/server-fixture";

const LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener";

test("aborting the one signal ends KeepAlive, Watch and xDS streams with UNAVAILABLE, marks no kept instance lost, and close() needs no grace", async () => {
  // A grace far longer than the test: close() only resolves early if every call ended by itself.
  const server = await startTestServer({ shutdownGraceMs: 60_000 });
  const client = new GrpcTestClient(DiscoveryService, server.target);
  const health = new GrpcTestClient(Health, server.target);
  const ads = new GrpcTestClient(AggregatedDiscoveryService, server.target);
  try {
    await client.unary(DiscoveryService.method.register, { serviceName: "users", instanceId: "u1", host: "h", port: 1 });
    const keepAlive = client.bidiStream(DiscoveryService.method.keepAlive);
    const answers = new StreamReader<HeartbeatResponse>(keepAlive);
    keepAlive.write(create(HeartbeatRequestSchema, { serviceName: "users", instanceId: "u1" }));
    await answers.next();
    const watch = new StreamReader<WatchEvent>(client.serverStream(DiscoveryService.method.watch, {}));
    await watch.take(2); // the instance, then SYNCED
    const healthWatch = new StreamReader<HealthCheckResponse>(health.serverStream(Health.method.watch, { service: "" }));
    expect((await healthWatch.next()).status).toBe(Serving.SERVING);
    const adsCall = ads.bidiStream(AggregatedDiscoveryService.method.streamAggregatedResources);
    const adsAnswers = new StreamReader<DiscoveryResponse>(adsCall);
    adsCall.write(create(DiscoveryRequestSchema, { typeUrl: LISTENER_TYPE, resourceNames: ["users"] }));
    expect((await adsAnswers.next()).typeUrl).toBe(LISTENER_TYPE);
    const events: string[] = [];
    server.store.onEvent((event) => events.push(event.type));

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.shutdownSignal.aborted).toBe(true);

    expect(await answers.finished()).toMatchObject({ code: GrpcStatus.UNAVAILABLE, details: expect.stringMatching(/shutting down/) });
    expect(await watch.finished()).toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    expect((await healthWatch.next()).status).toBe(Serving.NOT_SERVING);
    expect(await healthWatch.finished()).toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    expect(await adsAnswers.finished()).toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    // The server left, not the peer: its instance was not marked lost.
    expect(server.store.get("users", "u1")?.status).toBe("healthy");
    expect(events).toEqual([]);
  } finally {
    client.close();
    health.close();
    ads.close();
    await server.close();
  }
});

test("every stream subscribes to the one signal by design: a real server with 20 xDS streams prints no MaxListenersExceededWarning", async () => {
  const server = spawnCli(["serve", "--port", "0", "--host", "127.0.0.1", "--log-level", "info"]);
  try {
    const { port } = JSON.parse(await server.waitForLine(/discovery server listening/)) as { port: number };
    const ads = new GrpcTestClient(AggregatedDiscoveryService, `127.0.0.1:${port}`);
    try {
      const streams = Array.from({ length: 20 }, () => ads.bidiStream(AggregatedDiscoveryService.method.streamAggregatedResources));
      const answers = streams.map((call) => new StreamReader<DiscoveryResponse>(call));
      streams.forEach((call) => call.write(create(DiscoveryRequestSchema, { typeUrl: LISTENER_TYPE, resourceNames: ["users"] })));
      for (const reader of answers) expect((await reader.next()).typeUrl).toBe(LISTENER_TYPE);
    } finally {
      ads.close();
    }
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stderr.join("")).not.toContain("MaxListenersExceededWarning");
  } finally {
    server.child.kill("SIGKILL");
  }
}, 60_000);

/** A Health.Watch that answers SERVING, then NOT_SERVING when the server's shutdown begins, and ends. */
const watchUntilShutdown: Handlers<typeof Health> = {
  async *watch(_request, context) {
    yield { status: Serving.SERVING };
    if (!context.shutdownSignal.aborted) {
      await new Promise((resolve) => context.shutdownSignal.addEventListener("abort", resolve, { once: true }));
    }
    yield { status: Serving.NOT_SERVING };
  },
};

test.each([
  ["ours (node:http2)", (signal: AbortSignal): Transport => new GrpcHttp2Server({ logger: pino({ level: "silent" }), shutdownSignal: signal })],
  ["grpc-js's", (signal: AbortSignal): Transport => createGrpcJsTransport({ logger: pino({ level: "silent" }), shutdownSignal: signal })],
])("the gRPC transport %s hands handlers the shutdown signal, apart from the call's own signal", async (_name, makeTransport) => {
  const shutdown = new AbortController();
  const transport = makeTransport(shutdown.signal);
  transport.addService(Health, watchUntilShutdown);
  const listener = net.createServer((socket) => transport.accept(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const client = new GrpcTestClient(Health, `127.0.0.1:${(listener.address() as AddressInfo).port}`);
  try {
    const watch = new StreamReader<HealthCheckResponse>(client.serverStream(Health.method.watch, {}));
    expect((await watch.next()).status).toBe(Serving.SERVING);
    shutdown.abort();
    expect((await watch.next()).status).toBe(Serving.NOT_SERVING);
    expect(await watch.finished()).toBeUndefined();
  } finally {
    client.close();
    transport.destroy();
    await new Promise((resolve) => listener.close(resolve));
  }
});

test("Connect over HTTP/1.1 hands handlers the shutdown signal too", async () => {
  const shutdown = new AbortController();
  const handler = createHttpHandler({
    routes: (mount) => mount(Health, watchUntilShutdown),
    fallback: (_request, response) => response.writeHead(404).end(),
    logger: pino({ level: "silent" }),
    shutdownSignal: shutdown.signal,
  });
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = createClient(Health, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    const statuses: Serving[] = [];
    for await (const answer of client.watch({})) {
      statuses.push(answer.status);
      if (statuses.length === 1) shutdown.abort();
    }
    expect(statuses).toEqual([Serving.SERVING, Serving.NOT_SERVING]);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
