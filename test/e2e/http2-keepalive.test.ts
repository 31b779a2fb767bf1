// A peer that vanishes without closing its connection is found by HTTP/2 pings:
// its connection is dropped, its KeepAlive stream breaks, its instance turns UNHEALTHY.
import { DiscoveryService, HealthStatus, type HeartbeatResponse } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { startTestServer } from "../helpers/server-fixture";
import { startTcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait-for";
import { create } from "@bufbuild/protobuf";
import { HeartbeatRequestSchema } from "../../gen/discovery/v1/discovery_pb";

test("a silently partitioned KeepAlive peer is dropped after an unanswered ping", async () => {
  const server = await startTestServer({ http2KeepAliveMs: 200, http2KeepAliveTimeoutMs: 300 });
  const proxy = await startTcpProxy(server.port);
  const direct = new GrpcTestClient(DiscoveryService, server.target);
  const viaProxy = new GrpcTestClient(DiscoveryService, `127.0.0.1:${proxy.port}`);
  try {
    await direct.unary(DiscoveryService.method.register, { serviceName: "users", instanceId: "u1", host: "h", port: 1, ttl: { seconds: 60n } });
    const stream = viaProxy.bidiStream(DiscoveryService.method.keepAlive);
    const answers = new StreamReader<HeartbeatResponse>(stream);
    stream.write(create(HeartbeatRequestSchema, { serviceName: "users", instanceId: "u1" }));
    await answers.next();
    expect(server.store.get("users", "u1")?.status).toBe("healthy");

    proxy.freezeAll(); // neither side is told anything
    const started = Date.now();
    await waitFor(() => server.store.get("users", "u1")?.status === "unhealthy", 3000, "instance marked unhealthy");
    // One ping interval plus the ack timeout, with room for the machine.
    expect(Date.now() - started).toBeLessThan(2000);
    const listed = await direct.unary(DiscoveryService.method.listInstances, { serviceName: "users" });
    expect(listed.instances[0]?.status).toBe(HealthStatus.UNHEALTHY);
  } finally {
    viaProxy.close();
    direct.close();
    await proxy.close();
    await server.close();
  }
});

test("a peer that answers pings keeps its connection", async () => {
  const server = await startTestServer({ http2KeepAliveMs: 100, http2KeepAliveTimeoutMs: 200 });
  const client = new GrpcTestClient(DiscoveryService, server.target);
  try {
    await client.unary(DiscoveryService.method.register, { serviceName: "users", instanceId: "u1", host: "h", port: 1 });
    const stream = client.bidiStream(DiscoveryService.method.keepAlive);
    const answers = new StreamReader<HeartbeatResponse>(stream);
    stream.write(create(HeartbeatRequestSchema, { serviceName: "users", instanceId: "u1" }));
    await answers.next();
    await new Promise((resolve) => setTimeout(resolve, 800)); // several ping rounds
    stream.write(create(HeartbeatRequestSchema, { serviceName: "users", instanceId: "u1" }));
    expect((await answers.next()).instance?.status).toBe(HealthStatus.HEALTHY);
    expect(server.store.get("users", "u1")?.status).toBe("healthy");
    stream.end();
  } finally {
    client.close();
    await server.close();
  }
});
