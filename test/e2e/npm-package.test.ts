// The npm package as a user gets it: `npm pack` (of the dist/ that `npm test`'s
// pretest just built, as `prepare` does on install from git), installed into a
// fresh app outside the repository together with another @grpc/grpc-js 1.14
// patch release. The resolver must register on the app's grpc-js (a peer
// dependency) for discovery:// channels to work there. Installing prefers the
// local npm cache; the first run fetches @grpc/grpc-js 1.14.6 from the registry.
import { execFileSync, spawn } from "node:child_process";
import * as net from "node:net";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ROOT, spawnChild } from "../helpers/child-process";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { waitFor } from "../helpers/wait-for";

/** A patch release of the peer other than the one our own tests pin (1.14.7). */
const APP_GRPC_JS = "1.14.6";

describe("the npm package, installed outside the repository", () => {
  let app: string;
  let server: TestServer;

  beforeAll(() => {
    app = mkdtempSync(path.join(tmpdir(), "discovery-app-"));
    execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", app], { cwd: ROOT, stdio: "pipe", timeout: 60_000 });
    const tarball = readdirSync(app).find((f) => f.endsWith(".tgz"))!;
    writeFileSync(
      path.join(app, "package.json"),
      JSON.stringify({ name: "discovery-user-app", version: "1.0.0", private: true, scripts: { watch: "discovery watch --addr $REGISTRY" } }),
    );
    copyFileSync(path.join(ROOT, "test/fixtures/packaged-app.js"), path.join(app, "app.js"));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `./${tarball}`, `@grpc/grpc-js@${APP_GRPC_JS}`], {
      cwd: app,
      stdio: "pipe",
      timeout: 180_000,
    });
  }, 240_000);
  afterAll(() => {
    // A CLI a failed test left orphaned (started by this test, found by its path).
    for (const entry of cliProcessesIn(app)) process.kill(Number(entry.split(":")[0]), "SIGKILL");
    rmSync(app, { recursive: true, force: true });
  });
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(() => server.close());

  test("register() and a discovery:// channel balance over two backends on the app's own grpc-js", async () => {
    const child = spawnChild(process.execPath, [path.join(app, "app.js")], { REGISTRY: server.target });
    const line = await child.waitForLine(/^\{/, 20_000);
    expect(await child.exited).toBe(0);
    const result = JSON.parse(line) as { counts: Record<string, number>; grpcJsVersion: string; sharesAppGrpcJs: boolean; serverExport: string; internalsHidden: boolean };
    expect(result.grpcJsVersion).toBe(APP_GRPC_JS);
    expect(result.sharesAppGrpcJs).toBe(true);
    // round_robin over both registered backends.
    expect(result.counts).toEqual({ b1: 10, b2: 10 });
    expect(result.serverExport).toBe("function");
    expect(result.internalsHidden).toBe(true);
    // Both backends unregistered on close().
    expect([...server.store.instancesOf("packed-echo")]).toEqual([]);
  }, 30_000);

  test.each([
    ["npx", ["--offline", "discovery", "watch", "--addr"]],
    ["npm", ["run", "watch"]],
  ])("SIGTERM sent to the %s process stops the CLI it started", async (launcher, args) => {
    const target = server.target;
    const child = spawn(launcher, launcher === "npx" ? [...args, target] : args, { cwd: app, env: { ...process.env, REGISTRY: target }, stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await waitFor(() => server.hub.watcherCount === 1, 15_000, "the CLI's Watch");
      child.kill("SIGTERM");
      await exited;
      // The CLI's stream closes: it stopped, rather than living on as an orphan.
      await waitFor(() => server.hub.watcherCount === 0, 3_000, "the CLI stopped");
      expect(cliProcessesIn(app)).toEqual([]);
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);

  test("SIGTERM sent to `npx discovery serve` stops the server it started", async () => {
    const child = spawn("npx", ["--offline", "discovery", "serve", "--host", "127.0.0.1", "--port", "0"], { cwd: app, stdio: ["ignore", "pipe", "ignore"] });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      const port = await waitFor(() => /"port":(\d+),[^\n]*"msg":"discovery server listening"/.exec(out)?.[1], 15_000, "the server listening");
      expect(await canConnect(Number(port))).toBe(true);
      child.kill("SIGTERM");
      await exited;
      await waitFor(async () => !(await canConnect(Number(port))), 5_000, "the server stopped");
      await waitFor(() => cliProcessesIn(app).length === 0, 3_000, "no CLI process left");
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);

  test("the package ships the CLI, the built code and the proto, and no tests or sources", () => {
    const help = execFileSync(path.join(app, "node_modules/.bin/discovery"), ["--help"], { cwd: app }).toString();
    expect(help).toMatch(/Usage: discovery/);
    const shipped = readdirSync(path.join(app, "node_modules/grpc-discovery"));
    expect(shipped.sort()).toEqual(["README.md", "dist", "package.json", "proto"]);
    expect(readdirSync(path.join(app, "node_modules/grpc-discovery/dist")).sort()).toEqual(["dashboard", "gen", "gen-etcd", "src"]);
  });
});

/** Live processes running the CLI installed in `dir` (zombies have no command line). */
function cliProcessesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (command.includes(path.join(dir, "node_modules")) && command.includes("discovery")) found.push(`${pid}: ${command}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}
