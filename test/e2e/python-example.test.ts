// examples/python-service against the real server, run with Debian's Python
// grpcio and the grpc_discovery package from clients/python: it registers,
// heartbeats with its load, and drains then unregisters on SIGTERM.
import * as path from "node:path";
import type { RegistryEvent } from "../../src/core/types";
import { ROOT, spawnChild, type Child } from "../helpers/child-process";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { waitFor } from "../helpers/wait-for";

const SERVICE_PY = path.join(ROOT, "examples/python-service/service.py");

describe("examples/python-service", () => {
  let server: TestServer;
  let child: Child;
  let events: RegistryEvent[];

  beforeEach(async () => {
    server = await startTestServer();
    events = [];
    server.store.onEvent((e) => events.push(e));
  });
  afterEach(async () => {
    child.kill("SIGKILL");
    await server.close();
  });

  test("registers, heartbeats with its load, and drains then unregisters on SIGTERM", async () => {
    child = spawnChild("/usr/bin/python3", [SERVICE_PY], {
      REGISTRY: server.target, SERVICE: "py-users", INSTANCE_ID: "py-1", TTL_SECONDS: "3", DRAIN_SECONDS: "0.3",
    });
    const [, id, port] = (await child.waitForLine(/^registered /, 10_000)).split(" ");
    expect(id).toBe("py-1");
    expect(server.store.get("py-users", "py-1")).toMatchObject({ host: "127.0.0.1", port: Number(port), status: "healthy", metadata: { lang: "python" } });

    // Its HTTP endpoint answers, and the load it is told to report arrives with the next heartbeat (every 1 s).
    const answer = await fetch(`http://127.0.0.1:${port}/set-load?value=0.9`).then((r) => r.json());
    expect(answer).toMatchObject({ instance: "py-1", load: 0.9 });
    await waitFor(() => server.store.get("py-users", "py-1")?.critical, 3000, "critical load reported");
    expect(server.store.get("py-users", "py-1")?.load).toBe(0.9);

    child.kill("SIGTERM");
    await waitFor(() => server.store.get("py-users", "py-1")?.status === "draining", 3000, "draining");
    expect(await child.exited).toBe(0);
    await waitFor(() => server.store.get("py-users", "py-1") === undefined, 2000, "removed");
    expect(events.filter((e) => e.type !== "load-critical").map((e) => (e.type === "health-changed" ? `->${e.instance.status}` : e.type))).toEqual([
      "registered",
      "->draining",
      "unregistered",
    ]);
  });
});
