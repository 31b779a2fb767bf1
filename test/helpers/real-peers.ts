// Real peer processes from Debian's packages (nats-server, redis-server,
// PostgreSQL) on free 127.0.0.1 ports, each stopped by the test that started it.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** Below Linux's ephemeral range (32768-60999), where outgoing connections take their local ports. */
const PEER_PORTS = { from: 15_000, to: 32_000 };

/**
 * A port free now, for a peer process that binds it later. Picked below the
 * ephemeral range: a port the kernel handed out for listen(0) is just as
 * likely to be taken by some test's outgoing connection before the peer binds
 * it (etcd failed with "address already in use" that way).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = PEER_PORTS.from + Math.floor(Math.random() * (PEER_PORTS.to - PEER_PORTS.from));
    if (await canListen(port)) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export interface PeerProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

/** Spawns `command` and resolves once `port` accepts TCP connections (or rejects when it exits first). */
export async function spawnPeer(command: string, args: string[], port: number, options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<PeerProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], uid: options.uid, gid: options.gid, env: options.env ?? process.env, cwd: options.cwd });
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${command} exited: ${stderr.join("")}`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${command} did not listen on ${port}: ${stderr.join("")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    port,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

export const NATS_SERVER = "/usr/sbin/nats-server";

/** nats-server on `port` (a free one when not given). */
export async function startNatsServer(port?: number): Promise<PeerProcess> {
  const p = port ?? (await freePort());
  return spawnPeer(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(p)], p);
}

/**
 * A TCP gate on a fixed port in front of `targetPort`: closing it is the
 * target going away for whoever dials the gate; opening it again, on the same
 * port, is the target coming back, at the moment the test chooses.
 */
export async function startGate(targetPort: number): Promise<{ port: number; open(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const port = await freePort();
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, "127.0.0.1");
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("error", () => {}).on("close", () => (sockets.delete(s), client.destroy(), upstream.destroy()));
        }
        client.pipe(upstream).pipe(client);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await open();
  return { port, open, close };
}

/** redis-server on a free port, nothing saved to disk; with `password`, AUTH is required. */
export async function startRedisServer(options: { password?: string } = {}): Promise<PeerProcess> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  if (options.password !== undefined) args.push("--requirepass", options.password);
  const peer = await spawnPeer("/usr/bin/redis-server", args, port);
  return { ...peer, stop: () => peer.stop().finally(() => rmSync(dir, { recursive: true, force: true })) };
}

const PG_BIN = "/usr/lib/postgresql/15/bin";

/**
 * A PostgreSQL 15 cluster in a temp dir on a free port (password auth for
 * everyone, so a probe without credentials is asked for one, as in production).
 * PostgreSQL refuses to run as root: as root it runs as `nobody`.
 */
export async function startPostgres(): Promise<PeerProcess> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "pg-"));
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? { uid: 65534, gid: 65534 } : {};
  if (asRoot) chownSync(dir, 65534, 65534);
  const pwfile = path.join(dir, "pw");
  writeFileSync(pwfile, "not-used-by-probes\n");
  if (asRoot) chownSync(pwfile, 65534, 65534);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C" };
  await new Promise<void>((resolve, reject) => {
    execFile(`${PG_BIN}/initdb`, ["-D", path.join(dir, "data"), "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "--no-sync", "-E", "UTF8"], { ...owner, env, cwd: dir }, (error, _out, stderr) =>
      error === null ? resolve() : reject(new Error(`initdb failed: ${stderr}`)),
    );
  });
  const peer = await spawnPeer(`${PG_BIN}/postgres`, ["-D", path.join(dir, "data"), "-h", "127.0.0.1", "-p", String(port), "-k", dir, "-c", "fsync=off"], port, { ...owner, env, cwd: dir });
  return { ...peer, stop: () => peer.stop().finally(() => rmSync(dir, { recursive: true, force: true })) };
}

/** pg_isready's verdict on host:port: 0 accepting, 1 rejecting, 2 no response. */
export function pgIsReady(port: number): Promise<number> {
  return new Promise((resolve) => {
    execFile(`${PG_BIN}/pg_isready`, ["-h", "127.0.0.1", "-p", String(port), "-t", "3"], (error) => resolve(error === null ? 0 : typeof error.code === "number" ? error.code : -1));
  });
}
