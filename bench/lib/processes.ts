// Starting the processes under test, each pinned to one core with taskset, and
// reading their resource use from /proc.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** The core the server under test runs on; load generators use the other. */
export const SERVER_CORE = 0;
export const CLIENT_CORE = 1;

export interface Proc {
  readonly child: ChildProcess;
  readonly port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export const DIST = path.resolve(__dirname, "../..");

/** Runs `node script` pinned to a core and waits until its port accepts connections. */
export async function startNode(script: string, env: Record<string, string>, core = SERVER_CORE, nodeArgs: string[] = []): Promise<Proc> {
  const port = await freePort();
  const child = spawn("taskset", ["-c", String(core), process.execPath, ...nodeArgs, script], {
    env: { ...process.env, ...env, PORT: String(port), SERVICE_DISCOVERY_PORT: String(port), SERVICE_DISCOVERY_HOST: "127.0.0.1" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForPort(port, child);
  return { child, port, stop: () => stop(child) };
}

/** Starts etcd on a temporary data dir on 127.0.0.1, pinned like our server. */
export async function startEtcd(core = SERVER_CORE): Promise<Proc> {
  const port = await freePort();
  const peer = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "bench-etcd-"));
  const child = spawn(
    "taskset",
    [
      "-c",
      String(core),
      "etcd",
      "--data-dir",
      dir,
      "--listen-client-urls",
      `http://127.0.0.1:${port}`,
      "--advertise-client-urls",
      `http://127.0.0.1:${port}`,
      "--listen-peer-urls",
      `http://127.0.0.1:${peer}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${peer}`,
      "--initial-cluster",
      `default=http://127.0.0.1:${peer}`,
      "--log-level",
      "error",
    ],
    { stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, GOMAXPROCS: "1" } },
  );
  await waitForPort(port, child);
  return {
    child,
    port,
    stop: async () => {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = require("node:net").connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => (clearTimeout(timer), resolve()));
    child.kill("SIGTERM");
  });
}

/** Resident memory of a process, in bytes (VmRSS). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb * 1024;
}

/** CPU time (user + system) a process has used, in seconds. */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}
