// The `discovery` CLI as operators run it: the compiled executable in its own
// process, against real servers on 127.0.0.1.
import { DiscoveryService, HealthStatus } from "../../gen/discovery/v1/discovery_pb";
import { runCli, spawnCli } from "../helpers/cli-run";
import { GrpcTestClient } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const M = DiscoveryService.method;
const ESC = "\x1b[";

describe("discovery CLI against a real registry", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  let addr: string[];

  beforeEach(async () => {
    server = await startTestServer({ secret: "s3cret" });
    client = new GrpcTestClient(DiscoveryService, server.target);
    addr = ["--addr", server.target];
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  const auth = { metadata: { authorization: "Bearer s3cret" } };
  const reg = (serviceName: string, instanceId: string, extra: Record<string, unknown> = {}) =>
    client.unary(M.register, { serviceName, instanceId, host: "10.0.0.1", port: 8080, ...extra }, auth);

  test("every command has --help", async () => {
    for (const command of [[], ["serve"], ["services"], ["instances"], ["watch"], ["register"], ["unregister"], ["drain"], ["heartbeat"], ["check-now"], ["history"], ["xds-bootstrap"]]) {
      const result = await runCli([...command, "--help"]);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout).toMatch(new RegExp(`^Usage: discovery${command.length ? ` ${command[0]}` : ""} `));
    }
    // Twelve process starts, one after the other: seconds each on a loaded 2-core machine.
  }, 90_000);

  test("services prints a table, and --json the API's JSON", async () => {
    await reg("users", "u1", { loadPercentage: 0.9 });
    await reg("users", "u2", { loadPercentage: 0.3 });
    await reg("orders", "o1");
    const text = await runCli(["services", ...addr]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n").filter(Boolean).map((l) => l.split(/\s+/))).toEqual([
      ["SERVICE", "INSTANCES", "HEALTHY", "CRITICAL", "AVG", "LOAD"],
      ["orders", "1", "1", "0", "0%"],
      ["users", "2", "2", "1", "60%"],
    ]);
    expect(text.stdout).not.toContain(ESC);
    const json = await runCli(["services", "--json", ...addr]);
    const parsed = JSON.parse(json.stdout) as { services: { serviceName: string; instanceCount: number }[]; revision: string };
    expect(parsed.services.map((s) => [s.serviceName, s.instanceCount])).toEqual([["orders", 1], ["users", 2]]);
    expect(parsed.revision).toMatch(/^\d+$/);
  });

  test("instances lists every status, --healthy only the serving ones, --json the instances", async () => {
    await reg("users", "u1", { metadata: { zone: "eu-1" } });
    await reg("users", "u2", { loadPercentage: 0.95 });
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", status: HealthStatus.UNHEALTHY }, auth);
    const text = await runCli(["instances", "users", ...addr]);
    expect(text.code).toBe(0);
    const rows = text.stdout.split("\n").filter(Boolean);
    expect(rows[0]).toMatch(/^INSTANCE\s+ADDRESS\s+STATUS\s+LOAD\s+LAST HEARTBEAT\s+METADATA$/);
    expect(rows[1]).toMatch(/^u1\s+10\.0\.0\.1:8080\s+unhealthy\s+0%\s+\d+s ago\s+zone=eu-1$/);
    expect(rows[2]).toMatch(/^u2\s+10\.0\.0\.1:8080\s+healthy\s+95% CRITICAL\s+\d+s ago$/);

    const healthy = await runCli(["instances", "users", "--healthy", "--json", ...addr]);
    const parsed = JSON.parse(healthy.stdout) as { instances: { instanceId: string; criticalLoad?: boolean }[] };
    expect(parsed.instances.map((i) => i.instanceId)).toEqual(["u2"]);
    expect(parsed.instances[0]?.criticalLoad).toBe(true);
    const none = await runCli(["instances", "users", "--exclude-critical", ...addr]);
    expect(none.stdout).toBe("no instances of users\n");
  });

  test("instances with a bad service name fails in one line naming the field", async () => {
    const result = await runCli(["instances", "no spaces!", ...addr]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^discovery: INVALID_ARGUMENT: service_name: .+\n$/);
  });

  test("watch prints one line per event as it happens; --json prints the events", async () => {
    await reg("users", "u1", { loadPercentage: 0.2 });
    const watch = spawnCli(["watch", "users", ...addr]);
    const json = spawnCli(["watch", "--json", ...addr]);
    try {
      await watch.waitForLine(/SNAPSHOT\s+users\/u1\s+10\.0\.0\.1:8080\s+healthy\s+load 20%$/);
      await watch.waitForLine(/SYNCED\s+revision \d+$/);
      await json.waitForLine(/EVENT_TYPE_SYNCED/);
      await reg("users", "u2");
      await reg("orders", "o1");
      await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u1", status: HealthStatus.UNHEALTHY }, auth);
      await client.unary(M.heartbeat, { serviceName: "users", instanceId: "u2", loadPercentage: 0.99 }, auth);
      await client.unary(M.unregister, { serviceName: "users", instanceId: "u2" }, auth);
      await watch.waitForLine(/UNREGISTERED\s+users\/u2/);
      const live = watch.lines.slice(watch.lines.findIndex((l) => l.includes("SYNCED")) + 1);
      expect(live.map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3}\s+/, "").replace(/\s+/g, " "))).toEqual([
        "REGISTERED users/u2 10.0.0.1:8080 healthy load 0%",
        "HEALTH_CHANGED users/u1 10.0.0.1:8080 healthy -> unhealthy load 20%",
        "LOAD_CRITICAL users/u2 10.0.0.1:8080 healthy load 99% CRITICAL",
        "UNREGISTERED users/u2 10.0.0.1:8080 healthy load 99% CRITICAL",
      ]);
      expect(watch.lines.join("\n")).not.toContain(ESC);

      await json.waitForLine(/EVENT_TYPE_UNREGISTERED/);
      const events = json.lines.map((l) => JSON.parse(l) as { type: string; instance?: { serviceName: string; instanceId: string } });
      expect(events.map((e) => `${e.type}${e.instance ? ` ${e.instance.serviceName}/${e.instance.instanceId}` : ""}`)).toEqual([
        "EVENT_TYPE_SNAPSHOT users/u1",
        "EVENT_TYPE_SYNCED",
        "EVENT_TYPE_REGISTERED users/u2",
        "EVENT_TYPE_REGISTERED orders/o1",
        "EVENT_TYPE_HEALTH_CHANGED users/u1",
        "EVENT_TYPE_LOAD_CRITICAL users/u2",
        "EVENT_TYPE_UNREGISTERED users/u2",
      ]);
      watch.child.kill("SIGINT");
      expect(await watch.exited).toBe(0);
    } finally {
      watch.child.kill("SIGKILL");
      json.child.kill("SIGKILL");
    }
    // Process starts take seconds each on a loaded 2-core machine (see CLI_LINE_BUDGET_MS).
  }, 60_000);

  test("watch whose reader goes away (| head -1) ends quietly with exit 0, no EPIPE stack trace", async () => {
    await reg("users", "u1");
    const watch = spawnCli(["watch", "users", ...addr]);
    try {
      await watch.waitForLine(/SYNCED/);
      watch.child.stdout!.destroy(); // the reader leaves, as head does after its line
      await reg("users", "u2"); // the next event line meets a closed pipe
      expect(await watch.exited).toBe(0);
      expect(watch.stderr.join("")).toBe("");
    } finally {
      watch.child.kill("SIGKILL");
    }
    // Process starts take seconds each on a loaded 2-core machine (see CLI_LINE_BUDGET_MS).
  }, 60_000);

  test("watch outlives a registry shutdown: it says the connection was lost and keeps reconnecting until stopped", async () => {
    const watch = spawnCli(["watch", ...addr]);
    try {
      await watch.waitForLine(/SYNCED/);
      await server.close();
      await watch.waitForLine(/^connection lost \(\[unavailable\] the registry is shutting down; reconnect to another node\); reconnecting$/);
      // Still running, still trying (the refused connections that follow are reported too).
      await watch.waitForLine(/^connection lost \(.*ECONNREFUSED.*\); reconnecting$/);
      watch.child.kill("SIGTERM");
      expect(await watch.exited).toBe(0);
      expect(watch.stderr.join("")).toBe("");
    } finally {
      watch.child.kill("SIGKILL");
    }
    // Process starts take seconds each on a loaded 2-core machine (see CLI_LINE_BUDGET_MS).
  }, 60_000);

  test("register needs the secret; with it, registers once and prints the instance", async () => {
    const refused = await runCli(["register", "users", "10.0.0.9", "9000", "--id", "u9", ...addr]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^discovery: UNAUTHENTICATED: .+\n$/);

    const result = await runCli(["register", "users", "10.0.0.9", "9000", "--id", "u9", "--ttl", "12", "--load", "0.4", "--meta", "zone=eu-1", "--secret", "s3cret", ...addr]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe("registered users/u9 at 10.0.0.9:9000 (healthy, ttl 12s)\n");
    const listed = await client.unary(M.listInstances, { serviceName: "users" });
    expect(listed.instances[0]).toMatchObject({ instanceId: "u9", port: 9000, loadPercentage: 0.4, metadata: { zone: "eu-1" } });

    const json = await runCli(["register", "users", "10.0.0.9", "9001", "--json", ...addr], { SERVICE_DISCOVERY_SECRET: "s3cret" });
    const parsed = JSON.parse(json.stdout) as { instance: { instanceId: string; port: number }; heartbeatInterval: string };
    expect(parsed.instance.instanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parsed.heartbeatInterval).toBe("10s");
  });

  test("register refuses bad input in one line naming the field, and changes nothing", async () => {
    const badLoad = await runCli(["register", "users", "10.0.0.9", "9000", "--load", "2", "--secret", "s3cret", ...addr]);
    expect(badLoad.code).toBe(1);
    expect(badLoad.stderr).toMatch(/^discovery: INVALID_ARGUMENT: load_percentage: .+\n$/);
    const badPort = await runCli(["register", "users", "10.0.0.9", "99999", "--secret", "s3cret", ...addr]);
    expect(badPort.code).not.toBe(0);
    expect(badPort.stderr).toContain("port");
    expect((await client.unary(M.listServices, {})).services).toEqual([]);
  });

  test("register --keep-alive heartbeats at a third of the lease and unregisters on Ctrl-C", async () => {
    const live = spawnCli(["register", "users", "10.0.0.9", "9000", "--id", "kept", "--ttl", "1", "--secret", "s3cret", "--keep-alive", ...addr]);
    try {
      await live.waitForLine(/^heartbeating every 0\.333s; Ctrl-C unregisters$/);
      const first = (await client.unary(M.listInstances, { serviceName: "users" })).instances[0]!.lastHeartbeat!;
      await waitFor(async () => {
        const now = (await client.unary(M.listInstances, { serviceName: "users" })).instances[0]?.lastHeartbeat;
        return now !== undefined && now.seconds * 1000n + BigInt(now.nanos / 1e6) > first.seconds * 1000n + BigInt(first.nanos / 1e6);
      });
      live.child.kill("SIGINT");
      expect(await live.exited).toBe(0);
      expect(live.lines.at(-1)).toBe("unregistered users/kept");
      expect((await client.unary(M.listInstances, { serviceName: "users" })).instances).toEqual([]);
    } finally {
      live.child.kill("SIGKILL");
    }
    // Process starts take seconds each on a loaded 2-core machine (see CLI_LINE_BUDGET_MS).
  }, 60_000);

  test("unregister removes an instance; an unknown one is NOT_FOUND", async () => {
    await reg("users", "u1");
    const result = await runCli(["unregister", "users", "u1", "--secret", "s3cret", ...addr]);
    expect(result).toEqual({ code: 0, stdout: "unregistered users/u1\n", stderr: "" });
    expect((await client.unary(M.listInstances, { serviceName: "users" })).instances).toEqual([]);
    const again = await runCli(["unregister", "users", "u1", "--secret", "s3cret", ...addr]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^discovery: NOT_FOUND: .+\n$/);
  });

  test("a registry that cannot be reached is one clear line and exit 1", async () => {
    const closed = await startTestServer();
    const target = closed.target;
    await closed.close();
    const result = await runCli(["services", "--addr", target]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`discovery: cannot reach the registry at ${target} (connect ECONNREFUSED ${target})\n`);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
