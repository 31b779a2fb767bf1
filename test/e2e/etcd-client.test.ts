// The thin etcd client against a real three-member etcd 3.4 cluster: above all,
// a watch that loses its connection in the middle of a catch-up over thousands
// of revisions resumes without losing or repeating an event (the reason we do
// not use the etcd3 package, which resumes from the response header's revision).
import { createEtcdClient, type EtcdClient } from "../../src/store/etcd/client/etcd-client";
import { createLeaseKeeper } from "../../src/store/etcd/client/lease-keeper";
import { prefixEnd, utf8, fromUtf8 } from "../../src/store/etcd/client/keys";
import { watchRange, type WatchItem } from "../../src/store/etcd/client/watch-stream";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(60_000);

let cluster: EtcdCluster;
let etcd: EtcdClient;

beforeAll(async () => {
  cluster = await startEtcdCluster(3);
  etcd = await cluster.client();
});

afterAll(async () => {
  await cluster?.close();
});

async function putMany(prefix: string, count: number): Promise<{ first: number; last: number }> {
  const revisions: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const response = await etcd.put({ key: utf8(`${prefix}${String(i).padStart(5, "0")}`), value: utf8(`v${i}`) });
      revisions.push(Number(response.header!.revision));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return { first: Math.min(...revisions), last: Math.max(...revisions) };
}

test("a watch cut in the middle of a catch-up over 3,500 revisions resumes with no event lost or repeated", async () => {
  const prefix = "/catch-up/";
  const { first, last } = await putMany(prefix, 3_500);
  expect(last - first + 1).toBe(3_500);

  // The client reaches etcd through a proxy the test can cut, like a dropped network.
  const proxy: TcpProxy = await startTcpProxy(cluster.members[0]!.clientPort);
  const client = createEtcdClient({ target: `ipv4:127.0.0.1:${proxy.port}` });
  const controller = new AbortController();
  // A watch that skipped revisions would wait forever for `last`: give up after 20 s and let the counts fail.
  const giveUp = setTimeout(() => controller.abort(), 20_000);
  try {
    const watch = watchRange(client, { key: utf8(prefix), rangeEnd: prefixEnd(utf8(prefix)), startRevision: first, signal: controller.signal });
    const seen: number[] = [];
    const items: WatchItem["t"][] = [];
    let headerAtConnect = 0;
    let cutAfterRevision = 0;
    for await (const item of watch) {
      items.push(item.t);
      if (item.t === "connected" && headerAtConnect === 0) headerAtConnect = item.revision;
      if (item.t !== "events") continue;
      for (const event of item.events) seen.push(Number(event.kv!.modRevision));
      if (cutAfterRevision === 0) {
        // First batch of the catch-up delivered: drop the connection before reading on.
        cutAfterRevision = item.revision;
        proxy.cutAll();
      }
      if (item.revision >= last) break;
    }
    // The cut happened mid catch-up: etcd's header already said `last` while we had
    // far less; resuming from header + 1 (etcd3's way) would have skipped the rest.
    expect(cutAfterRevision).toBeLessThan(last);
    expect(headerAtConnect).toBeGreaterThanOrEqual(last);
    expect(items).toContain("disconnected");
    expect(items.filter((t) => t === "connected").length).toBeGreaterThanOrEqual(2);
    // Every revision exactly once, in order.
    expect(seen.length).toBe(3_500);
    expect(seen).toEqual(Array.from({ length: 3_500 }, (_, i) => first + i));
  } finally {
    clearTimeout(giveUp);
    controller.abort();
    client.close();
    await proxy.close();
  }
});

test("a watch from a compacted revision reports the compaction instead of failing", async () => {
  const prefix = "/compacted/";
  const { first } = await putMany(prefix, 20);
  const compactedTo = await cluster.compact();
  const controller = new AbortController();
  const items: WatchItem[] = [];
  for await (const item of watchRange(etcd, { key: utf8(prefix), rangeEnd: prefixEnd(utf8(prefix)), startRevision: first, signal: controller.signal })) {
    items.push(item);
    if (item.t === "compacted") break;
  }
  controller.abort();
  expect(items.at(-1)).toEqual({ t: "compacted", compactRevision: compactedTo });
});

test("a requested progress report gives etcd's current revision but does not move the resume point (etcd 3.4 does not check the watcher caught up)", async () => {
  const prefix = "/progress/";
  const { last } = await putMany(prefix, 3);
  const controller = new AbortController();
  const watch = watchRange(etcd, { key: utf8(prefix), rangeEnd: prefixEnd(utf8(prefix)), startRevision: last + 1, signal: controller.signal });
  let progress: number | undefined;
  for await (const item of watch) {
    if (item.t === "connected") watch.requestProgress();
    if (item.t === "progress") {
      expect(item.vouched).toBe(false);
      progress = item.revision;
      break;
    }
  }
  controller.abort();
  expect(progress).toBeGreaterThanOrEqual(last);
  expect(watch.nextRevision).toBe(last + 1);
});

test("a watch keeps delivering when the member it reads from is killed", async () => {
  const prefix = "/failover/";
  const start = Number((await etcd.range({ key: utf8("x") })).header!.revision) + 1;
  const controller = new AbortController();
  const own = await cluster.client(); // pick_first: connected to member 0 first
  const keys: string[] = [];
  const reading = (async () => {
    for await (const item of watchRange(own, { key: utf8(prefix), rangeEnd: prefixEnd(utf8(prefix)), startRevision: start, signal: controller.signal })) {
      if (item.t === "events") for (const e of item.events) keys.push(fromUtf8(e.kv!.key));
      if (keys.length >= 2) return;
    }
  })();
  await etcd.put({ key: utf8(`${prefix}before`), value: utf8("1") });
  await waitFor(() => keys.length === 1, 10_000, "the first event");
  await cluster.kill(0);
  try {
    // Written through another member; the watch must find it after failing over.
    const writer = createEtcdClient({ target: `ipv4:127.0.0.1:${cluster.members[1]!.clientPort}` });
    await waitFor(async () => writer.put({ key: utf8(`${prefix}after`), value: utf8("2") }).then(() => true, () => false), 15_000, "a write with one member down");
    writer.close();
    await reading;
    expect(keys).toEqual([`${prefix}before`, `${prefix}after`]);
  } finally {
    controller.abort();
    await cluster.restart(0);
  }
});

test("the lease keeper renews a lease and reports it lost once etcd forgets it", async () => {
  const controller = new AbortController();
  const renewed: number[] = [];
  const lost: bigint[] = [];
  const keeper = createLeaseKeeper(etcd, { signal: controller.signal, onLost: (id) => lost.push(id), onRenewed: (_id, ttl) => renewed.push(ttl) });
  const { id } = await etcd.leaseGrant({ ttl: 3n });
  keeper.keep(id, 3);
  await waitFor(() => renewed.length >= 1, 5_000, "a renewal");
  expect(renewed[0]).toBe(3);
  await etcd.leaseRevoke({ id });
  // The next renewal learns that the lease is gone.
  await waitFor(() => lost.length === 1, 5_000, "the loss");
  expect(lost).toEqual([id]);
  expect(keeper.leases.size).toBe(0);
  controller.abort();
});
