// The Python client (clients/python) as a user gets it: pip-installed (offline,
// on Debian's grpcio and protobuf) into a temporary folder, then run with
// /usr/bin/python3 against the real server. register() keeps the lease on a
// KeepAlive stream with its load, registers again after NOT_FOUND, and drains
// then unregisters at exit on SIGTERM; watch() resumes after a cut without a
// new snapshot; healthy_view() follows the serving set. Given two registry
// processes, both move to the second when the first dies.
import * as path from "node:path";
import type { RegistryEvent } from "../../src/core/types";
import { ROOT, type Child } from "../helpers/child-process";
import { installPythonClient, type PythonPackage } from "../helpers/python-package";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { seedInstance } from "../helpers/seed-instance";
import { startTwoRegistries } from "../helpers/two-registries";
import { waitFor } from "../helpers/wait-for";

const SCRIPT = path.join(ROOT, "test/python/client_check.py");

describe("clients/python", () => {
  let pythonClient: PythonPackage;
  let server: TestServer;
  let proxy: TcpProxy;
  const children: Child[] = [];

  beforeAll(() => {
    pythonClient = installPythonClient();
  }, 150_000);
  afterAll(() => pythonClient.remove());
  beforeEach(async () => {
    server = await startTestServer();
    proxy = await startTcpProxy(server.port);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill("SIGKILL");
    await proxy.close();
    await server.close();
  });

  /** Runs the check script from a folder outside the repository, so only the installed package can be imported. */
  const python = (env: Record<string, string>) => {
    const child = pythonClient.run(SCRIPT, env);
    children.push(child);
    return child;
  };

  test("register(): keep-alive with load, re-registration on NOT_FOUND, drain then unregister on SIGTERM", async () => {
    const events: RegistryEvent[] = [];
    server.store.onEvent((e) => events.push(e));
    const child = python({ MODE: "register", REGISTRY: server.target, SERVICE: "py", INSTANCE_ID: "p1", LOAD: "0.9" });
    await child.waitForLine(/^registered p1 every 1\.0s$/, 10_000);
    expect(server.store.get("py", "p1")).toMatchObject({ host: "127.0.0.1", port: 7300, metadata: { lang: "python" }, load: 0.9, critical: true });
    const first = server.store.get("py", "p1")!.lastHeartbeat;
    await waitFor(() => server.store.get("py", "p1")!.lastHeartbeat > first, 3000, "a keep-alive heartbeat");

    await server.registry.unregister("py", "p1"); // the registry loses the lease
    await child.waitForLine(/^re-registered 1$/, 5000);
    expect(server.store.get("py", "p1")?.status).toBe("healthy");

    child.kill("SIGTERM");
    await waitFor(() => server.store.get("py", "p1")?.status === "draining", 3000, "draining");
    expect(await child.exited).toBe(0);
    // The client waits out its drain and exits; the registry removes the instance at the drain's end (its expiry tick).
    await waitFor(() => server.store.get("py", "p1") === undefined, 2000, "removed when its drain ended");
    expect(events.filter((e) => e.type !== "load-critical" && e.type !== "load-normal").map((e) => (e.type === "health-changed" ? `->${e.instance.status}` : e.type))).toEqual([
      "registered",
      "unregistered",
      "registered",
      "->draining",
      "unregistered",
    ]);
  }, 20_000);

  test("watch() resumes after a cut with no new snapshot; healthy_view() follows the serving set", async () => {
    const reg = (id: string) => seedInstance(server, "py", id);
    reg("a");
    const child = python({ MODE: "follow", REGISTRY: `127.0.0.1:${proxy.port}`, SERVICE: "py" });
    await child.waitForLine(/^view ready$/, 10_000);
    await child.waitForLine(/^event SYNCED - \d+$/);
    expect(child.lines).toContain("view a");
    proxy.cutAll();
    await child.waitForLine(/^disconnected$/, 5000);
    reg("b"); // while it may be away
    await child.waitForLine(/^event REGISTERED b \d+$/, 8000);
    await child.waitForLine(/^view a,b$/, 5000);
    await server.registry.setStatus("py", "a", "unhealthy");
    await child.waitForLine(/^view b$/, 5000);
    // One snapshot only: the reconnect resumed after the last revision.
    expect(child.lines.filter((l) => /^event (SNAPSHOT|RESET)/.test(l))).toEqual([expect.stringMatching(/^event SNAPSHOT a \d+$/)]);
  }, 20_000);

  test("given two registry processes with registries of their own, register() and watch() move to the second when the first is killed: registered again there, RESET and that node's snapshot", async () => {
    const registries = await startTwoRegistries();
    const listedOnB = () => registries.listedOnSecond("py-two");
    try {
      const registrant = python({ MODE: "register", REGISTRY: registries.both, SERVICE: "py-two", INSTANCE_ID: "p2", DRAIN_SECONDS: "0" });
      await registrant.waitForLine(/^registered p2 every 1\.0s$/, 10_000);
      const follower = python({ MODE: "follow", REGISTRY: registries.both, SERVICE: "py-two" });
      await follower.waitForLine(/^event SYNCED - \d+$/, 10_000);
      expect(await listedOnB()).toEqual([]);
      registries.first.child.kill("SIGKILL");
      // B never heard of p2: the first heartbeat there gets NOT_FOUND, and register() registers it there.
      await registrant.waitForLine(/^re-registered 1$/, 5_000);
      expect(await listedOnB()).toEqual(["p2"]);
      // B has revisions of its own: the resume is answered with RESET, then B's snapshot.
      const reconnected = await follower.waitForLine(new RegExp(`^reconnected 127\\.0\\.0\\.1:${registries.second.port} \\d+$`), 5_000);
      const after = () => follower.lines.slice(follower.lines.indexOf(reconnected) + 1).filter((l) => l.startsWith("event "));
      await waitFor(() => after().some((l) => l.startsWith("event SYNCED")), 5_000, "the second process's snapshot");
      expect(after()[0]).toMatch(/^event RESET - \d+$/);
      registrant.kill("SIGTERM");
      expect(await registrant.exited).toBe(0);
      expect(await listedOnB()).toEqual([]);
    } finally {
      await registries.close();
    }
  }, 30_000);
});
