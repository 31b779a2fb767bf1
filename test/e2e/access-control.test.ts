// Auth on every mutation, on every transport: scoped tokens from the tokens file,
// the secret as an admin token, CheckNow admin-only, KeepAlive checked per message,
// optional read auth (RPCs and /metrics), and reloading the file.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import pino from "pino";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { discoveryClient, PROTOCOLS } from "../helpers/rpc-clients";
import { HttpTarget } from "../helpers/probe-targets";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { createAuthorizer } from "../../src/services/access/authorizer";
import { withAccessControl } from "../../src/services/access/method-access";
import { toConnectError } from "../../src/services/middleware/error-map";

const WRITER = "users-writer-token-0123456789";
const BILLING = "billing-writer-token-0123456789";
const READER = "gateway-reader-token-0123456789";
const OPS = "ops-admin-token-0123456789abcdef";
const SECRET = "the-shared-secret";

const TOKENS = {
  tokens: [
    { name: "users-writer", token: WRITER, scopes: ["write:users"] },
    { name: "billing-writer", token: BILLING, scopes: ["write:billing-*"] },
    { name: "gateway", token: READER, scopes: ["read"] },
    { name: "ops", token: OPS, scopes: ["admin"] },
  ],
};

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "OK";
  } catch (error) {
    return Code[ConnectError.from(error).code];
  }
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "discovery-tokens-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tokensFile(content: unknown, name = "tokens.json"): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

describe.each(PROTOCOLS)("scoped tokens over %s", (protocol) => {
  let server: TestServer;
  let target: HttpTarget;
  const logLines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    target = await HttpTarget.start();
    const logger = pino({ level: "info" }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    server = await startTestServer({ tokensFile: tokensFile(TOKENS, `tokens-${protocol}.json`), secret: SECRET, logger });
  });
  afterAll(async () => {
    await server.close();
    await target.close();
  });
  const client = (token?: string) => discoveryClient(protocol, server.baseUrl, token);
  const users = { serviceName: "users", instanceId: "u1", host: "127.0.0.1", port: 1 };

  test("a missing or unknown token is UNAUTHENTICATED for every mutation, and changes nothing", async () => {
    for (const token of [undefined, "not-a-known-token-at-all"]) {
      expect(await codeOf(client(token).register(users))).toBe("Unauthenticated");
      expect(await codeOf(client(token).heartbeat({ serviceName: "users", instanceId: "u1" }))).toBe("Unauthenticated");
      expect(await codeOf(client(token).unregister({ serviceName: "users", instanceId: "u1", drain: { seconds: 5n } }))).toBe("Unauthenticated");
      expect(await codeOf(client(token).checkNow({ serviceName: "users", instanceId: "u1" }))).toBe("Unauthenticated");
    }
    expect(server.store.instanceCount).toBe(0);
  });

  test("write:<glob> allows its services only; read and other writers get PERMISSION_DENIED", async () => {
    expect(await codeOf(client(WRITER).register(users))).toBe("OK");
    expect(await codeOf(client(WRITER).register({ ...users, serviceName: "billing-eu" }))).toBe("PermissionDenied");
    expect(await codeOf(client(BILLING).register({ ...users, serviceName: "billing-eu", instanceId: "b1" }))).toBe("OK");
    expect(await codeOf(client(BILLING).heartbeat({ serviceName: "users", instanceId: "u1" }))).toBe("PermissionDenied");
    expect(await codeOf(client(BILLING).unregister({ serviceName: "users", instanceId: "u1" }))).toBe("PermissionDenied");
    expect(await codeOf(client(READER).register(users))).toBe("PermissionDenied");
    expect(server.store.get("users", "u1")).toBeDefined();
    expect(await codeOf(client(WRITER).heartbeat({ serviceName: "users", instanceId: "u1" }))).toBe("OK");
    expect(await codeOf(client(WRITER).unregister({ serviceName: "users", instanceId: "u1" }))).toBe("OK");
    expect(await codeOf(client(SECRET).unregister({ serviceName: "billing-eu", instanceId: "b1" }))).toBe("OK");
    expect(server.store.instanceCount).toBe(0);
  });

  test("CheckNow needs admin: a writer of the service is refused and no probe is recorded", async () => {
    target.answer = { status: 503, body: "", contentType: "text/plain", delayMs: 0 };
    const probed = { ...users, instanceId: "p1", port: target.port, healthCheck: { probe: { case: "http" as const, value: { path: "/h" } }, interval: { seconds: 3600n } } };
    await client(WRITER).register(probed);
    expect(await codeOf(client(WRITER).checkNow({ serviceName: "users", instanceId: "p1" }))).toBe("PermissionDenied");
    expect(await codeOf(client(READER).checkNow({ serviceName: "users", instanceId: "p1" }))).toBe("PermissionDenied");
    expect(target.requests).toBe(0);
    expect(server.registry.healthHistory("users", "p1").results).toHaveLength(0);
    expect(await codeOf(client(OPS).checkNow({ serviceName: "users", instanceId: "p1" }))).toBe("OK");
    expect(target.requests).toBe(1);
    await client(OPS).unregister({ serviceName: "users", instanceId: "p1" });
  });

  test("reads stay open without read auth", async () => {
    expect(await codeOf(client().listServices({}))).toBe("OK");
    expect(await codeOf(client().getHealthHistory({ serviceName: "users", instanceId: "nope" }))).toBe("NotFound");
  });

  test("each change's log line names the credential that made it, and no token is logged", async () => {
    logLines.length = 0;
    await client(WRITER).register({ ...users, instanceId: "logged" });
    await client(OPS).unregister({ serviceName: "users", instanceId: "logged" });
    const events = logLines.filter((l) => l.instanceId === "logged");
    expect(events.map((l) => [l.event, l.actor])).toEqual([
      ["registered", "users-writer"],
      ["unregistered", "ops"],
    ]);
    // A probe CheckNow started changes the status later, after awaits: still attributed.
    target.answer = { status: 503, body: "", contentType: "text/plain", delayMs: 0 };
    const check = { probe: { case: "http" as const, value: { path: "/h" } }, interval: { seconds: 3600n }, unhealthyThreshold: 1 };
    await client(WRITER).register({ ...users, instanceId: "probed", port: target.port, healthCheck: check });
    await client(OPS).checkNow({ serviceName: "users", instanceId: "probed" });
    expect(logLines.filter((l) => l.instanceId === "probed").map((l) => [l.event, l.status, l.actor])).toEqual([
      ["registered", "unknown", "users-writer"],
      ["health-changed", "unhealthy", "ops"],
    ]);
    await client(OPS).unregister({ serviceName: "users", instanceId: "probed" });
    const all = JSON.stringify(logLines);
    for (const token of [WRITER, OPS, SECRET]) expect(all).not.toContain(token);
  });
});

