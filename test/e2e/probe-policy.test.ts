// Probes cannot be aimed at what they should not reach: the address policy at
// Register (literal hosts) and at every probe (after DNS, so rebinding cannot
// get past it), no Unix-socket dials, no probe bytes or header values echoed.
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ProbeOutcome, type HealthCheckSchema } from "../../gen/discovery/v1/discovery_pb";
import { createAddressPolicy } from "../../src/health/address-policy";
import type { Lookup } from "../../src/health/probe-address";
import { discoveryClient } from "../helpers/rpc-clients";
import { closedPort, HttpTarget } from "../helpers/probe-targets";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

type Check = MessageInitShape<typeof HealthCheckSchema>;
const HOURLY = { interval: { seconds: 3600n } };
const http = (extra: { headers?: Record<string, string> } = {}): Check => ({ probe: { case: "http", value: { path: "/h", ...extra } }, ...HOURLY });

/** Names the test decides: each lookup of a name takes the next answer in its list (the last one repeats). */
function scriptedLookup(answers: Record<string, string[]>): Lookup {
  const calls = new Map<string, number>();
  return async (host) => {
    const list = answers[host];
    if (list === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    const n = calls.get(host) ?? 0;
    calls.set(host, n + 1);
    const address = list[Math.min(n, list.length - 1)]!;
    return [{ address, family: net.isIP(address) }];
  };
}

const codeAndMessage = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "OK";
  } catch (error) {
    const e = ConnectError.from(error);
    return `${Code[e.code]}: ${e.rawMessage}`;
  }
};

describe("the default policy", () => {
  let server: TestServer;
  let target: HttpTarget;
  beforeAll(async () => {
    target = await HttpTarget.start();
    server = await startTestServer({ probeLookup: scriptedLookup({ "metadata.test": ["169.254.169.254"], "rebind.test": ["127.0.0.1", "0.0.0.0"] }) });
  });
  afterAll(async () => {
    await server.close();
    await target.close();
  });
  const client = () => discoveryClient("grpc", server.baseUrl);
  const register = (instanceId: string, host: string, healthCheck?: Check, port = target.port) =>
    client().register({ serviceName: "svc", instanceId, host, port, healthCheck });
  const checkNow = (instanceId: string) => client().checkNow({ serviceName: "svc", instanceId });

  test.each(["169.254.169.254", "fe80::1", "0.0.0.0", "::", "::ffff:169.254.169.254"])("Register refuses a probed literal host %s with INVALID_ARGUMENT naming host", async (host) => {
    expect(await codeAndMessage(register("lit", host, http()))).toMatch(/^InvalidArgument: host: cannot be probed: address .* is refused by DISCOVERY_PROBE_DENY$/);
    expect(server.store.instanceCount).toBe(0);
  });

  test("an instance that is not probed may have any address; loopback stays allowed", async () => {
    expect(await codeAndMessage(register("plain", "169.254.169.254"))).toBe("OK");
    expect(await codeAndMessage(register("local", "127.0.0.1", http()))).toBe("OK");
    expect((await checkNow("local")).result?.outcome).toBe(ProbeOutcome.PASS);
  });

  test("a name that resolves to a denied address fails its probe, naming the policy", async () => {
    await register("meta", "metadata.test", http());
    const { result } = await checkNow("meta");
    expect(result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "probe refused: address 169.254.169.254 is refused by DISCOVERY_PROBE_DENY" });
  });

  test("the address is checked at every probe and dialled as checked: a name rebound to 0.0.0.0 is not probed", async () => {
    const before = target.requests;
    await register("rebind", "rebind.test", http());
    expect((await checkNow("rebind")).result?.outcome).toBe(ProbeOutcome.PASS);
    expect(target.requests).toBe(before + 1);
    expect(target.headers.at(-1)?.host).toBe(`rebind.test:${target.port}`);
    const second = await checkNow("rebind");
    expect(second.result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "probe refused: address 0.0.0.0 is refused by DISCOVERY_PROBE_DENY" });
    expect(target.requests).toBe(before + 1);
  });

  test("a gRPC probe of host `unix` never dials a Unix socket named after the port", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "discovery-unix-"));
    const port = await closedPort();
    const socketServer = net.createServer();
    let dialled = 0;
    socketServer.on("connection", (socket) => {
      dialled++;
      socket.destroy();
    });
    const cwd = process.cwd();
    // grpc-js resolved `unix:<port>` relative to the working directory.
    await new Promise<void>((resolve) => socketServer.listen(path.join(dir, String(port)), resolve));
    process.chdir(dir);
    try {
      await register("unix", "unix", { probe: { case: "grpc", value: { service: "" } }, ...HOURLY }, port);
      const { result } = await checkNow("unix");
      expect(result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "host not found" });
      expect(dialled).toBe(0);
    } finally {
      process.chdir(cwd);
      await new Promise<void>((resolve) => socketServer.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a probe's answer bytes are never echoed: bad JSON is reported by kind", async () => {
    target.json('{"status": "ok", "token": "PROBE-SECRET-BYTES"');
    await register("body", "127.0.0.1", http());
    const { result } = await checkNow("body");
    expect(result).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "answer is not valid JSON" });
    const history = await client().getHealthHistory({ serviceName: "svc", instanceId: "body" });
    expect(history.results.map((r) => r.error)).toEqual(["answer is not valid JSON"]);
    target.answer = { status: 200, body: "", contentType: "text/plain", delayMs: 0 };
  });

  test("probe header values are sent to the target but never shown in answers", async () => {
    await register("hdr", "127.0.0.1", http({ headers: { authorization: "Bearer probe-credential" } }));
    await checkNow("hdr");
    expect(target.headers.at(-1)?.authorization).toBe("Bearer probe-credential");
    const { instances } = await client().listInstances({ serviceName: "svc" });
    const shown = instances.find((i) => i.instanceId === "hdr")!.healthCheck!.probe;
    expect(shown.case === "http" && shown.value.headers).toEqual({ authorization: "[redacted]" });
    expect(JSON.stringify(instances, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain("probe-credential");
  });
});

describe("DISCOVERY_PROBE_ALLOW", () => {
  test("only allowed ranges are probed: loopback outside the list is refused at Register and at probe time", async () => {
    const server = await startTestServer({
      probeAddressPolicy: createAddressPolicy(undefined, ["10.0.0.0/8"]),
      probeLookup: scriptedLookup({ "local.test": ["127.0.0.1"] }),
    });
    const target = await HttpTarget.start();
    try {
      const client = discoveryClient("connect", server.baseUrl);
      const base = { serviceName: "svc", port: target.port, healthCheck: http() };
      expect(await codeAndMessage(client.register({ ...base, instanceId: "a", host: "127.0.0.1" }))).toBe(
        "InvalidArgument: host: cannot be probed: address 127.0.0.1 is not in DISCOVERY_PROBE_ALLOW",
      );
      await client.register({ ...base, instanceId: "b", host: "local.test" });
      const { result } = await client.checkNow({ serviceName: "svc", instanceId: "b" });
      expect(result?.error).toBe("probe refused: address 127.0.0.1 is not in DISCOVERY_PROBE_ALLOW");
      expect(target.requests).toBe(0);
    } finally {
      await server.close();
      await target.close();
    }
  });
});
