// `discovery serve` re-reads its tokens file and TLS certificates on SIGHUP:
// the real process, its JSON log, real TLS clients.
import { copyFileSync, writeFileSync } from "node:fs";
import * as tls from "node:tls";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { bearer } from "../helpers/rpc-clients";
import { startServerProcess, type ServerProcess } from "../helpers/cli-process";
import { createStandardPki, type Pki } from "../helpers/test-pki";
import { waitFor } from "../helpers/wait-for";

const OLD = "first-token-0123456789abc";
const NEW = "second-token-0123456789ab";

describe("SIGHUP", () => {
  let pki: Pki;
  let server: ServerProcess;
  beforeAll(async () => {
    pki = createStandardPki();
    copyFileSync(pki.file("server.pem"), pki.file("live.pem"));
    copyFileSync(pki.file("server.key"), pki.file("live.key"));
    writeFileSync(pki.file("tokens.json"), JSON.stringify({ tokens: [{ name: "first", token: OLD, scopes: ["admin"] }] }));
    server = await startServerProcess({
      SERVICE_DISCOVERY_TOKENS_FILE: pki.file("tokens.json"),
      SERVICE_DISCOVERY_TLS_CERT: pki.file("live.pem"),
      SERVICE_DISCOVERY_TLS_KEY: pki.file("live.key"),
    });
  });
  afterAll(async () => {
    server.child.kill("SIGTERM");
    await server.exited;
    pki.remove();
  });

  const register = async (token: string) => {
    const transport = createGrpcTransport({ baseUrl: `https://localhost:${server.port}`, nodeOptions: { ca: pki.pem("ca.pem") }, interceptors: bearer(token) });
    try {
      await createClient(DiscoveryService, transport).register({ serviceName: "svc", instanceId: "i1", host: "10.0.0.1", port: 1 });
      return "OK";
    } catch (error) {
      return Code[ConnectError.from(error).code];
    }
  };
  const serverCn = () =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca: pki.pem("ca.pem"), servername: "localhost" }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.destroy();
      });
      socket.once("error", reject);
    });
  const reloads = () => server.logs.filter((l) => l.msg === "SIGHUP: reload done");

  test("reloads the tokens and the certificate; the log names tokens, never their values", async () => {
    expect(await register(OLD)).toBe("OK");
    writeFileSync(pki.file("tokens.json"), JSON.stringify({ tokens: [{ name: "second", token: NEW, scopes: ["write:svc"] }] }));
    pki.issue("rotated", "ca", "rotated.local", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
    copyFileSync(pki.file("rotated.pem"), pki.file("live.pem"));
    copyFileSync(pki.file("rotated.key"), pki.file("live.key"));
    server.child.kill("SIGHUP");
    await waitFor(() => reloads().length === 1, 5000, "reload log line");
    expect(reloads()[0]).toMatchObject({ reloaded: { tokens: true, tls: true } });
    expect(await register(OLD)).toBe("Unauthenticated");
    expect(await register(NEW)).toBe("OK");
    expect(await serverCn()).toBe("rotated.local");
    const change = server.logs.find((l) => l.event === "registered");
    expect(change).toMatchObject({ actor: "first" });
    expect(JSON.stringify(server.logs)).not.toMatch(new RegExp(`${OLD}|${NEW}`));
  });

  test("a bad tokens file on SIGHUP keeps the old tokens, logs why, and the server keeps running", async () => {
    writeFileSync(pki.file("tokens.json"), "{ not json");
    server.child.kill("SIGHUP");
    await waitFor(() => reloads().length === 2, 5000, "second reload log line");
    expect(reloads()[1]).toMatchObject({ reloaded: { tokens: false, tls: true } });
    expect(server.logs.find((l) => l.msg === "tokens file not reloaded; keeping the previous tokens")).toMatchObject({ reason: `tokens file ${pki.file("tokens.json")} is not valid JSON` });
    expect(await register(NEW)).toBe("OK");
  });
});
