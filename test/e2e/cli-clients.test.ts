// The `discovery` client commands added for operators: drain, heartbeat,
// check-now and history; watch reconnecting and resuming after a cut; several
// --addr values. The compiled executable in its own process, real servers.
import { closedPort, HttpTarget } from "../helpers/probe-targets";
import { runCli, spawnCli, type LiveCli } from "../helpers/cli-run";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { seedInstance } from "../helpers/seed-instance";
import { waitFor } from "../helpers/wait-for";

/** Each test starts several CLI processes: seconds each on a loaded 2-core machine. */
const CLI_TEST_MS = 60_000;

describe("discovery drain, heartbeat, check-now, history", () => {
  let server: TestServer;
  let target: HttpTarget;
  let addr: string[];

  beforeEach(async () => {
    server = await startTestServer();
    target = await HttpTarget.start();
    addr = ["--addr", server.target];
  });
  afterEach(async () => {
    await server.close();
    await target.close();
  });

  const register = (id: string, extra: { healthEndpoint?: string } = {}) => seedInstance(server, "users", id, { port: target.port, ...extra });

  test("drain --for turns the instance DRAINING, and the registry removes it after that", async () => {
    register("u1");
    const result = await runCli(["drain", "users", "u1", "--for", "400ms", ...addr]);
    expect(result).toMatchObject({ code: 0, stderr: "", stdout: "draining users/u1 for 0.4s; the registry removes it after that\n" });
    expect(server.store.get("users", "u1")?.status).toBe("draining");
    await waitFor(() => server.store.get("users", "u1") === undefined, 3000, "removed after the drain");
    const bad = await runCli(["drain", "users", "u2", "--for", "soon", ...addr]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--for");
  }, CLI_TEST_MS);

  test("heartbeat reports load and status; a status the registry refuses is named before any call", async () => {
    register("u1");
    const result = await runCli(["heartbeat", "users", "u1", "--load", "0.4", "--status", "degraded", ...addr]);
    expect(result).toMatchObject({ code: 0, stderr: "", stdout: "heartbeat users/u1: degraded, load 40%, lease 30s\n" });
    expect(server.store.get("users", "u1")).toMatchObject({ status: "degraded", load: 0.4 });
    const json = await runCli(["heartbeat", "users", "u1", "--json", ...addr]);
    expect(JSON.parse(json.stdout)).toMatchObject({ instance: { instanceId: "u1", status: "HEALTH_STATUS_DEGRADED" } });
    const bad = await runCli(["heartbeat", "users", "u1", "--status", "draining", ...addr]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--status.*must be one of healthy, degraded, unhealthy/);
    const missing = await runCli(["heartbeat", "users", "nobody", ...addr]);
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toMatch(/^discovery: NOT_FOUND: .*nobody/);
  }, CLI_TEST_MS);

  test("check-now probes at once and history lists the results", async () => {
    register("u1", { healthEndpoint: "/healthz" });
    const check = await runCli(["check-now", "users", "u1", ...addr]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^users\/u1: pass, in [\d.]+ms, now (unknown|healthy)\n$/);
    expect(target.paths).toContain("/healthz");
    target.answer = { ...target.answer, status: 503 };
    expect((await runCli(["check-now", "users", "u1", ...addr])).stdout).toMatch(/^users\/u1: fail, /);
    const history = await runCli(["history", "users", "u1", ...addr]);
    expect(history.code).toBe(0);
    const lines = history.stdout.trim().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["TIME", "OUTCOME", "LATENCY", "LOAD", "ERROR"]);
    expect(lines.slice(1, -1).map((l) => l.split(/\s+/)[1])).toEqual(["pass", "fail"]);
    expect(lines.at(-1)).toMatch(/^uptime 50%, average latency [\d.]+ms$/);
    register("u2");
    expect((await runCli(["history", "users", "u2", ...addr])).stdout).toBe("no probe results for users/u2 (it has no health check, or none ran yet)\n");
  }, CLI_TEST_MS);
});

describe("discovery watch across breaks, and several addresses", () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let cli: LiveCli | undefined;

  beforeEach(async () => {
    server = await startTestServer();
    proxy = await startTcpProxy(server.port);
  });
  afterEach(async () => {
    cli?.child.kill("SIGKILL");
    await proxy.close();
    await server.close();
  });

  const register = (id: string) => seedInstance(server, "users", id);

  test("watch reconnects after its connection is cut, says so, and resumes after the last revision it printed", async () => {
    register("u1");
    cli = spawnCli(["watch", "users", "--addr", `127.0.0.1:${proxy.port}`]);
    const synced = await cli.waitForLine(/SYNCED\s+revision \d+/, 15_000);
    const revision = /revision (\d+)/.exec(synced)![1];
    proxy.cutAll();
    register("u2"); // while it is away
    await cli.waitForLine(new RegExp(`^reconnected to http://127\\.0\\.0\\.1:${proxy.port}, resuming after revision ${revision}$`), 8000);
    await cli.waitForLine(/REGISTERED\s+users\/u2/);
    expect(cli.lines.some((l) => /^connection lost \(.+\); reconnecting$/.test(l))).toBe(true);
    // Resumed, not restarted: one snapshot and no RESET.
    expect(cli.lines.filter((l) => /^[\d:.]+\s+(SNAPSHOT|RESET)\s/.test(l)).map((l) => l.split(/\s+/)[1])).toEqual(["SNAPSHOT"]);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  }, CLI_TEST_MS);

  test("with several --addr, commands and watch use the next address when the first is down", async () => {
    register("u1");
    const down = `127.0.0.1:${await closedPort()}`;
    const listed = await runCli(["instances", "users", "--addr", `${down},${server.target}`, "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ instances: [{ instanceId: "u1" }] });
    const repeated = await runCli(["services", "--addr", down, "--addr", server.target]);
    expect(repeated.stdout).toMatch(/^SERVICE/);
    cli = spawnCli(["watch", "users", "--addr", `${down},${server.target}`]);
    await cli.waitForLine(/SNAPSHOT\s+users\/u1/, 15_000);
    await cli.waitForLine(new RegExp(`^reconnected to http://${server.target.replace(/\./g, "\\.")}, starting from a snapshot$`));
  }, CLI_TEST_MS);
});
