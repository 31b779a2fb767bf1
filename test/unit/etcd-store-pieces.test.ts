// The pure pieces of the etcd store: the bound on an instance record and the
// rendezvous choice of each instance's prober.
import { DiscoveryError } from "../../src/core/errors";
import type { InstanceView } from "../../src/core/types";
import { decodeRecord, encodeRecord, MAX_INSTANCE_RECORD_BYTES } from "../../src/store/etcd/instance-record";
import { rendezvousOwner } from "../../src/store/etcd/rendezvous";
import { passingProberElsewhere } from "../../src/store/etcd/lease-handover";

const instance = (metadata: Record<string, string> = {}) =>
  ({ serviceName: "s", instanceId: "i", host: "10.0.0.1", port: 1, metadata, status: "healthy", ttlMs: 30_000 }) as unknown as InstanceView;

test("a record round-trips, and one past the etcd store's limit is refused as resource-exhausted before etcd sees it", () => {
  const record = { holder: "n1", instance: instance({ zone: "eu" }), event: { type: "registered" as const, occurredAt: 5 } };
  expect(decodeRecord(encodeRecord(record))).toEqual(record);
  const huge = instance({ blob: "x".repeat(MAX_INSTANCE_RECORD_BYTES) });
  let error: unknown;
  try {
    encodeRecord({ holder: "n1", instance: huge });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DiscoveryError);
  expect((error as DiscoveryError).reason).toBe("resource-exhausted");
  expect(decodeRecord(new TextEncoder().encode("not json"))).toBeUndefined();
});

test("rendezvous gives every instance one owner among the members, and losing a member moves only its share", () => {
  const members = ["a", "b", "c"];
  const keys = Array.from({ length: 3000 }, (_, i) => `svc/i${i}`);
  const owners = new Map(keys.map((k) => [k, rendezvousOwner(k, members)!]));
  const counts = members.map((m) => [...owners.values()].filter((o) => o === m).length);
  for (const count of counts) expect(count).toBeGreaterThan(800); // roughly a third each
  const survivors = ["a", "c"];
  for (const k of keys) {
    const after = rendezvousOwner(k, survivors)!;
    if (owners.get(k) !== "b") expect(after).toBe(owners.get(k));
    else expect(survivors).toContain(after);
  }
  expect(rendezvousOwner("x", [])).toBeUndefined();
});

test("a lease that ran out goes to the instance's prober only when that is another node and the last written status says its probes pass", () => {
  const check = { probe: { t: "http" } } as unknown as InstanceView["healthCheck"];
  const probed = (status: string) => ({ ...instance(), healthCheck: check, status }) as unknown as InstanceView;
  const members = ["a", "b", "c"];
  const prober = rendezvousOwner("s/i", members)!;
  const other = members.find((m) => m !== prober)!;
  expect(passingProberElsewhere(probed("healthy"), members, other)).toBe(prober);
  expect(passingProberElsewhere(probed("degraded"), members, other)).toBe(prober);
  expect(passingProberElsewhere(probed("healthy"), members, prober)).toBeUndefined(); // its own probes renew it
  for (const status of ["unknown", "unhealthy", "draining"]) expect(passingProberElsewhere(probed(status), members, other)).toBeUndefined();
  expect(passingProberElsewhere(instance(), members, other)).toBeUndefined(); // no health check: it expires
});
