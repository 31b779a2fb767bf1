// The grpc-js `discovery:` resolver (pinned @grpc/grpc-js 1.14.7): a channel to
// discovery://registry/echo balances round_robin over three live backend
// processes, follows their health and load from Watch, and keeps its last
// addresses when the registry goes away.
import * as grpc from "@grpc/grpc-js";
import { registerDiscoveryResolver } from "../../src/client";
import { spawnNodeFixture, type Child } from "../helpers/child-process";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const raw = (b: Buffer) => b;
const EchoClient = grpc.makeGenericClientConstructor(
  { who: { path: "/echo.v1.Echo/Who", requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
  "Echo",
);

function who(client: grpc.Client): Promise<string> {
  return new Promise((resolve, reject) =>
    (client as unknown as { who: Function }).who(Buffer.alloc(0), { deadline: Date.now() + 2000 }, (error: Error | null, reply: Buffer) =>
      error ? reject(error) : resolve(reply.toString()),
    ),
  );
}

async function spread(client: grpc.Client, calls: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < calls; i++) {
    const name = await who(client);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Calls until `name` has been absent from 12 consecutive answers (or present, with `want`); returns the elapsed ms. */
async function timeUntil(client: grpc.Client, name: string, want: "absent" | "present"): Promise<number> {
  const started = Date.now();
  let streak = 0;
  while (Date.now() - started < 5000) {
    const got = await who(client);
    if (want === "present" && got === name) return Date.now() - started;
    streak = got === name ? 0 : streak + 1;
    if (want === "absent" && streak >= 12) return Date.now() - started;
  }
  throw new Error(`${name} still ${want === "absent" ? "present" : "absent"} after 5 s`);
}

describe("grpc-js discovery: resolver", () => {
  let server: TestServer;
  let backends: Child[];
  let client: grpc.Client;

  beforeAll(() => registerDiscoveryResolver());

  beforeEach(async () => {
    server = await startTestServer();
    backends = ["b1", "b2", "b3"].map((name) => spawnNodeFixture("echo-backend.js", { REGISTRY_URL: server.baseUrl, NAME: name }));
    await Promise.all(backends.map((b) => b.waitForLine(/^ready/)));
    client = new EchoClient(`discovery://127.0.0.1:${server.port}/echo`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    for (const backend of backends) backend.kill("SIGKILL");
    await server.close();
  });

  test("spreads calls round_robin across three live backend processes", async () => {
    const counts = await spread(client, 30);
    expect(Object.keys(counts).sort()).toEqual(["b1", "b2", "b3"]);
    for (const n of Object.values(counts)) expect(n).toBeGreaterThanOrEqual(8);
  });

  test("stops sending to a backend within a second of it going UNHEALTHY, and resumes when it recovers", async () => {
    await spread(client, 6);
    await server.registry.setStatus("echo", "b2", "unhealthy");
    expect(await timeUntil(client, "b2", "absent")).toBeLessThan(1000);
    await server.registry.setStatus("echo", "b2", "healthy");
    expect(await timeUntil(client, "b2", "present")).toBeLessThan(1000);
  });

  test("leaves out a backend at critical load while others remain, and takes it back when its load is normal", async () => {
    await spread(client, 6);
    await server.registry.heartbeat({ serviceName: "echo", instanceId: "b3", load: 0.95 });
    expect(await timeUntil(client, "b3", "absent")).toBeLessThan(1000);
    await server.registry.heartbeat({ serviceName: "echo", instanceId: "b3", load: 0.2 });
    expect(await timeUntil(client, "b3", "present")).toBeLessThan(1000);
  });

  test("keeps using the last known addresses while the registry is unreachable", async () => {
    await spread(client, 6);
    await server.close();
    const counts = await spread(client, 30);
    expect(Object.keys(counts).sort()).toEqual(["b1", "b2", "b3"]);
  });
});