describe("KeepAlive under scoped tokens", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ tokensFile: tokensFile(TOKENS, "tokens-ka.json") });
  });
  afterAll(() => server.close());

  test("is UNAUTHENTICATED without a token and PERMISSION_DENIED for a message outside the token's scope", async () => {
    const openWith = async (token: string | undefined, serviceName: string) => {
      const requests = (async function* () {
        yield { serviceName, instanceId: "k1" };
      })();
      const seen: string[] = [];
      try {
        for await (const answer of discoveryClient("grpc", server.baseUrl, token).keepAlive(requests)) seen.push(answer.instance!.instanceId);
        return "OK";
      } catch (error) {
        return Code[ConnectError.from(error).code];
      }
    };
    await discoveryClient("grpc", server.baseUrl, WRITER).register({ serviceName: "users", instanceId: "k1", host: "h", port: 1 });
    await discoveryClient("grpc", server.baseUrl, BILLING).register({ serviceName: "billing-x", instanceId: "k1", host: "h", port: 1 });
    expect(await openWith(undefined, "users")).toBe("Unauthenticated");
    expect(await openWith(READER, "users")).toBe("PermissionDenied");
    expect(await openWith(WRITER, "billing-x")).toBe("PermissionDenied");
    expect(await openWith(WRITER, "users")).toBe("OK");
  });
});

