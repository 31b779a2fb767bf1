// The xDS DNS bounds on a running server, followed by a real grpc-js-xds
// client: with XDS_DNS_MAX_HOSTS at 1 only the first hostname is resolved and
// served; once its instance is gone, a refresh forgets it and the next
// hostname takes its place. The resolver answers two made-up names with
// 127.0.0.1 (the system resolver would need them in /etc/hosts).
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { GrpcTestClient } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { exactly, startEchoBackend, writeBootstrap, XdsClientProcess, type EchoBackend } from "../helpers/xds-fixture";

describe("xDS hostnames under XDS_DNS_MAX_HOSTS", () => {
  let server: TestServer;
  let api: GrpcTestClient<typeof DiscoveryService>;
  let backends: EchoBackend[] = [];
  let client: XdsClientProcess | undefined;
  const looked: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      probing: false,
      xds: {
        dnsMaxHosts: 1,
        dnsConcurrency: 1,
        dnsTimeoutMs: 2_000,
        dnsRefreshMs: 300,
        lookup: async (host) => {
          looked.push(host);
          return host.endsWith(".test") ? "127.0.0.1" : undefined;
        },
      },
    });
    api = new GrpcTestClient(DiscoveryService, server.target);
    backends = await Promise.all(["first", "second"].map(startEchoBackend));
  });
  afterAll(async () => {
    client?.stop();
    api?.close();
    for (const backend of backends) backend.close();
    await server?.close();
  });

  test("only the first hostname is served; when its instance goes, the next one is resolved and served", async () => {
    for (const backend of backends) {
      await api.unary(DiscoveryService.method.register, { serviceName: "hosts", instanceId: backend.name, host: `${backend.name}.test`, port: backend.port, ttl: { seconds: 600n } });
    }
    client = new XdsClientProcess("grpc-js-xds", writeBootstrap(server.port), "hosts");
    await client.settles(exactly(["first"]), "only first.test is resolved", 30, 20_000);
    expect(looked).not.toContain("second.test");
    await api.unary(DiscoveryService.method.unregister, { serviceName: "hosts", instanceId: "first" });
    await client.settles(exactly(["second"]), "second.test takes the freed place", 30, 20_000);
  }, 45_000);
});
