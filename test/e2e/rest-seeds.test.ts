// The seeds' own usage examples, run unchanged against us: seed 003's Python
// (httpx) register, heartbeat and discover functions, executed from a verbatim
// copy of its README (test/fixtures/seeds/), and seed 001's documented answers.
import * as path from "node:path";
import { ROOT, spawnChild } from "../helpers/child-process";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const SECRET = "seed-secret";
const SEEDS = path.join(ROOT, "test/fixtures/seeds");

async function runSeedExamples(server: TestServer, readme: string, functions: string[], secret = SECRET) {
  const child = spawnChild("/usr/bin/python3", [path.join(ROOT, "test/fixtures/run-seed-examples.py"), path.join(SEEDS, readme), String(server.port), secret, ...functions]);
  expect(await child.exited).toBe(0);
  return Object.fromEntries(
    child.lines.map((line) => {
      const [name, status, ...json] = line.split(" ");
      return [name!, { status: Number(status), body: JSON.parse(json.join(" ")) as Record<string, unknown> }];
    }),
  );
}

describe("seed 003's REST examples, as written", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ secret: SECRET, probing: false });
  });
  afterAll(() => server.close());

  test("register_service, send_heartbeat and discover_services work unchanged", async () => {
    const results = await runSeedExamples(server, "003-service-discovery-readme.md", ["register_service", "send_heartbeat", "discover_services"]);
    expect(results.register_service).toMatchObject({ status: 200, body: { instance: { service_name: "my-service", instance_id: "instance-1", host: "localhost", port: 8080, health_endpoint: "/health", metadata: { version: "1.0.0" } } } });
    expect(results.send_heartbeat).toMatchObject({ status: 200, body: { instance: { instance_id: "instance-1" } } });
    // Its health endpoint (localhost:8080/health) is probed before it is listed; probing is off here, so it stays unknown.
    expect(results.discover_services).toMatchObject({ status: 200, body: { service_name: "my-service", instances: [], count: 0 } });
    expect(server.store.get("my-service", "instance-1")).toMatchObject({ host: "localhost", port: 8080, metadata: { version: "1.0.0" }, status: "unknown" });

    // Once it is healthy, the same unchanged discover example lists it.
    await server.registry.setStatus("my-service", "instance-1", "healthy");
    const again = await runSeedExamples(server, "003-service-discovery-readme.md", ["discover_services"]);
    expect(again.discover_services).toMatchObject({ status: 200, body: { count: 1, instances: [{ instance_id: "instance-1", status: "healthy" }] } });
  });

  test("with a wrong secret the same examples are refused with 401", async () => {
    const results = await runSeedExamples(server, "003-service-discovery-readme.md", ["register_service"], "not-the-secret");
    expect(results.register_service).toMatchObject({ status: 401, body: { code: "unauthenticated" } });
  });
});

describe("seed 001's query routes", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ probing: false });
  });
  afterAll(() => server.close());

  test("GET /services/{service_name} answers in the documented shape; GET /status counts the registry", async () => {
    await server.registry.register({ serviceName: "users", instanceId: "uuid-1", host: "localhost", port: 8000, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined });
    const answer = (await (await fetch(`${server.baseUrl}/services/users`)).json()) as Record<string, unknown>;
    // The seed's fields: service_name, instances[{instance_id, service_name, registered_at, last_heartbeat}], count.
    expect(answer).toMatchObject({ service_name: "users", count: 1, instances: [{ instance_id: "uuid-1", service_name: "users" }] });
    const [instance] = answer.instances as Array<Record<string, string>>;
    expect(Date.parse(instance!.registered_at!)).not.toBeNaN();
    expect(Date.parse(instance!.last_heartbeat!)).not.toBeNaN();
    expect(await (await fetch(`${server.baseUrl}/status`)).json()).toMatchObject({ status: "ok", service_count: 1, instance_count: 1 });
  });
});
