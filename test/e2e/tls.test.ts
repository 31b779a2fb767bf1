// TLS and mTLS on the one port, with real TLS clients: grpc-js, Python grpcio
// (ssl credentials), curl --cacert, the SDK and the CLI. Certificates are made
// with openssl at test time; plaintext is refused; certificates reload in place.
import { execFile } from "node:child_process";
import { copyFileSync } from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { DiscoveryService, ListServicesRequestSchema, RegisterRequestSchema, type ListServicesResponse } from "../../gen/discovery/v1/discovery_pb";
import { createConnection } from "../../src/client/connection";
import { registerDiscoveryResolver } from "../../src/client";
import { grpcServiceDefinition } from "../../src/transport/service-definition";
import { runCli } from "../helpers/cli-run";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { createStandardPki, type Pki } from "../helpers/test-pki";
import { writeFileSync } from "node:fs";

const TLS_CLIENT_PY = path.join(__dirname, "../python/tls_client.py");

let pki: Pki;
beforeAll(() => {
  pki = createStandardPki();
});
afterAll(() => pki.remove());

const run = (file: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { timeout: 20_000 }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? -1), stdout, stderr }));
  });

type GrpcClient = grpc.Client & Record<string, Function>;
const GrpcDiscovery = grpc.makeGenericClientConstructor(grpcServiceDefinition(DiscoveryService), "DiscoveryService");

function grpcClient(target: string, credentials: grpc.ChannelCredentials): GrpcClient {
  return new GrpcDiscovery(target, credentials) as unknown as GrpcClient;
}

function unary<T>(client: GrpcClient, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method]!.call(client, request, metadata, { deadline: Date.now() + 5000 }, (error: grpc.ServiceError | null, answer: T) => (error ? reject(error) : resolve(answer))),
  );
}

const listServices = (client: GrpcClient) => unary<ListServicesResponse>(client, "listServices", create(ListServicesRequestSchema, {}));

describe("TLS", () => {
  let server: TestServer;
  let url: string;
  const files = () => ({ certFile: pki.file("live.pem"), keyFile: pki.file("live.key") });
  beforeAll(async () => {
    copyFileSync(pki.file("server.pem"), pki.file("live.pem"));
    copyFileSync(pki.file("server.key"), pki.file("live.key"));
    server = await startTestServer({ tls: files() });
    url = `https://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.close());

  test("grpc-js with ssl credentials calls over TLS; a plaintext gRPC client is refused", async () => {
    const secure = grpcClient(server.target, grpc.credentials.createSsl(pki.pem("ca.pem")));
    const plain = grpcClient(server.target, grpc.credentials.createInsecure());
    try {
      expect((await listServices(secure)).services).toEqual([]);
      await expect(listServices(plain)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      secure.close();
      plain.close();
    }
  });

  test("curl --cacert reaches /metrics, the dashboard, Connect and gRPC-Web over https (ALPN picks HTTP/1.1 for it); plaintext HTTP is refused", async () => {
    const ca = pki.file("ca.pem");
    const metrics = await run("curl", ["-sS", "--cacert", ca, "-w", "\\n%{http_code} %{http_version}", `${url}/metrics`]);
    expect(metrics.stdout).toContain("discovery_");
    expect(metrics.stdout.trim().split("\n").pop()).toBe("200 1.1");
    const page = await run("curl", ["-sS", "--cacert", ca, "-o", "/dev/null", "-w", "%{http_code}", `${url}/`]);
    expect(page.stdout).toBe("200");
    const connect = await run("curl", ["-sS", "--cacert", ca, "-H", "content-type: application/json", "-d", "{}", `${url}/discovery.v1.DiscoveryService/ListServices`]);
    expect(JSON.parse(connect.stdout)).toMatchObject({ revision: expect.any(String) });
    // gRPC-Web: one uncompressed empty message frame, the answer's trailers say grpc-status 0.
    writeFileSync(pki.file("empty.grpcweb"), Buffer.from([0, 0, 0, 0, 0]));
    const web = await run("curl", ["-sS", "--cacert", ca, "-H", "content-type: application/grpc-web+proto", "--data-binary", `@${pki.file("empty.grpcweb")}`, `${url}/discovery.v1.DiscoveryService/ListServices`]);
    expect(web.stdout).toMatch(/grpc-status: ?0\r?\n/);
    const plain = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${server.port}/metrics`]);
    expect(plain.code).not.toBe(0);
    expect(plain.stdout).toBe("000");
  });

  test("Python grpcio with ssl_channel_credentials calls over TLS", async () => {
    const result = await run("/usr/bin/python3", [TLS_CLIENT_PY, `localhost:${server.port}`, pki.file("ca.pem")]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual(["ListServices OK", "Register OK"]);
    expect([...server.store.instancesOf("users")]).toHaveLength(1);
  });

  test("the SDK and the CLI take https:// with a CA", async () => {
    const connection = createConnection({ url, tls: { ca: pki.pem("ca.pem") } });
    try {
      await connection.client.register(create(RegisterRequestSchema, { serviceName: "sdk", instanceId: "s1", host: "127.0.0.1", port: 9 }));
      expect((await connection.client.listInstances({ serviceName: "sdk" })).instances).toHaveLength(1);
    } finally {
      connection.close();
    }
    const cli = await runCli(["instances", "sdk", "--addr", url, "--ca", pki.file("ca.pem")]);
    expect(cli.stderr).toBe("");
    expect(cli.stdout).toContain("s1");
    const untrusted = await runCli(["instances", "sdk", "--addr", url]);
    expect(untrusted.code).toBe(1);
  });

  test("the grpc-js resolver follows a registry over https with a CA", async () => {
    const raw = (b: Buffer) => b;
    const definition = { who: { path: "/echo.v1.Echo/Who", requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } };
    const backend = new grpc.Server();
    backend.addService(definition, { who: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from("tls-backend")) });
    const port = await new Promise<number>((resolve, reject) =>
      backend.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    server.registry.register({ serviceName: "echo-tls", instanceId: "e1", host: "127.0.0.1", port, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined, healthCheck: undefined });
    registerDiscoveryResolver({ tls: { ca: pki.pem("ca.pem") } });
    const Echo = grpc.makeGenericClientConstructor(definition, "Echo");
    const client = new Echo(`discovery://localhost:${server.port}/echo-tls`, grpc.credentials.createInsecure());
    try {
      const answer = await new Promise<string>((resolve, reject) =>
        (client as unknown as { who: Function }).who(Buffer.alloc(0), { deadline: Date.now() + 5000 }, (error: Error | null, reply: Buffer) =>
          error ? reject(error) : resolve(reply.toString()),
        ),
      );
      expect(answer).toBe("tls-backend");
    } finally {
      client.close();
      backend.forceShutdown();
    }
  });

  test("reload swaps the certificate for new connections; a bad file keeps the old one", async () => {
    const subjectOf = () =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca: pki.pem("ca.pem"), servername: "localhost", ALPNProtocols: ["h2"] }, () => {
          resolve(String(socket.getPeerCertificate().subject.CN));
          socket.destroy();
        });
        socket.once("error", reject);
      });
    expect(await subjectOf()).toBe("localhost");
    pki.issue("rotated", "ca", "rotated.local", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
    copyFileSync(pki.file("rotated.pem"), pki.file("live.pem"));
    copyFileSync(pki.file("rotated.key"), pki.file("live.key"));
    expect(server.reload().tls).toBe(true);
    expect(await subjectOf()).toBe("rotated.local");
    writeFileSync(pki.file("live.pem"), "not a certificate");
    expect(server.reload().tls).toBe(false);
    expect(await subjectOf()).toBe("rotated.local");
  });
});

