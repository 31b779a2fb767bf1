// KeepAlive and draining Unregister on the wire: a grpc-js bidi stream and
// Connect JSON over HTTP/1.1, against a real server.
import { create } from "@bufbuild/protobuf";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { DiscoveryService, HealthStatus, HeartbeatRequestSchema, type HeartbeatResponse } from "../../gen/discovery/v1/discovery_pb";
import type { RegistryEvent } from "../../src/core/types";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { rpcCount } from "../helpers/prometheus-text";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { waitFor } from "../helpers/wait-for";

const M = DiscoveryService.method;

describe("KeepAlive and draining over the wire", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  let events: RegistryEvent[];
  const health = () => events.filter((e) => e.type === "health-changed").map((e) => `${e.previousStatus}->${e.instance.status}`);

  beforeEach(async () => {
    server = await startTestServer();
    client = new GrpcTestClient(DiscoveryService, server.target);
    events = [];
    server.store.onEvent((e) => events.push(e));
    await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 8080 });
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  const keepAliveEnds = (code: string) => rpcCount(server.baseUrl, "KeepAlive", code);
  const heartbeat = (fields: Record<string, unknown> = {}) =>
    create(HeartbeatRequestSchema, { serviceName: "users", instanceId: "u1", ...fields });

  test("answers each heartbeat message with the instance; a client's half-close is a goodbye that marks nothing", async () => {
    const stream = client.bidiStream(M.keepAlive);
    const reader = new StreamReader<HeartbeatResponse>(stream);
    stream.write(heartbeat({ loadPercentage: 0.3 }));
    stream.write(heartbeat({ loadPercentage: 0.4 }));
    const [a, b] = await reader.take(2);
    expect([a!.instance?.loadPercentage, b!.instance?.loadPercentage]).toEqual([0.3, 0.4]);
    stream.end();
    expect(await reader.finished()).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.store.get("users", "u1")?.status).toBe("healthy");
    expect(health()).toEqual([]);
  });

  test("a cancelled stream marks its instance UNHEALTHY; the next heartbeat makes it HEALTHY again", async () => {
    const stream = client.bidiStream(M.keepAlive);
    const reader = new StreamReader<HeartbeatResponse>(stream);
    stream.write(heartbeat());
    await reader.next();
    stream.cancel();
    await waitFor(() => server.store.get("users", "u1")?.status === "unhealthy", 2000, "unhealthy");
    const listed = await client.unary(M.listHealthy, { serviceName: "users" });
    expect(listed.instances).toEqual([]);

    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1" });
    expect(server.store.get("users", "u1")?.status).toBe("healthy");
    expect(health()).toEqual(["healthy->unhealthy", "unhealthy->healthy"]);
  });

  test("a stale stream breaking after a newer one took over leaves the instance HEALTHY, with no HEALTH_CHANGED", async () => {
    // The client lost its first stream's connection from its side and reconnected: the new stream heartbeats...
    const stale = client.bidiStream(M.keepAlive);
    const staleReader = new StreamReader<HeartbeatResponse>(stale);
    stale.write(heartbeat());
    await staleReader.next();
    const fresh = client.bidiStream(M.keepAlive);
    const freshReader = new StreamReader<HeartbeatResponse>(fresh);
    fresh.write(heartbeat());
    await freshReader.next();
    // ...and only then does the registry see the old one break.
    stale.cancel();
    await waitFor(async () => (await keepAliveEnds("CANCELLED")) === 1, 2000, "the stale stream's end seen by the server");
    expect(server.store.get("users", "u1")?.status).toBe("healthy");
    expect(health()).toEqual([]);

    // The owner's break still counts.
    fresh.cancel();
    await waitFor(() => server.store.get("users", "u1")?.status === "unhealthy", 2000, "unhealthy");
    expect(health()).toEqual(["healthy->unhealthy"]);
  });

  test("after a unary Heartbeat or a Register, a KeepAlive stream's break no longer marks the instance", async () => {
    for (const [i, takeOver] of [
      () => client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1" }),
      () => client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 8080 }),
    ].entries()) {
      const stream = client.bidiStream(M.keepAlive);
      const reader = new StreamReader<HeartbeatResponse>(stream);
      stream.write(heartbeat());
      await reader.next();
      await takeOver();
      stream.cancel();
      await waitFor(async () => (await keepAliveEnds("CANCELLED")) === i + 1, 2000, "the stream's end seen by the server");
    }
    expect(server.store.get("users", "u1")?.status).toBe("healthy");
    expect(health()).toEqual([]);
  });

  test("a heartbeat for an unknown instance ends the stream with NOT_FOUND", async () => {
    const stream = client.bidiStream(M.keepAlive);
    const reader = new StreamReader<HeartbeatResponse>(stream);
    stream.write(heartbeat({ instanceId: "nobody" }));
    const error = await reader.finished();
    expect(error?.code).toBe(GrpcStatus.NOT_FOUND);
  });

  test("Unregister with a drain turns the instance DRAINING (out of ListHealthy) and removes it when the period ends", async () => {
    await client.unary(M.unregister, { serviceName: "users", instanceId: "u1", drain: { nanos: 300_000_000 } });
    const listed = await client.unary(M.listInstances, { serviceName: "users" });
    expect(listed.instances.map((i) => i.status)).toEqual([HealthStatus.DRAINING]);
    expect((await client.unary(M.listHealthy, { serviceName: "users" })).instances).toEqual([]);
    await waitFor(() => server.store.get("users", "u1") === undefined, 2000, "removed");
    expect(events.map((e) => e.type)).toEqual(["registered", "health-changed", "unregistered"]);
  });

  test("over Connect JSON too, and a bad drain is refused naming the field", async () => {
    const post = (body: unknown) =>
      fetch(`${server.baseUrl}/discovery.v1.DiscoveryService/Unregister`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const bad = await post({ serviceName: "users", instanceId: "u1", drain: "7200s" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: "invalid_argument", message: "drain: must be from 0s to 1h" });
    const ok = await post({ serviceName: "users", instanceId: "u1", drain: "30s" });
    expect(ok.status).toBe(200);
    expect(server.store.get("users", "u1")?.status).toBe("draining");
  });

  test("KeepAlive over HTTP/1.1 is refused (a bidirectional stream needs HTTP/2)", async () => {
    const response = await fetch(`${server.baseUrl}/discovery.v1.DiscoveryService/KeepAlive`, {
      method: "POST",
      headers: { "content-type": "application/connect+json" },
      body: new Uint8Array(0),
    });
    expect(response.status).toBe(505);
  });
});
