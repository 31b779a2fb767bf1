// The xDS address book's bounds: lookups at once (XDS_DNS_CONCURRENCY), a
// lookup's time limit (XDS_DNS_TIMEOUT_SECONDS) and hostnames kept
// (XDS_DNS_MAX_HOSTS). Lookups are answered by the test; timeouts fire when it says.
import pino from "pino";
import { AddressBook, type AddressBookOptions } from "../../src/services/xds/address-book";
import { ManualScheduler } from "../helpers/manual-scheduler";

/** A resolver the test answers: each lookup waits until the test resolves it. */
class HeldLookups {
  readonly started: { host: string; answer: (ip: string | undefined) => void; signal: AbortSignal }[] = [];
  readonly lookup = (host: string, { signal }: { signal: AbortSignal }) =>
    new Promise<string | undefined>((resolve) => this.started.push({ host, answer: resolve, signal }));
  answer(host: string, ip: string | undefined): void {
    const at = this.started.findIndex((l) => l.host === host);
    if (at < 0) throw new Error(`no lookup of ${host} is running`);
    this.started.splice(at, 1)[0]!.answer(ip);
  }
  hosts(): string[] {
    return this.started.map((l) => l.host);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const lifetimes: AbortController[] = [];
afterEach(() => lifetimes.splice(0).forEach((c) => c.abort()));

function book(options: Partial<AddressBookOptions> & { inUse?: string[] }) {
  const lookups = new HeldLookups();
  const timers = new ManualScheduler();
  const changed: string[] = [];
  const warnings: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  const controller = new AbortController();
  lifetimes.push(controller);
  const addresses = new AddressBook({
    lookup: lookups.lookup,
    timers,
    onChange: (host) => changed.push(host),
    hostsInUse: () => new Set(options.inUse ?? []),
    logger,
    signal: controller.signal,
    ...options,
  });
  return { addresses, lookups, timers, changed, warnings };
}

test("at most XDS_DNS_CONCURRENCY lookups run at once; the others wait their turn, each hostname once", async () => {
  const hosts = ["a.test", "b.test", "c.test", "d.test", "e.test"];
  const { addresses, lookups, changed } = book({ maxLookups: 2, inUse: hosts });
  for (const host of hosts) expect(addresses.resolve(host)).toBeUndefined();
  expect(lookups.hosts()).toEqual(["a.test", "b.test"]);
  addresses.refresh(); // every host is waiting or running: none is queued twice
  lookups.answer("a.test", "10.0.0.1");
  await settle();
  expect(lookups.hosts()).toEqual(["b.test", "c.test"]);
  for (const host of ["b.test", "c.test", "d.test", "e.test"]) {
    lookups.answer(host, "10.0.0.2");
    await settle();
    expect(addresses.lookupsRunning).toBeLessThanOrEqual(2);
  }
  expect(lookups.hosts()).toEqual([]);
  expect(changed).toEqual(hosts);
  expect(hosts.map((h) => addresses.resolve(h))).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.2", "10.0.0.2"]);
});

test("a lookup slower than XDS_DNS_TIMEOUT_SECONDS counts as failed, is logged, and holds its slot until it returns", async () => {
  const { addresses, lookups, timers, warnings } = book({ maxLookups: 1, lookupTimeoutMs: 2_000, inUse: ["slow.test", "next.test"] });
  addresses.resolve("slow.test");
  addresses.resolve("next.test");
  expect(timers.pending().map((t) => t.delayMs)).toEqual([2_000]);
  timers.fireAll();
  expect(lookups.started[0]!.signal.aborted).toBe(true);
  expect(addresses.resolve("slow.test")).toBeUndefined();
  expect(warnings).toContainEqual(expect.stringContaining("XDS_DNS_TIMEOUT_SECONDS"));
  // Still running in the resolver: next.test waits, so hung lookups cannot pile up.
  expect(lookups.hosts()).toEqual(["slow.test"]);
  lookups.answer("slow.test", "10.0.0.9"); // too late: it stays failed until the next refresh
  await settle();
  expect(addresses.resolve("slow.test")).toBeUndefined();
  expect(lookups.hosts()).toEqual(["next.test"]);
  lookups.answer("next.test", "10.0.0.3");
  await settle();
  expect(addresses.resolve("next.test")).toBe("10.0.0.3");
  addresses.refresh();
  lookups.answer("slow.test", "10.0.0.9");
  await settle();
  expect(addresses.resolve("slow.test")).toBe("10.0.0.9");
});

test("at most XDS_DNS_MAX_HOSTS hostnames are kept: further ones are left out and logged, and asked for again once a refresh makes room", async () => {
  let inUse = ["a.test", "b.test", "c.test"];
  const { addresses, lookups, warnings, changed } = book({ maxHosts: 2, maxLookups: 10, hostsInUse: () => new Set(inUse) });
  addresses.resolve("a.test");
  addresses.resolve("b.test");
  expect(addresses.resolve("c.test")).toBeUndefined();
  expect(lookups.hosts()).toEqual(["a.test", "b.test"]);
  expect(warnings).toContainEqual(expect.stringContaining("XDS_DNS_MAX_HOSTS"));
  expect(addresses.resolve("10.1.2.3")).toBe("10.1.2.3"); // IP literals are not hostnames: no lookup, no place taken
  addresses.refresh(); // no room made: c.test's services are not rebuilt for nothing
  expect(changed).toEqual([]);
  inUse = ["a.test", "c.test"];
  addresses.refresh();
  expect(changed).toEqual(["c.test"]); // its services are rebuilt, which resolves it
  addresses.resolve("c.test");
  expect(lookups.hosts()).toContain("c.test");
});

test("a lookup that throws, even synchronously, fails its host and frees its slot", async () => {
  const { addresses, changed, warnings } = book({
    maxLookups: 1,
    lookup: (host) => {
      if (host === "sync.test") throw new Error("resolver exploded");
      return Promise.reject(new Error("ENOTFOUND"));
    },
  });
  addresses.resolve("sync.test");
  addresses.resolve("async.test");
  await settle();
  await settle();
  expect(addresses.lookupsRunning).toBe(0);
  expect(changed).toEqual([]);
  expect(warnings.filter((w) => w.includes("did not resolve"))).toHaveLength(2);
});