describe("read auth (SERVICE_DISCOVERY_READ_AUTH)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ tokensFile: tokensFile(TOKENS, "tokens-read.json"), readAuth: true });
  });
  afterAll(() => server.close());

  test.each(PROTOCOLS)("List*, GetHealthHistory and Watch need the read scope over %s", async (protocol) => {
    const reads = (token?: string) => {
      const c = discoveryClient(protocol, server.baseUrl, token);
      return [
        () => c.listServices({}),
        () => c.listInstances({ serviceName: "users" }),
        () => c.listHealthy({ serviceName: "users" }),
        () => c.getHealthHistory({ serviceName: "users", instanceId: "x" }).catch((e: unknown) => {
          if (ConnectError.from(e).code === Code.NotFound) return;
          throw e;
        }),
        async () => {
          for await (const event of c.watch({ serviceNames: ["users"] })) return event;
        },
      ];
    };
    for (const read of reads()) expect(await codeOf(read())).toBe("Unauthenticated");
    for (const read of reads(WRITER)) expect(await codeOf(read())).toBe("PermissionDenied");
    for (const read of reads(READER)) expect(await codeOf(read())).toBe("OK");
    for (const read of reads(OPS)) expect(await codeOf(read())).toBe("OK");
  });

  test("/metrics answers 401 without a token, 403 outside the read scope, 200 with it; the dashboard page has no data and stays open", async () => {
    const get = (route: string, token?: string) => fetch(`${server.baseUrl}${route}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    expect((await get("/metrics")).status).toBe(401);
    expect((await get("/metrics", WRITER)).status).toBe(403);
    const ok = await get("/metrics", READER);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("discovery_");
    expect((await get("/")).status).toBe(200);
  });

  test("the Server-Sent Events watch (GET /v1/watch) is a read too", async () => {
    const open = async (token?: string) => {
      const controller = new AbortController();
      const response = await fetch(`${server.baseUrl}/v1/watch?service=users`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      controller.abort();
      return response.status;
    };
    expect(await open()).toBe(401);
    expect(await open(WRITER)).toBe(403);
    expect(await open(READER)).toBe(200);
  });

  test("the REST routes go through the same access table: write scopes per service, read auth", async () => {
    const rest = async (method: string, route: string, token?: string, body?: unknown) => {
      const headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" };
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      const response = await fetch(`${server.baseUrl}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return response.status;
    };
    const users = { service_name: "users", instance_id: "rest-1", host: "127.0.0.1", port: 1 };
    expect(await rest("POST", "/v1/discovery/register", undefined, users)).toBe(401);
    expect(await rest("POST", "/v1/discovery/register", BILLING, users)).toBe(403);
    expect(await rest("POST", "/v1/discovery/register", READER, users)).toBe(403);
    expect(server.store.instanceCount).toBe(0);
    expect(await rest("POST", "/v1/discovery/register", WRITER, users)).toBe(200);
    expect(await rest("POST", "/v1/discovery/heartbeat", BILLING, { service_name: "users", instance_id: "rest-1" })).toBe(403);
    expect(await rest("DELETE", "/v1/discovery/unregister/users/rest-1", BILLING)).toBe(403);
    for (const route of ["/v1/discovery/services", "/v1/discovery/services/users", "/v1/discovery/services/users/healthy", "/status"]) {
      expect(await rest("GET", route)).toBe(401);
      expect(await rest("GET", route, WRITER)).toBe(403);
      expect(await rest("GET", route, READER)).toBe(200);
    }
    expect(await rest("DELETE", "/v1/discovery/unregister/users/rest-1", WRITER)).toBe(200);
    expect(server.store.instanceCount).toBe(0);
  });
});

describe("reloading the tokens file", () => {
  test("a new file replaces the tokens; a bad one keeps them and says why without quoting tokens", async () => {
    const logLines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    const file = tokensFile({ tokens: [{ name: "old", token: "old-token-0123456789abc", scopes: ["admin"] }] }, "reload.json");
    const server = await startTestServer({ tokensFile: file, logger });
    try {
      const register = (token: string) => codeOf(discoveryClient("grpc", server.baseUrl, token).register({ serviceName: "r", instanceId: "i", host: "h", port: 1 }));
      expect(await register("old-token-0123456789abc")).toBe("OK");
      tokensFile({ tokens: [{ name: "new", token: "new-token-0123456789abc", scopes: ["write:r"] }] }, "reload.json");
      expect(server.reload().tokens).toBe(true);
      expect(await register("old-token-0123456789abc")).toBe("Unauthenticated");
      expect(await register("new-token-0123456789abc")).toBe("OK");
      tokensFile('{"tokens": [{"name": "broken", "token": "leaky-token-0123456789", "scopes": ["write:r"]', "reload.json");
      expect(server.reload().tokens).toBe(false);
      expect(await register("new-token-0123456789abc")).toBe("OK");
      const refusal = logLines.find((l) => l.msg === "tokens file not reloaded; keeping the previous tokens");
      expect(refusal?.reason).toBe(`tokens file ${file} is not valid JSON`);
      tokensFile({ tokens: [{ name: "weak", token: "short", scopes: ["admin"] }] }, "reload.json");
      expect(server.reload().tokens).toBe(false);
      expect(JSON.stringify(logLines)).not.toMatch(/leaky-token|"short"|new-token|old-token/);
    } finally {
      await server.close();
    }
  });

  test("a bad tokens file stops the start, naming the entry and field", async () => {
    const file = tokensFile({ tokens: [{ name: "a", token: "a-token-0123456789abcd", scopes: ["write:users", "delete:all"] }] }, "bad.json");
    await expect(startTestServer({ tokensFile: file })).rejects.toThrow(`tokens file ${file} tokens[0].scopes (a): scope "delete:all" is not one of admin, read, write:<service glob>`);
  });
});

test("a method without a rule in its table needs admin (new methods are closed by default)", async () => {
  const authorize = createAuthorizer({ credentials: () => [], secret: SECRET });
  const handlers = withAccessControl(DiscoveryService, { listServices: () => ({}) }, {}, authorize);
  const call = (token?: string) => {
    const requestHeader = new Headers(token === undefined ? {} : { authorization: `Bearer ${token}` });
    return codeOf(Promise.resolve().then(() => handlers.listServices!({} as never, { requestHeader, signal: new AbortController().signal, responseHeader: new Headers(), responseTrailer: new Headers(), shutdownSignal: new AbortController().signal })).catch((e: unknown) => Promise.reject(toConnectError(e))));
  };
  expect(await call()).toBe("Unauthenticated");
  expect(await call("a-token-that-is-not-the-secret")).toBe("Unauthenticated");
  expect(await call(SECRET)).toBe("OK");
});
