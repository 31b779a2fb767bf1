// Cluster mode's sink ownership: of the live nodes that have a sink, exactly
// one publishes each event (the one rendezvous hashing picks for its service);
// the others hold it, and publish it when its owner leaves before the hold ends,
// so a node's death costs at most a duplicate, never a lost event.
import type { RegistryEvent } from "../../src/core/types";
import { clusterOwnership, type ClusterMembership } from "../../src/sinks/ownership";
import { rendezvousOwner } from "../../src/store/etcd/rendezvous";

const NODE_TTL_MS = 2_000;

function cluster(nodes: string[]) {
  let members = new Set(nodes);
  const listeners = new Set<() => void>();
  let now = 0;
  const shutdown = new AbortController();
  const node = (nodeId: string) => {
    const membership: ClusterMembership = {
      nodeId,
      members: () => members,
      onMembersChange: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      nodeTtlMs: NODE_TTL_MS,
    };
    const published: string[] = [];
    let dropped = 0;
    const ownership = clusterOwnership({ membership, maxHeld: 3, now: () => now, signal: shutdown.signal, onEvicted: () => dropped++ });
    const take = (event: RegistryEvent) => ownership.admit(event, undefined, (e) => published.push(`${e.instance.serviceName}/${e.instance.instanceId}`));
    return { ownership, take, published, dropped: () => dropped };
  };
  return {
    node,
    leave: (nodeId: string) => {
      members = new Set([...members].filter((m) => m !== nodeId));
      for (const listener of listeners) listener();
    },
    advance: (ms: number) => (now += ms),
    close: () => shutdown.abort(),
  };
}

const event = (serviceName: string, instanceId = "i") => ({ revision: 1, type: "registered", instance: { serviceName, instanceId }, occurredAt: 0 }) as unknown as RegistryEvent;
/** A service name that rendezvous hashing gives to `owner` among `members`. */
function serviceOwnedBy(owner: string, members: string[], from = 0): string {
  for (let i = from; ; i++) if (rendezvousOwner(`svc-${i}`, members) === owner) return `svc-${i}`;
}

test("each event is published by exactly one of the nodes, and one service's events by the same node", () => {
  const c = cluster(["a", "b", "c"]);
  const nodes = ["a", "b", "c"].map(c.node);
  for (let i = 0; i < 30; i++) for (const n of nodes) n.take(event(`svc-${i}`, `x${i}`));
  const all = nodes.flatMap((n) => n.published).sort();
  expect(all).toEqual(Array.from({ length: 30 }, (_, i) => `svc-${i}/x${i}`).sort());
  for (const n of nodes) expect(n.published.length).toBeGreaterThan(0);
  expect(nodes.filter((n) => n.ownership.ownsSummaries())).toHaveLength(1);
  c.close();
});

test("when an event's owner leaves, the service's new owner publishes what it held; a later leave changes nothing", () => {
  const c = cluster(["a", "b", "c"]);
  const [a, b, cc] = ["a", "b", "c"].map(c.node) as [ReturnType<typeof c.node>, ReturnType<typeof c.node>, ReturnType<typeof c.node>];
  const service = serviceOwnedBy("a", ["a", "b", "c"]);
  // "a" died before it could publish: only b and c take the event.
  b.take(event(service));
  cc.take(event(service));
  expect([...b.published, ...cc.published]).toEqual([]);
  c.advance(NODE_TTL_MS); // its membership key expires a node TTL later
  c.leave("a");
  const heir = rendezvousOwner(service, ["b", "c"]) === "b" ? b : cc;
  const other = heir === b ? cc : b;
  expect(heir.published).toEqual([`${service}/i`]);
  expect(other.published).toEqual([]);
  expect(a.published).toEqual([]);
  c.leave("nobody");
  expect(heir.published).toHaveLength(1);
  c.close();
});

test("what a node holds goes after twice the node TTL (plus 5 s), and past maxHeld the oldest go, counted", () => {
  const c = cluster(["a", "b"]);
  const b = c.node("b");
  const mine = serviceOwnedBy("a", ["a", "b"]);
  b.take(event(mine, "old"));
  c.advance(2 * NODE_TTL_MS + 5_001);
  c.leave("a"); // too late for "old": a live owner published it long ago
  expect(b.published).toEqual([]);

  const c2 = cluster(["a", "b"]);
  const b2 = c2.node("b");
  for (const id of ["1", "2", "3", "4"]) b2.take(event(mine, id));
  expect(b2.dropped()).toBe(1);
  c2.leave("a");
  expect(b2.published).toEqual([`${mine}/2`, `${mine}/3`, `${mine}/4`]);
  c.close();
  c2.close();
});

test("two owners die together: the event held for the first goes to the second, and to the survivor when that one's key expires too", () => {
  const c = cluster(["a", "b", "c"]);
  const survivor = c.node("c");
  let service = "";
  for (let i = 0; service === ""; i++) if (rendezvousOwner(`svc-${i}`, ["a", "b", "c"]) === "a" && rendezvousOwner(`svc-${i}`, ["b", "c"]) === "b") service = `svc-${i}`;
  survivor.take(event(service, "x"));
  c.leave("a"); // b is dead too, its key not yet expired
  expect(survivor.published).toEqual([]);
  c.leave("b");
  expect(survivor.published).toEqual([`${service}/x`]);
  c.close();
});

test("held events go out, in order, when their owner leaves: before anything the same node takes after it left", () => {
  const c = cluster(["a", "b"]);
  const b = c.node("b");
  const service = serviceOwnedBy("a", ["a", "b"]);
  b.take(event(service, "r1-registered"));
  c.leave("a"); // the cluster link tells its listeners at once, before the batch's next change
  b.take(event(service, "r3-unregistered"));
  expect(b.published).toEqual([`${service}/r1-registered`, `${service}/r3-unregistered`]);
  c.close();
});
