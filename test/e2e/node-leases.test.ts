// A node's etcd leases against a real etcd 3.4 member: when etcd drops one (here
// revoked, as it drops a lease a node cut off could not renew), the node grants
// itself a fresh one: a write that met the lost instance lease runs again on a
// fresh lease (one grant for every such write), the keeper keeps that one alive,
// and a lost membership lease is replaced and the node rejoins with it.
import { NodeLeases } from "../../src/store/etcd/node-leases";
import type { EtcdClient } from "../../src/store/etcd/client/etcd-client";
import { utf8 } from "../../src/store/etcd/client/keys";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { waitFor } from "../helpers/wait-for";

jest.setTimeout(60_000);

const MEMBERSHIP_TTL_SECONDS = 2;
const INSTANCE_TTL_SECONDS = 4;

let cluster: EtcdCluster;
let etcd: EtcdClient;
let lifetime: AbortController;

beforeAll(async () => {
  cluster = await startEtcdCluster(1);
  etcd = await cluster.client();
});

beforeEach(() => {
  lifetime = new AbortController();
});

afterEach(() => lifetime.abort());

afterAll(async () => {
  await cluster?.close();
});

const grant = () => NodeLeases.grant(etcd, { membershipTtlSeconds: MEMBERSHIP_TTL_SECONDS, instanceTtlSeconds: INSTANCE_TTL_SECONDS, nodeId: "node-leases-test" });

async function nodeLeases(rejoined: bigint[] = []): Promise<NodeLeases> {
  const leases = await grant();
  leases.keepAlive(lifetime.signal, async (lease) => void rejoined.push(lease));
  return leases;
}

const leaseOfKey = async (key: string) => (await etcd.range({ key: utf8(key) })).kvs[0]?.lease;

test("writes that meet a lost instance lease run again on one fresh lease, which the keeper keeps alive", async () => {
  // No keeper yet: the writes, not the keeper, are the first to meet the lost lease.
  const leases = await grant();
  const lost = leases.instances;
  await etcd.leaseRevoke({ id: lost });

  const tried: bigint[] = [];
  const keys = ["/node-leases/a", "/node-leases/b", "/node-leases/c"];
  await Promise.all(
    keys.map((key) =>
      leases.withInstanceLease(async (lease) => {
        tried.push(lease);
        await etcd.put({ key: utf8(key), value: utf8("v"), lease });
      }),
    ),
  );

  const fresh = leases.instances;
  expect(fresh).not.toBe(lost);
  expect(tried.sort()).toEqual([lost, lost, lost, fresh, fresh, fresh].sort());
  for (const key of keys) expect(await leaseOfKey(key)).toBe(fresh);
  // Past the fresh lease's TTL its keys are still there: the keeper renews it.
  leases.keepAlive(lifetime.signal, async () => undefined);
  const renewedPast = Date.now() + (INSTANCE_TTL_SECONDS + 1) * 1000;
  await waitFor(() => Date.now() > renewedPast, (INSTANCE_TTL_SECONDS + 3) * 1000, "past the instance lease's TTL");
  for (const key of keys) expect(await leaseOfKey(key)).toBe(fresh);
});

test("a write that fails for another reason is not run again, and the lease stays", async () => {
  const leases = await nodeLeases();
  const lease = leases.instances;
  let calls = 0;
  const refused = await leases
    .withInstanceLease(async () => {
      calls++;
      throw new Error("not a lease problem");
    })
    .catch((error: Error) => error);
  expect(refused).toEqual(new Error("not a lease problem"));
  expect(calls).toBe(1);
  expect(leases.instances).toBe(lease);
});

test("a lost membership lease is replaced and the node rejoins with the fresh one", async () => {
  const rejoined: bigint[] = [];
  const leases = await nodeLeases(rejoined);
  const lost = leases.membership;
  await etcd.leaseRevoke({ id: lost });

  await waitFor(() => rejoined.length > 0, 10_000, "rejoined");
  expect(rejoined).toEqual([leases.membership]);
  expect(leases.membership).not.toBe(lost);
  expect(Number((await etcd.leaseTimeToLive({ id: leases.membership })).ttl)).toBeGreaterThan(0);
});

test("a lost instance lease is replaced when the keeper hears of it, before any write", async () => {
  const leases = await nodeLeases();
  const lost = leases.instances;
  await etcd.leaseRevoke({ id: lost });
  await waitFor(() => leases.instances !== lost, 10_000, "a fresh instance lease");
  expect(Number((await etcd.leaseTimeToLive({ id: leases.instances })).ttl)).toBeGreaterThan(0);
});
