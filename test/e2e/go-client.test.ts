// The Go client (clients/go) against the real server: its example registers,
// heartbeats on a KeepAlive stream with its load, registers again when the
// registry loses the lease, watches its service, and drains then unregisters
// on SIGTERM. Built offline with Debian's Go, grpc-go and protobuf (GOPATH mode).
// Given two registry processes, it moves to the second when the first dies.
import type { RegistryEvent } from "../../src/core/types";
import { spawnChild, type Child } from "../helpers/child-process";
import { createGoWorkspace, type GoWorkspace } from "../helpers/go-build";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { startTwoRegistries } from "../helpers/two-registries";
import { waitFor } from "../helpers/wait-for";

describe("clients/go", () => {
  let workspace: GoWorkspace;
  let example: string;
  let server: TestServer;
  let child: Child | undefined;

  beforeAll(() => {
    workspace = createGoWorkspace();
    example = workspace.build("examples/register-watch");
  }, 200_000);
  afterAll(() => workspace.remove());
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    child?.kill("SIGKILL");
    await server.close();
  });

  test("the stubs and the helper pass go vet", () => {
    expect(workspace.go(["vet", "grpc-discovery/clients/go/gen/discovery/v1", "grpc-discovery/clients/go/discovery", "grpc-discovery/clients/go/examples/register-watch"])).toBe("");
  }, 200_000);

  test("the example registers, heartbeats, re-registers after a lost lease, watches, and drains on SIGTERM", async () => {
    const events: RegistryEvent[] = [];
    server.store.onEvent((e) => events.push(e));
    child = spawnChild(example, [], { REGISTRY: server.target, SERVICE: "go-users", INSTANCE_ID: "go-1", PORT: "7101", LOAD: "0.9", TTL: "3s", DRAIN: "300ms" });
    await child.waitForLine(/^registered go-users go-1$/, 10_000);
    expect(server.store.get("go-users", "go-1")).toMatchObject({ host: "127.0.0.1", port: 7101, status: "healthy", metadata: { lang: "go" } });
    // Its own registration arrives through its Watch (the snapshot), then SYNCED.
    await child.waitForLine(/^event EVENT_TYPE_SNAPSHOT go-1 rev \d+$/);
    await child.waitForLine(/^event EVENT_TYPE_SYNCED  rev \d+$/);

    // Heartbeats arrive on the stream, carrying the load (critical at 0.9).
    const firstBeat = server.store.get("go-users", "go-1")!.lastHeartbeat;
    await waitFor(() => server.store.get("go-users", "go-1")!.lastHeartbeat > firstBeat, 5000, "a heartbeat");
    expect(server.store.get("go-users", "go-1")).toMatchObject({ load: 0.9, critical: true });

    // The registry loses the lease: the next heartbeat gets NOT_FOUND and the helper registers again.
    await server.registry.unregister("go-users", "go-1");
    await child.waitForLine(/^log registry lost the lease of go-users\/go-1; registering again$/, 5000);
    await waitFor(() => server.store.get("go-users", "go-1") !== undefined, 5000, "registered again");
    await child.waitForLine(/^event EVENT_TYPE_UNREGISTERED go-1 rev \d+$/);

    child.kill("SIGTERM");
    await waitFor(() => server.store.get("go-users", "go-1")?.status === "draining", 3000, "draining");
    expect(await child.exited).toBe(0);
    expect(child.lines.filter((l) => !l.startsWith("log ")).slice(-2)).toEqual(["draining", "unregistered"]);
    await waitFor(() => server.store.get("go-users", "go-1") === undefined, 2000, "removed");
    expect(events.filter((e) => e.type === "registered" || e.type === "unregistered").map((e) => e.type)).toEqual(["registered", "unregistered", "registered", "unregistered"]);
  }, 30_000);

  test("given two registry processes with registries of their own, it moves to the second when the first is killed: registers again there, and its watch gets RESET and that node's snapshot", async () => {
    const registries = await startTwoRegistries();
    const listedOnB = () => registries.listedOnSecond("go-two");
    try {
      child = spawnChild(example, [], { REGISTRY: registries.both, SERVICE: "go-two", INSTANCE_ID: "go-1", PORT: "7102", TTL: "3s", DRAIN: "0s" });
      await child.waitForLine(/^registered go-two go-1$/, 10_000);
      await child.waitForLine(/^event EVENT_TYPE_SYNCED  rev \d+$/);
      expect(await listedOnB()).toEqual([]);
      registries.first.child.kill("SIGKILL");
      // B never heard of go-1: its first heartbeat there gets NOT_FOUND, and Register runs again there.
      await child.waitForLine(/^log registry lost the lease of go-two\/go-1; registering again$/, 5_000);
      await waitFor(async () => (await listedOnB()).includes("go-1"), 5_000, "go-1 on the second process");
      // B has revisions of its own: the resume is answered with RESET, then B's snapshot.
      const reconnected = await child.waitForLine(new RegExp(`^watch reconnected to 127\\.0\\.0\\.1:${registries.second.port} after rev \\d+$`), 5_000);
      const firstEvent = await waitFor(() => child!.lines.slice(child!.lines.indexOf(reconnected) + 1).find((l) => l.startsWith("event ")), 5_000, "an event after the reconnect");
      expect(firstEvent).toMatch(/^event EVENT_TYPE_RESET  rev \d+$/);
      await waitFor(() => child!.lines.slice(child!.lines.indexOf(firstEvent)).some((l) => l.startsWith("event EVENT_TYPE_SYNCED")), 5_000, "the second process's snapshot");
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      expect(await listedOnB()).toEqual([]);
    } finally {
      await registries.close();
    }
  }, 30_000);
});
