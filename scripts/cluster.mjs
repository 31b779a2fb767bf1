// `npm run cluster`: cluster mode on one machine: three etcd members (Debian's
// etcd) and three registry nodes (dist/, DISCOVERY_STORE=etcd) on free loopback
// ports, data in a temporary directory. Prints every address; Ctrl-C stops all.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MEMBERS = 3;
const NODES = 3;
const children = [];
const dataDir = mkdtempSync(join(tmpdir(), "discovery-cluster-"));

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const listening = async (port, child, what) => {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    const ok = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1").once("connect", () => (socket.destroy(), resolve(true))).once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port}`);
};

const start = (command, args, env, label) => {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  children.push({ child, label });
  return child;
};

let stopping = false;
const stopAll = async (code) => {
  if (stopping) return;
  stopping = true;
  // Registry nodes first (they leave the cluster cleanly), then etcd.
  for (const { child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.once("exit", () => (clearTimeout(timer), resolve()));
      child.kill("SIGTERM");
    });
  }
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(code);
};
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

try {
  const members = [];
  for (let i = 0; i < MEMBERS; i++) members.push({ name: `etcd-${i}`, client: await freePort(), peer: await freePort() });
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(",");
  for (const m of members) {
    m.child = start(
      "etcd",
      [
        ...["--name", m.name, "--data-dir", join(dataDir, m.name)],
        ...["--listen-client-urls", `http://127.0.0.1:${m.client}`, "--advertise-client-urls", `http://127.0.0.1:${m.client}`],
        ...["--listen-peer-urls", `http://127.0.0.1:${m.peer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${m.peer}`],
        ...["--initial-cluster", initialCluster, "--initial-cluster-token", "discovery-cluster", "--logger", "zap", "--log-level", "error"],
      ],
      {},
      m.name,
    );
  }
  await Promise.all(members.map((m) => listening(m.client, m.child, m.name)));
  const endpoints = members.map((m) => `http://127.0.0.1:${m.client}`).join(",");
  const nodes = [];
  for (let i = 0; i < NODES; i++) {
    const port = await freePort();
    const env = { DISCOVERY_STORE: "etcd", ETCD_ENDPOINTS: endpoints, DISCOVERY_NODE_ID: `node-${i}`, SERVICE_DISCOVERY_HOST: "127.0.0.1", SERVICE_DISCOVERY_PORT: String(port), LOG_LEVEL: "warn" };
    const child = start(process.execPath, ["dist/src/cli/discovery.js", "serve"], env, `node-${i}`);
    nodes.push({ name: `node-${i}`, port, child });
  }
  await Promise.all(nodes.map((n) => listening(n.port, n.child, n.name)));
  console.log(`etcd members (ETCD_ENDPOINTS): ${endpoints}`);
  for (const n of nodes) console.log(`registry ${n.name}: 127.0.0.1:${n.port} (pid ${n.child.pid})`);
  console.log(`all nodes: ${nodes.map((n) => `127.0.0.1:${n.port}`).join(",")}`);
  console.log("Ctrl-C stops everything.");
  for (const { child, label } of children) {
    child.once("exit", (code, signal) => {
      if (!stopping) console.log(`${label} exited (${code ?? signal})`);
    });
  }
} catch (error) {
  console.error(`cluster failed to start: ${error.message}`);
  await stopAll(1);
}
