// `discovery serve` is the server `npm start` runs: same settings, flags over
// environment variables, the same signals and exit codes, and the operator pages.
import { runCli, spawnCli } from "../helpers/cli-run";

describe("discovery serve", () => {
  test("flags override the environment; the port serves the dashboard and /metrics; SIGTERM exits 0", async () => {
    const server = spawnCli(["serve", "--port", "0", "--host", "127.0.0.1", "--log-level", "info", "--critical-load-threshold", "0.5"], {
      SERVICE_DISCOVERY_HOST: "0.0.0.0",
      SERVICE_DISCOVERY_PORT: "3004",
      LOG_LEVEL: "silent",
    });
    try {
      const listening = JSON.parse(await server.waitForLine(/discovery server listening/)) as { host: string; port: number };
      expect(listening.host).toBe("127.0.0.1");
      expect(listening.port).not.toBe(3004);
      const base = `http://127.0.0.1:${listening.port}`;

      const page = await fetch(`${base}/`);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await page.text()).toContain('<script src="/app.js"></script>');
      expect((await fetch(`${base}/app.js`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain("# TYPE discovery_instances gauge");

      // --critical-load-threshold 0.5 took effect: a load of 0.6 is critical.
      const registered = await runCli(["register", "users", "10.0.0.1", "80", "--id", "u1", "--load", "0.6", "--addr", `127.0.0.1:${listening.port}`]);
      expect(registered.code).toBe(0);
      const listed = await runCli(["instances", "users", "--json", "--addr", `127.0.0.1:${listening.port}`]);
      expect((JSON.parse(listed.stdout) as { instances: { criticalLoad?: boolean }[] }).instances[0]?.criticalLoad).toBe(true);

      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill("SIGKILL");
    }
    // Three process starts (the server, two CLI commands): seconds each on a loaded 2-core machine.
  }, 60_000);

  test("a bad flag stops it with exit 2 and a message naming the flag; a bad variable names the variable", async () => {
    const flag = await runCli(["serve", "--port", "70000"]);
    expect(flag).toEqual({ code: 2, stdout: "", stderr: 'configuration error: --port must be a number from 0 to 65535 (got "70000")\n' });
    const variable = await runCli(["serve", "--port", "0"], { CRITICAL_LOAD_THRESHOLD: "2" });
    expect(variable).toEqual({ code: 2, stdout: "", stderr: 'configuration error: CRITICAL_LOAD_THRESHOLD must be a number from 0 to 1 (got "2")\n' });
  });

  test("DISCOVERY_STORE / --store: memory serves; a bad cluster-mode setting or an unknown store stops it with exit 2 and a message naming the setting", async () => {
    const server = spawnCli(["serve", "--port", "0", "--host", "127.0.0.1", "--store", "memory"], { LOG_LEVEL: "info" });
    try {
      // Three process starts: seconds each on a loaded 2-core machine.
      await server.waitForLine(/discovery server listening/, 15_000);
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill("SIGKILL");
    }
    const etcd = await runCli(["serve", "--port", "0", "--etcd-prefix", "discovery"], { DISCOVERY_STORE: "etcd" });
    expect(etcd).toEqual({ code: 2, stdout: "", stderr: 'configuration error: --etcd-prefix must start and end with "/" (got "discovery")\n' });
    const other = await runCli(["serve", "--port", "0", "--store", "redis"]);
    expect(other).toEqual({ code: 2, stdout: "", stderr: 'configuration error: --store must be one of memory, etcd (got "redis")\n' });
  }, 60_000);
});
