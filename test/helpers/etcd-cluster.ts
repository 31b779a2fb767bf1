// A real etcd cluster (Debian's /usr/bin/etcd, 3.4) on free loopback ports, each
// member with its own temporary data directory (in /dev/shm when it exists: fsync
// on a shared disk would make every test wait on other people's builds). Tests
// stop, kill -9 and restart members, compact the history, and close it all.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createEtcdClient, type EtcdClient } from "../../src/store/etcd/client/etcd-client";
import { grpcTargetOf, parseEtcdEndpoints } from "../../src/store/etcd/client/endpoints";
import { freePort } from "./real-peers";

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly clientUrl: string;
  readonly running: boolean;
  /** The last lines etcd wrote to stderr (bounded), for failure messages. */
  readonly log: readonly string[];
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** Every member's client URL, comma-separated: the value of ETCD_ENDPOINTS. */
  readonly endpoints: string;
  /** A client on every member (closed by close()). */
  client(): Promise<EtcdClient>;
  /** SIGTERM and wait. */
  stop(index: number): Promise<void>;
  /** SIGKILL and wait. */
  kill(index: number): Promise<void>;
  /** Starts a stopped member on its old ports and data; waits until it serves. */
  restart(index: number): Promise<void>;
  /** Starts every stopped member together (a lone member has no quorum to serve); waits until all serve. */
  restartStopped(): Promise<void>;
  /** Compacts the history up to `revision` (default: the current revision); returns it. */
  compact(revision?: number): Promise<number>;
  close(): Promise<void>;
}

const LOG_LINES_KEPT = 50;

interface MemberState {
  name: string;
  clientPort: number;
  peerPort: number;
  clientUrl: string;
  dataDir: string;
  process: ChildProcess | undefined;
  log: string[];
}

export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  const root = mkdtempSync(path.join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "etcd-test-"));
  const token = path.basename(root);
  const members: MemberState[] = [];
  for (let i = 0; i < size; i++) {
    const clientPort = await freePort();
    const peerPort = await freePort();
    members.push({ name: `m${i}`, clientPort, peerPort, clientUrl: `http://127.0.0.1:${clientPort}`, dataDir: path.join(root, `m${i}`), process: undefined, log: [] });
  }
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");
  const endpoints = members.map((m) => m.clientUrl).join(",");
  const clients: EtcdClient[] = [];

  const launch = (m: MemberState) => {
    const child = spawn(
      "etcd",
      [
        "--name", m.name,
        "--data-dir", m.dataDir,
        "--listen-client-urls", m.clientUrl,
        "--advertise-client-urls", m.clientUrl,
        "--listen-peer-urls", `http://127.0.0.1:${m.peerPort}`,
        "--initial-advertise-peer-urls", `http://127.0.0.1:${m.peerPort}`,
        "--initial-cluster", initialCluster,
        "--initial-cluster-state", "new",
        "--initial-cluster-token", token,
        "--logger", "zap",
        "--log-level", "error",
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, GOMAXPROCS: "1" } },
    );
    child.stderr!.on("data", (chunk: Buffer) => {
      m.log.push(...chunk.toString().split("\n").filter((l) => l !== ""));
      if (m.log.length > LOG_LINES_KEPT) m.log.splice(0, m.log.length - LOG_LINES_KEPT);
    });
    m.process = child;
  };

  const exitOf = (m: MemberState, signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const child = m.process;
      m.process = undefined;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });

  /** Waits until a linearizable read succeeds through this member (it has a leader and quorum). */
  const waitServing = async (m: MemberState, timeoutMs = 20_000) => {
    const client = createEtcdClient({ target: await grpcTargetOf(parseEtcdEndpoints(m.clientUrl)), requestTimeoutMs: 1_000 });
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        if (m.process?.exitCode != null) throw new Error(`etcd ${m.name} exited (${m.process.exitCode}): ${m.log.join("\n")}`);
        try {
          await client.range({ key: new TextEncoder().encode("health") });
          return;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`etcd ${m.name} not serving within ${timeoutMs} ms: ${String(error)}\n${m.log.join("\n")}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      client.close();
    }
  };

  members.forEach(launch);
  try {
    await Promise.all(members.map((m) => waitServing(m)));
  } catch (error) {
    await Promise.all(members.map((m) => exitOf(m, "SIGKILL")));
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const client = async () => {
    const c = createEtcdClient({ target: await grpcTargetOf(parseEtcdEndpoints(endpoints)) });
    clients.push(c);
    return c;
  };

  return {
    members: members.map((m) => ({
      get name() {
        return m.name;
      },
      get clientPort() {
        return m.clientPort;
      },
      get peerPort() {
        return m.peerPort;
      },
      get clientUrl() {
        return m.clientUrl;
      },
      get running() {
        return m.process !== undefined && m.process.exitCode === null && m.process.signalCode === null;
      },
      get log() {
        return m.log;
      },
    })),
    endpoints,
    client,
    stop: (i) => exitOf(members[i]!, "SIGTERM"),
    kill: (i) => exitOf(members[i]!, "SIGKILL"),
    async restart(i) {
      const m = members[i]!;
      await exitOf(m, "SIGTERM");
      launch(m);
      await waitServing(m);
    },
    async restartStopped() {
      const stopped = members.filter((m) => m.process === undefined);
      stopped.forEach(launch);
      await Promise.all(stopped.map((m) => waitServing(m)));
    },
    async compact(revision) {
      const c = await client();
      const target = revision ?? Number((await c.range({ key: new TextEncoder().encode("compact-probe") })).header!.revision);
      await c.compact({ revision: BigInt(target), physical: true });
      return target;
    },
    async close() {
      for (const c of clients.splice(0)) c.close();
      await Promise.all(members.map((m) => exitOf(m, "SIGTERM")));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
