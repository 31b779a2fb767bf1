// Clients fail over between registry nodes (issue 11): two real server processes
// (memory store each); kill -9 the one a client uses and it moves to the other at
// once: register() keeps the instance registered there, watch() and healthyView()
// carry on there, and a grpc-js channel to discovery://a,b/service keeps working.
import * as grpc from "@grpc/grpc-js";
import { EventType, type WatchEvent } from "../../gen/discovery/v1/discovery_pb";
import { createConnection, healthyView, register, registerDiscoveryResolver, watch } from "../../src/client";
import { spawnNodeFixture, type Child } from "../helpers/child-process";
import { startServerProcess, type ServerProcess } from "../helpers/cli-process";
import { waitFor } from "../helpers/wait-for";

const FAST = { initialMs: 20, maxMs: 200 };

describe("clients with several registry addresses", () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let urls: string[];
  const stop = new AbortController();

  beforeEach(async () => {
    [a, b] = await Promise.all([startServerProcess(), startServerProcess()]);
    urls = [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`];
  });
  afterEach(async () => {
    for (const s of [a, b]) s.child.kill("SIGKILL");
    await Promise.all([a.exited, b.exited]);
  });
  afterAll(() => stop.abort());

  const instancesOn = async (server: ServerProcess, service: string) => {
    const connection = createConnection({ url: `http://127.0.0.1:${server.port}` });
    try {
      return (await connection.client.listInstances({ serviceName: service })).instances.map((i) => i.instanceId);
    } finally {
      connection.close();
    }
  };

  test("register(): a broken KeepAlive moves to the next address at once and the instance lives on there", async () => {
    const registration = await register({ url: urls, service: "users", instanceId: "u1", host: "127.0.0.1", port: 7000, ttlMs: 3_000, drainMs: 0, backoff: FAST });
    expect(await instancesOn(a, "users")).toEqual(["u1"]);
    expect(await instancesOn(b, "users")).toEqual([]);
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    // B does not know u1: its first heartbeat there gets NOT_FOUND, and register() registers it again there.
    await waitFor(async () => (await instancesOn(b, "users")).includes("u1"), 5000, "u1 on node B");
    // Well inside one heartbeat interval (1 s for a 3 s TTL): no backoff before the move.
    expect(Date.now() - killedAt).toBeLessThan(1_500);
    await registration.close();
    expect(await instancesOn(b, "users")).toEqual([]);
  });

  test("watch(): after its node dies it reconnects to the next one, asking to resume after its last revision", async () => {
    const onA = createConnection({ url: urls[0]! });
    await onA.client.register({ serviceName: "users", instanceId: "on-a", host: "127.0.0.1", port: 7001 });
    onA.close();
    const reconnects: { url: string; sinceRevision: bigint }[] = [];
    const seen: WatchEvent[] = [];
    const events = watch({ url: urls, services: ["users"], backoff: FAST, signal: stop.signal, onReconnect: (info) => reconnects.push(info) });
    const iterator = events[Symbol.asyncIterator]();
    const nextEvent = async () => {
      const next = await iterator.next();
      seen.push(next.value as WatchEvent);
      return next.value as WatchEvent;
    };
    while ((await nextEvent()).type !== EventType.SYNCED);
    const lastRevision = seen.at(-1)!.revision;
    a.child.kill("SIGKILL");
    const onB = createConnection({ url: urls[1]! });
    await onB.client.register({ serviceName: "users", instanceId: "on-b", host: "127.0.0.1", port: 7002 });
    onB.close();
    // Node B has its own revisions (memory store): it cannot replay A's, so it answers RESET and its snapshot.
    const after: string[] = [];
    for (let e = await nextEvent(); e.type !== EventType.SYNCED; e = await nextEvent()) after.push(`${EventType[e.type]}${e.instance ? ` ${e.instance.instanceId}` : ""}`);
    expect(after).toEqual(["RESET", "SNAPSHOT on-b"]);
    expect(reconnects).toEqual([{ url: urls[1], sinceRevision: lastRevision }]);
    await iterator.return?.(undefined);
  });

  test("healthyView() and a discovery://a,b/ channel keep serving after node A dies", async () => {
    const backends: Child[] = ["b1", "b2"].map((name) => spawnNodeFixture("echo-backend.js", { REGISTRY_URL: urls.join(","), NAME: name }));
    try {
      await Promise.all(backends.map((c) => c.waitForLine(/^ready/)));
      const view = healthyView("echo", { url: urls, backoff: FAST });
      await view.ready();
      expect(view.instances.map((i) => i.instanceId).sort()).toEqual(["b1", "b2"]);
      registerDiscoveryResolver({ backoff: FAST });
      const Echo = grpc.makeGenericClientConstructor(
        { who: { path: "/echo.v1.Echo/Who", requestStream: false, responseStream: false, requestSerialize: (x: Buffer) => x, requestDeserialize: (x: Buffer) => x, responseSerialize: (x: Buffer) => x, responseDeserialize: (x: Buffer) => x } },
        "Echo",
      );
      const channel = new Echo(`discovery://127.0.0.1:${a.port},127.0.0.1:${b.port}/echo`, grpc.credentials.createInsecure());
      const who = () =>
        new Promise<string>((resolve, reject) =>
          (channel as unknown as { who: Function }).who(Buffer.alloc(0), { deadline: Date.now() + 3000 }, (e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r.toString()))),
        );
      expect(["b1", "b2"]).toContain(await who());
      a.child.kill("SIGKILL");
      // The backends move to B and register there; the view and the channel follow B.
      await waitFor(async () => (await instancesOn(b, "echo")).length === 2, 5000, "both backends on node B");
      await waitFor(() => view.synced && view.instances.length === 2, 5000, "the view resynced on node B");
      const answers = new Set<string>();
      for (let i = 0; i < 10; i++) answers.add(await who());
      expect([...answers].sort()).toEqual(["b1", "b2"]);
      channel.close();
      view.close();
    } finally {
      for (const c of backends) c.kill("SIGKILL");
    }
  }, 20_000);
});
