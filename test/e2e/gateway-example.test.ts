// examples/gateway, compiled and run as its own process against the real
// registry: it forwards HTTP requests round-robin to real backend HTTP servers
// that registered through the SDK, and drops one as soon as it is unhealthy.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { register, type Registration } from "../../src/client";
import { ROOT, spawnChild, type Child } from "../helpers/child-process";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const GATEWAY = path.join(ROOT, "dist/examples/gateway/main.js");

async function backend(name: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_request, response) => response.end(name));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function spread(port: number, count: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const name = await fetch(`http://127.0.0.1:${port}/hello`).then((r) => r.text());
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe("examples/gateway", () => {
  let registry: TestServer;
  let backends: { server: http.Server; port: number }[];
  let registrations: Registration[];
  let gateway: Child;

  beforeEach(async () => {
    registry = await startTestServer();
    backends = await Promise.all(["web-1", "web-2", "web-3"].map(backend));
    registrations = await Promise.all(
      backends.map((b, i) => register({ url: registry.baseUrl, service: "web", instanceId: `web-${i + 1}`, host: "127.0.0.1", port: b.port, drainMs: 0 })),
    );
    gateway = spawnChild(process.execPath, [GATEWAY], { REGISTRY_URL: registry.baseUrl, SERVICE: "web", PORT: "0" });
  });
  afterEach(async () => {
    gateway.kill("SIGKILL");
    await Promise.all(registrations.map((r) => r.close()));
    for (const b of backends) b.server.close();
    await registry.close();
  });

  test("forwards requests round-robin to the healthy instances it streams, and stops at once using one that turns unhealthy", async () => {
    const port = Number((await gateway.waitForLine(/^gateway listening/)).split(" ")[2]);
    expect(await spread(port, 9)).toEqual({ "web-1": 3, "web-2": 3, "web-3": 3 });

    await registry.registry.setStatus("web", "web-2", "unhealthy");
    // The change travels registry → Watch → gateway; then web-2 gets nothing.
    const started = Date.now();
    for (;;) {
      const counts = await spread(port, 4);
      if (counts["web-2"] === undefined) break;
      if (Date.now() - started > 1000) throw new Error("web-2 still receives requests after 1 s");
    }
    expect(Object.keys(await spread(port, 8)).sort()).toEqual(["web-1", "web-3"]);
  });
});
