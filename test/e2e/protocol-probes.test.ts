// The redis, postgres and exec probe kinds end to end: the real server probes
// real redis-server and PostgreSQL 15 processes (Debian's) on free loopback
// ports, and the operator's exec checks, driven through Register and CheckNow.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { DiscoveryService, ProbeOutcome } from "../../gen/discovery/v1/discovery_pb";
import { loadExecChecks } from "../../src/health/probe-files";
import { GrpcTestClient } from "../helpers/grpc-client";
import { ManualClock } from "../helpers/manual-clock";
import { ManualScheduler } from "../helpers/manual-scheduler";
import { freePort, pgIsReady, startPostgres, startRedisServer, type PeerProcess } from "../helpers/real-peers";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const M = DiscoveryService.method;
const REDIS_PASSWORD = "probe-only-password";

describe("protocol probes", () => {
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  let scheduler: ManualScheduler;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "exec-checks-"));
    writeFileSync(
      path.join(dir, "checks.json"),
      JSON.stringify({
        checks: {
          ok: { command: "/bin/true" },
          // Passes only if {host} arrives as one verbatim argument: no shell saw it.
          "host-verbatim": { command: "/usr/bin/test", args: ["{host}", "=", "x;false"] },
          "says-why": { command: "/bin/sh", args: ["-c", "echo disk full on {host}:{port} >&2; exit 3"] },
          chatty: { command: "/bin/sh", args: ["-c", "head -c 100000 /dev/zero | tr '\\0' x; exit 1"] },
          hangs: { command: "/bin/sleep", args: ["30"] },
        },
      }),
    );
    scheduler = new ManualScheduler();
    server = await startTestServer({
      clock: new ManualClock(),
      probeScheduler: scheduler,
      probeResources: { execChecks: loadExecChecks(path.join(dir, "checks.json")), secrets: new Map([["redis-main", REDIS_PASSWORD], ["redis-wrong", "nope"]]) },
    });
    client = new GrpcTestClient(DiscoveryService, server.target);
  });
  afterAll(async () => {
    client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  /** Registers an instance with this probe and runs it once through CheckNow. */
  const probeOnce = async (host: string, port: number, probe: { case: string; value: object }, timeoutMs = 5000) => {
    const instanceId = `i${++n}`;
    await client.unary(M.register, {
      serviceName: "probed",
      instanceId,
      host,
      port,
      healthCheck: { probe: probe as never, interval: { seconds: 60n }, timeout: { seconds: BigInt(Math.floor(timeoutMs / 1000)), nanos: (timeoutMs % 1000) * 1e6 } },
    });
    const { result } = await client.unary(M.checkNow, { serviceName: "probed", instanceId });
    await client.unary(M.unregister, { serviceName: "probed", instanceId });
    return result!;
  };

  describe("redis", () => {
    let open: PeerProcess;
    let locked: PeerProcess;
    beforeAll(async () => {
      [open, locked] = await Promise.all([startRedisServer(), startRedisServer({ password: REDIS_PASSWORD })]);
    });
    afterAll(() => Promise.all([open.stop(), locked.stop()]));

    test("PING answered by PONG passes", async () => {
      expect(await probeOnce("127.0.0.1", open.port, { case: "redis", value: {} })).toMatchObject({ outcome: ProbeOutcome.PASS, error: "" });
    });

    test("a server that requires AUTH fails without it and passes with the referenced secret", async () => {
      expect(await probeOnce("127.0.0.1", locked.port, { case: "redis", value: {} })).toMatchObject({ outcome: ProbeOutcome.FAIL, error: expect.stringMatching(/^redis: NOAUTH/) });
      expect(await probeOnce("127.0.0.1", locked.port, { case: "redis", value: { passwordRef: "redis-main" } })).toMatchObject({ outcome: ProbeOutcome.PASS });
      expect(await probeOnce("127.0.0.1", locked.port, { case: "redis", value: { passwordRef: "redis-wrong" } })).toMatchObject({ outcome: ProbeOutcome.FAIL, error: expect.stringMatching(/^redis: WRONGPASS/) });
    });

    test("a reference the operator did not define is refused at Register naming the field; the password never shows", async () => {
      await expect(
        client.unary(M.register, { serviceName: "probed", instanceId: "r", host: "127.0.0.1", port: locked.port, healthCheck: { probe: { case: "redis", value: { passwordRef: "unknown-ref" } } } }),
      ).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: 'health_check.redis.password_ref: no secret named "unknown-ref" in DISCOVERY_PROBE_SECRETS_FILE' });
      expect(server.store.get("probed", "r")).toBeUndefined();
      const listed = await client.unary(M.register, { serviceName: "shown", instanceId: "s", host: "127.0.0.1", port: locked.port, healthCheck: { probe: { case: "redis", value: { passwordRef: "redis-main" } } } });
      expect(JSON.stringify(listed.instance?.healthCheck, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(REDIS_PASSWORD);
      await client.unary(M.unregister, { serviceName: "shown", instanceId: "s" });
    });

    test("a stopped server fails: connection refused", async () => {
      expect(await probeOnce("127.0.0.1", await freePort(), { case: "redis", value: {} })).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "connection refused" });
    });
  });

  describe("postgres", () => {
    let pg: PeerProcess;
    beforeAll(async () => {
      pg = await startPostgres();
    }, 60_000);
    afterAll(() => pg.stop());

    test("a running server passes, as pg_isready says, without credentials; so does an unknown user or database", async () => {
      expect(await pgIsReady(pg.port)).toBe(0);
      expect(await probeOnce("127.0.0.1", pg.port, { case: "postgres", value: {} })).toMatchObject({ outcome: ProbeOutcome.PASS, error: "" });
      expect(await probeOnce("127.0.0.1", pg.port, { case: "postgres", value: { user: "nobody_here", database: "nothing" } })).toMatchObject({ outcome: ProbeOutcome.PASS });
    });

    test("a port that is not PostgreSQL fails; a stopped server fails as pg_isready does", async () => {
      const redis = await startRedisServer();
      try {
        // Redis waits for a line end the startup message never sends: no verdict, so the probe times out.
        expect(await probeOnce("127.0.0.1", redis.port, { case: "postgres", value: {} }, 500)).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "timeout after 500ms" });
      } finally {
        await redis.stop();
      }
      const closed = await freePort();
      expect(await pgIsReady(closed)).toBe(2);
      expect(await probeOnce("127.0.0.1", closed, { case: "postgres", value: {} })).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "connection refused" });
    });
  });

  describe("exec", () => {
    test("exit 0 passes; {host} reaches the command as one argument, never through a shell", async () => {
      expect(await probeOnce("127.0.0.1", 1, { case: "exec", value: { name: "ok" } })).toMatchObject({ outcome: ProbeOutcome.PASS });
      expect(await probeOnce("x;false", 1, { case: "exec", value: { name: "host-verbatim" } })).toMatchObject({ outcome: ProbeOutcome.PASS });
    });

    test("a non-zero exit fails with the status and the first line of output", async () => {
      expect(await probeOnce("10.1.2.3", 5432, { case: "exec", value: { name: "says-why" } })).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "exec says-why: exit 3: disk full on 10.1.2.3:5432" });
    });

    test("output past the cap is not kept: the reason stays short", async () => {
      const result = await probeOnce("127.0.0.1", 1, { case: "exec", value: { name: "chatty" } });
      expect(result.outcome).toBe(ProbeOutcome.FAIL);
      expect(result.error.length).toBeLessThanOrEqual(150);
      expect(result.error).toMatch(/^exec chatty: exit 1: x+\.\.\.$/);
    });

    test("a command that runs past the timeout is killed and fails as a timeout", async () => {
      const started = Date.now();
      expect(await probeOnce("127.0.0.1", 1, { case: "exec", value: { name: "hangs" } }, 300)).toMatchObject({ outcome: ProbeOutcome.FAIL, error: "timeout after 300ms" });
      expect(Date.now() - started).toBeLessThan(5000);
    });

    test("a check the operator did not define is refused at Register naming the field; a registrant cannot give a command", async () => {
      for (const name of ["rm-rf", "/bin/sh -c x"]) {
        await expect(
          client.unary(M.register, { serviceName: "probed", instanceId: "bad", host: "h", port: 1, healthCheck: { probe: { case: "exec", value: { name } } } }),
        ).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringContaining("health_check.exec.name: no exec check named") });
      }
      expect(server.store.get("probed", "bad")).toBeUndefined();
    });
  });

  test("HEALTH_CHECK_STARTUP_DELAY_SECONDS: no first probe is scheduled before the delay has passed", async () => {
    const delayed = new ManualScheduler();
    const other = await startTestServer({ clock: new ManualClock(), probeScheduler: delayed, probeStartupDelayMs: 3_600_000 });
    try {
      const c = new GrpcTestClient(DiscoveryService, other.target);
      for (let i = 0; i < 5; i++) await c.unary(M.register, { serviceName: "late", instanceId: `l${i}`, host: "127.0.0.1", port: 1, healthCheck: { probe: { case: "tcp", value: {} }, interval: { seconds: 10n } } });
      c.close();
      const delays = delayed.pending().map((t) => t.delayMs);
      expect(delays).toHaveLength(5);
      // At least the delay left (an hour minus the few ms since start), at most that plus one interval of spread.
      expect(delays.every((d) => d >= 3_590_000 && d < 3_610_000)).toBe(true);
    } finally {
      await other.close();
    }
  });
});
