// The xDS server's protocol edges with real clients: a resource the client
// rejects (NACK) is counted and logged; hostnames are resolved (or left out);
// unknown names do not exist; /metrics shows streams, pushes and delays.
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient } from "../helpers/grpc-client";
import { parsePrometheus, valueOf } from "../helpers/prometheus-text";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { waitFor } from "../helpers/wait-for";
import { exactly, startEchoBackend, writeBootstrap, XdsClientProcess, type EchoBackend, type XdsClientKind } from "../helpers/xds-fixture";

async function metric(server: TestServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const samples = parsePrometheus(await (await fetch(`${server.baseUrl}/metrics`)).text());
  return valueOf(samples, name, labels) ?? 0;
}

async function registerAll(server: TestServer, backends: { name: string; port: number; host?: string }[], service = "echo"): Promise<void> {
  const api = new GrpcTestClient(DiscoveryService, server.target);
  try {
    for (const b of backends) {
      await api.unary(DiscoveryService.method.register, { serviceName: service, instanceId: b.name, host: b.host ?? "127.0.0.1", port: b.port, ttl: { seconds: 600n } });
    }
  } finally {
    api.close();
  }
}

describe.each<XdsClientKind>(["grpc-js-xds", "python-grpcio"])("a resource %s rejects", (kind) => {
  let server: TestServer;
  let backend: EchoBackend;
  let client: XdsClientProcess | undefined;

  afterEach(async () => {
    client?.stop();
    backend?.close();
    await server?.close();
  });

  test("is NACKed: the server counts the NACK by type and the client gets no endpoints from it", async () => {
    // Envoy balances with MAGLEV; proxyless gRPC clients cannot, so they reject the Cluster.
    server = await startTestServer({ probing: false, xds: { lbPolicy: "MAGLEV" } });
    backend = await startEchoBackend("b1");
    await registerAll(server, [backend]);
    client = new XdsClientProcess(kind, writeBootstrap(server.port), "echo");
    await waitFor(async () => (await metric(server, "discovery_xds_nacks_total", { type: "Cluster" })) >= 1, 20_000, "a NACK of the Cluster");
    expect(client.recent(50).filter((name) => name !== undefined)).toEqual([]);
    expect(await metric(server, "discovery_xds_nacks_total", { type: "ClusterLoadAssignment" })).toBe(0);
  });
});

describe("xDS edges", () => {
  let server: TestServer;
  let backends: EchoBackend[] = [];
  const clients: XdsClientProcess[] = [];

  beforeAll(async () => {
    server = await startTestServer({ probing: false });
  });
  afterAll(async () => {
    for (const client of clients) client.stop();
    for (const backend of backends) backend.close();
    await server?.close();
  });

  test("hostnames are resolved to addresses; an instance whose host does not resolve is left out", async () => {
    backends = await Promise.all(["h1", "h2"].map(startEchoBackend));
    await registerAll(server, [
      { name: "h1", port: backends[0]!.port, host: "localhost" },
      { name: "h2", port: backends[1]!.port, host: "127.0.0.1" },
      { name: "h3", port: 1, host: "no-such-host.invalid" },
    ], "hosts");
    const client = new XdsClientProcess("grpc-js-xds", writeBootstrap(server.port), "hosts");
    clients.push(client);
    await client.settles(exactly(["h1", "h2"]), "h1 (localhost) and h2 answer, h3 never", 30, 20_000);
  });

  test("a name the registry does not know does not exist: calls fail, naming it (Python grpcio)", async () => {
    // grpc-js-xds 1.14 reaches the same conclusion (its xds_resolver trace logs "LDS resource
    // does not exist") but keeps its calls waiting for resolution, so C-core shows it here.
    const client = new XdsClientProcess("python-grpcio", writeBootstrap(server.port), "nope");
    clients.push(client);
    // A SotW response without the name tells the client nothing about a name it never had: it gives
    // up on it when its 15 s does-not-exist timer fires (gRFC A27); calls wait for resolution until then.
    const failure = await waitFor(() => (client.recent(1), client.answers.find((a) => a.name === undefined && !a.line.startsWith("error DEADLINE_EXCEEDED"))), 30_000, "a failed call");
    expect(failure.line).toMatch(/^error UNAVAILABLE .*nope.*does not exist/);
    expect(client.answers.every((a) => a.name === undefined)).toBe(true);
  }, 40_000);

  test("/metrics shows open xDS streams, subscriptions by type, pushes and the change-to-push delay", async () => {
    expect(await metric(server, "discovery_xds_streams")).toBeGreaterThanOrEqual(1);
    expect(await metric(server, "discovery_xds_stream_subscriptions", { type: "ClusterLoadAssignment" })).toBeGreaterThanOrEqual(1);
    expect(await metric(server, "discovery_xds_pushes_total", { type: "Listener" })).toBeGreaterThanOrEqual(2);
    expect(await metric(server, "discovery_xds_push_delay_seconds_count", { type: "ClusterLoadAssignment" })).toBeGreaterThanOrEqual(1);
  });
});
