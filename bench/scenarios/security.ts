// Scenario: what auth and TLS cost on the hot path. Heartbeat under the same
// h2load load with auth off, with a scoped token from a 50-entry tokens file
// (each call hashes the token and compares it with every entry), and with that
// token over TLS. Server on one core, h2load on the other; ratios to "open".
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DiscoveryService, HeartbeatRequestSchema } from "../../gen/discovery/v1/discovery_pb";
import { frameMessage } from "../lib/grpc-frame";
import { h2load, verifyGrpcOk } from "../lib/h2load";
import { DIST, startNode } from "../lib/processes";
import { median, round } from "../lib/stats";
import type { Scenario } from "../lib/scenario";

const HEARTBEAT = "/discovery.v1.DiscoveryService/Heartbeat";
const BODY = frameMessage(HeartbeatRequestSchema, { serviceName: "bench", instanceId: "hb-1", loadPercentage: 0.5 });
const TOKEN = "bench-writer-token-0123456789";

/** A CA and a server certificate for localhost/127.0.0.1, and a tokens file whose last entry is the one used. */
function materials(dir: string): { ca: Buffer; env: Record<string, string> } {
  const ssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench-ca"]);
  writeFileSync(path.join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  ssl(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
  ssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"]);
  const tokens = Array.from({ length: 49 }, (_, i) => ({ name: `other-${i}`, token: `other-token-${i}-0123456789`, scopes: [`write:svc-${i}`] }));
  tokens.push({ name: "bench", token: TOKEN, scopes: ["write:bench"] });
  writeFileSync(path.join(dir, "tokens.json"), JSON.stringify({ tokens }));
  return {
    ca: readFileSync(path.join(dir, "ca.pem")),
    env: { SERVICE_DISCOVERY_TLS_CERT: path.join(dir, "server.pem"), SERVICE_DISCOVERY_TLS_KEY: path.join(dir, "server.key") },
  };
}

export const security: Scenario = {
  name: "security",
  description: "Heartbeat calls/s: auth off, a scoped token (50-entry tokens file), the token over TLS",
  async run({ runs, seconds }) {
    const dir = mkdtempSync(path.join(tmpdir(), "bench-security-"));
    try {
      const { ca, env: tlsEnv } = materials(dir);
      const tokensEnv = { SERVICE_DISCOVERY_TOKENS_FILE: path.join(dir, "tokens.json") };
      const targets = [
        { name: "open (auth off)", env: {}, token: false, tls: false },
        { name: "scoped token", env: tokensEnv, token: true, tls: false },
        { name: "scoped token over TLS", env: { ...tokensEnv, ...tlsEnv }, token: true, tls: true },
      ];
      const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
      for (let i = 0; i < runs; i++) {
        for (const target of targets) {
          const proc = await startNode(`${DIST}/src/cli/main.js`, { LOG_LEVEL: "warn", ...target.env });
          try {
            const headers = target.token ? { authorization: `Bearer ${TOKEN}` } : undefined;
            const baseUrl = `${target.tls ? "https" : "http"}://localhost:${proc.port}`;
            const transport = createGrpcTransport({
              baseUrl,
              nodeOptions: target.tls ? { ca } : {},
              interceptors: [(next) => (request) => (headers && request.header.set("authorization", headers.authorization), next(request))],
            });
            await createClient(DiscoveryService, transport).register({ serviceName: "bench", instanceId: "hb-1", host: "10.0.0.1", port: 8080, ttl: { seconds: 3600n } });
            await verifyGrpcOk(proc.port, HEARTBEAT, BODY, 20, { headers, ca: target.tls ? ca : undefined });
            const result = await h2load({ port: proc.port, path: HEARTBEAT, body: BODY, seconds, tls: target.tls, headers: headers ? [`authorization: ${headers.authorization}`] : [] });
            if (result.failed > 0) throw new Error(`${target.name}: ${result.failed} requests failed`);
            samples.get(target.name)!.push(result.requestsPerSecond);
          } finally {
            await proc.stop();
          }
        }
      }
      const open = median(samples.get("open (auth off)")!);
      const rows = targets.map((t) => {
        const values = samples.get(t.name)!;
        return { target: t.name, callsPerSecond: round(median(values), 0), vsOpen: round(median(values) / open, 3), samples: values.map((s) => round(s, 0)) };
      });
      const token = rows[1]!.vsOpen;
      return { rows, targets: [{ name: "scoped token / open >= 0.85", value: token, met: token >= 0.85 }] };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
