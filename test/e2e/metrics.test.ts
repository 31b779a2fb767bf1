// /metrics on the RPC port: Prometheus text that follows the registry, the
// watchers and the RPCs, scraped over real HTTP/1.1 like Prometheus does.
import { status as GrpcStatus } from "@grpc/grpc-js";
import { Registry as PromRegistry } from "prom-client";
import { DiscoveryService, HealthStatus } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient, StreamReader } from "../helpers/grpc-client";
import { ManualClock } from "../helpers/manual-clock";
import { parsePrometheus, valueOf, type Sample } from "../helpers/prometheus-text";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const M = DiscoveryService.method;
const D = "discovery.v1.DiscoveryService";

describe("/metrics", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  const clock = new ManualClock();

  beforeEach(async () => {
    server = await startTestServer({ clock, watchQueueLimit: 2 });
    client = new GrpcTestClient(DiscoveryService, server.target);
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  async function scrape(): Promise<Sample[]> {
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await response.text());
  }

  test("instances by service and status, and critical-load instances, follow the registry", async () => {
    await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 80 });
    await client.unary(M.register, { serviceName: "users", instanceId: "u2", host: "10.0.0.2", port: 80, loadPercentage: 0.95 });
    await client.unary(M.register, { serviceName: "orders", instanceId: "o1", host: "10.0.0.3", port: 80 });
    await client.unary(M.heartbeat, { serviceName: "orders", instanceId: "o1", status: HealthStatus.UNHEALTHY });
    let s = await scrape();
    expect(valueOf(s, "discovery_instances", { service: "users", status: "healthy" })).toBe(2);
    expect(valueOf(s, "discovery_instances", { service: "orders", status: "unhealthy" })).toBe(1);
    expect(valueOf(s, "discovery_instances", { service: "orders", status: "healthy" })).toBeUndefined();
    expect(valueOf(s, "discovery_critical_load_instances", { service: "users" })).toBe(1);
    expect(valueOf(s, "discovery_critical_load_instances", { service: "orders" })).toBe(0);

    await client.unary(M.unregister, { serviceName: "orders", instanceId: "o1" });
    s = await scrape();
    expect(valueOf(s, "discovery_instances", { service: "orders" })).toBeUndefined();
  });

  test("registrations, heartbeats, expirations, unregistrations and events by type are counted", async () => {
    await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 80, ttl: { seconds: 5n } });
    await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 81, ttl: { seconds: 5n } });
    await client.unary(M.register, { serviceName: "users", instanceId: "u2", host: "10.0.0.2", port: 80, ttl: { seconds: 5n } });
    for (let i = 0; i < 3; i++) await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1" });
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", loadPercentage: 0.9 });
    await client.unary(M.unregister, { serviceName: "users", instanceId: "u1" });
    clock.advance(6_000);
    expect(await server.registry.expireDue()).toBe(1);

    const s = await scrape();
    expect(valueOf(s, "discovery_registrations_total")).toBe(2);
    expect(valueOf(s, "discovery_heartbeats_total")).toBe(4);
    expect(valueOf(s, "discovery_unregistrations_total")).toBe(1);
    expect(valueOf(s, "discovery_expirations_total")).toBe(1);
    expect(valueOf(s, "discovery_events_total", { type: "registered" })).toBe(2);
    expect(valueOf(s, "discovery_events_total", { type: "updated" })).toBe(1);
    expect(valueOf(s, "discovery_events_total", { type: "load-critical" })).toBe(1);
    expect(valueOf(s, "discovery_events_total", { type: "expired" })).toBe(1);
    expect(valueOf(s, "discovery_events_total", { type: "health-changed" })).toBe(0);
  });

  test("RPCs are counted and timed by method and code, on both transports", async () => {
    await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 80 });
    await expect(client.unary(M.register, { serviceName: "users", host: "10.0.0.1", port: 0 })).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
    });
    await expect(client.unary(M.heartbeat, { serviceName: "users", instanceId: "nope" })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
    const connect = await fetch(`${server.baseUrl}/${D}/ListServices`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(connect.status).toBe(200);

    const s = await scrape();
    expect(valueOf(s, "discovery_rpc_total", { method: `${D}/Register`, code: "OK" })).toBe(1);
    expect(valueOf(s, "discovery_rpc_total", { method: `${D}/Register`, code: "INVALID_ARGUMENT" })).toBe(1);
    expect(valueOf(s, "discovery_rpc_total", { method: `${D}/Heartbeat`, code: "NOT_FOUND" })).toBe(1);
    expect(valueOf(s, "discovery_rpc_total", { method: `${D}/ListServices`, code: "OK" })).toBe(1);
    expect(valueOf(s, "discovery_rpc_duration_seconds_count", { method: `${D}/Register`, code: "OK" })).toBe(1);
    expect(valueOf(s, "discovery_rpc_duration_seconds_bucket", { method: `${D}/Register`, code: "OK", le: "+Inf" })).toBe(1);
    expect(valueOf(s, "discovery_rpc_duration_seconds_sum", { method: `${D}/Register`, code: "OK" })).toBeGreaterThan(0);
  });

  test("watchers connected are gauged, a Watch is counted when it ends, and slow watchers' resets are counted", async () => {
    const stream = client.serverStream(M.watch, { serviceNames: [] });
    const reader = new StreamReader(stream);
    await reader.next(); // SYNCED: the stream is subscribed
    // A subscriber that never reads, with WATCH_QUEUE_LIMIT 2, falls behind at the third event.
    const slow = server.hub.subscribe({ services: [], sinceRevision: 0 });
    let s = await scrape();
    expect(valueOf(s, "discovery_watchers")).toBe(2);
    expect(valueOf(s, "discovery_watchers_slow_resets_total")).toBe(0);
    for (let i = 0; i < 3; i++) await client.unary(M.register, { serviceName: "users", instanceId: `u${i}`, host: "10.0.0.1", port: 80 });
    slow.close();
    stream.cancel();
    await reader.finished().catch(() => undefined);
    await waitFor(async () => valueOf(await scrape(), "discovery_rpc_total", { method: `${D}/Watch`, code: "CANCELLED" }) === 1);
    s = await scrape();
    expect(valueOf(s, "discovery_watchers")).toBe(0);
    expect(valueOf(s, "discovery_watchers_slow_resets_total")).toBe(1);
  });

  test("probe results and latency are exposed through observeProbe", async () => {
    server.metrics.observeProbe("pass", 0.004);
    server.metrics.observeProbe("pass", 0.02);
    server.metrics.observeProbe("fail", 5);
    const s = await scrape();
    expect(valueOf(s, "discovery_probes_total", { outcome: "pass" })).toBe(2);
    expect(valueOf(s, "discovery_probes_total", { outcome: "fail" })).toBe(1);
    expect(valueOf(s, "discovery_probes_total", { outcome: "degraded" })).toBe(0);
    expect(valueOf(s, "discovery_probe_duration_seconds_bucket", { outcome: "pass", le: "0.005" })).toBe(1);
    expect(valueOf(s, "discovery_probe_duration_seconds_bucket", { outcome: "pass", le: "0.025" })).toBe(2);
    expect(valueOf(s, "discovery_probe_duration_seconds_sum", { outcome: "fail" })).toBe(5);
  });

  test("each server keeps its metrics in its own registry (never prom-client's global one)", async () => {
    const own = new PromRegistry();
    const other = await startTestServer({ metricsRegistry: own });
    try {
      await client.unary(M.register, { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 80 });
      const mine = parsePrometheus(await own.metrics());
      expect(valueOf(mine, "discovery_registrations_total")).toBe(0);
      expect(valueOf(await scrape(), "discovery_registrations_total")).toBe(1);
      const { register: globalRegistry } = await import("prom-client");
      expect(globalRegistry.getMetricsAsArray()).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