describe("mTLS", () => {
  let server: TestServer;
  beforeAll(async () => {
    writeFileSync(
      pki.file("tokens.json"),
      JSON.stringify({ tokens: [{ name: "gateway-cert", identity: "spiffe://test/gateway", scopes: ["write:users", "read"] }] }),
    );
    server = await startTestServer({
      tls: { certFile: pki.file("server.pem"), keyFile: pki.file("server.key"), clientCaFile: pki.file("ca.pem") },
      tokensFile: pki.file("tokens.json"),
      readAuth: true,
    });
  });
  afterAll(() => server.close());

  const withClient = async (cert: string | undefined, body: (client: GrpcClient) => Promise<void>) => {
    const credentials =
      cert === undefined ? grpc.credentials.createSsl(pki.pem("ca.pem")) : grpc.credentials.createSsl(pki.pem("ca.pem"), pki.pem(`${cert}.key`), pki.pem(`${cert}.pem`));
    const client = grpcClient(server.target, credentials);
    try {
      await body(client);
    } finally {
      client.close();
    }
  };

  test("a client without a certificate, or with one from another CA, is refused at the handshake", async () => {
    await withClient(undefined, (c) => expect(listServices(c)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE }));
    await withClient("rogue-client", (c) => expect(listServices(c)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE }));
    const curl = await run("curl", ["-sS", "--cacert", pki.file("ca.pem"), "-o", "/dev/null", "-w", "%{http_code}", `https://127.0.0.1:${server.port}/metrics`]);
    expect(curl.stdout).toBe("000");
  });

  test("the certificate's identity, named in the tokens file, carries its scopes without a bearer token", async () => {
    await withClient("client", async (c) => {
      expect((await listServices(c)).services).toEqual([]);
      await unary(c, "register", create(RegisterRequestSchema, { serviceName: "users", host: "127.0.0.1", port: 1 }));
      await expect(unary(c, "register", create(RegisterRequestSchema, { serviceName: "billing", host: "127.0.0.1", port: 1 }))).rejects.toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
      });
    });
    expect(server.store.instanceCount).toBe(1);
    const curl = await run("curl", ["-sS", "--cacert", pki.file("ca.pem"), "--cert", pki.file("client.pem"), "--key", pki.file("client.key"), "-w", "\\n%{http_code}", `https://127.0.0.1:${server.port}/metrics`]);
    expect(curl.stdout.trim().split("\n").pop()).toBe("200");
    // Connect over HTTP/1.1 sees the same identity: read allowed, a write outside write:users refused.
    const connect = (method: string, body: unknown) =>
      run("curl", ["-sS", "--cacert", pki.file("ca.pem"), "--cert", pki.file("client.pem"), "--key", pki.file("client.key"), "-H", "content-type: application/json", "-d", JSON.stringify(body), `https://127.0.0.1:${server.port}/discovery.v1.DiscoveryService/${method}`]);
    expect(JSON.parse((await connect("ListInstances", { serviceName: "users" })).stdout)).toMatchObject({ instances: [{ serviceName: "users" }] });
    expect(JSON.parse((await connect("Register", { serviceName: "billing", host: "127.0.0.1", port: 1 })).stdout)).toMatchObject({ code: "permission_denied" });
    const python = await run("/usr/bin/python3", [TLS_CLIENT_PY, `localhost:${server.port}`, pki.file("ca.pem"), pki.file("client.pem"), pki.file("client.key")]);
    expect(python.stdout.trim().split("\n")).toEqual(["ListServices OK", "Register OK"]);
    const cli = await runCli(["services", "--addr", `https://127.0.0.1:${server.port}`, "--ca", pki.file("ca.pem"), "--cert", pki.file("client.pem"), "--key", pki.file("client.key")]);
    expect(cli.stdout).toContain("users");
  });
});
