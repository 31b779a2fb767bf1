// Every RegistryStore the contract suites run against, hono-style: one suite,
// several implementations, and each skip stated with its reason. The etcd store
// adds itself here (with start/stop for its etcd members).
import type { RegistryLimits } from "../../src/core/limits";
import { Registry } from "../../src/core/registry";
import type { RegistryStore } from "../../src/core/store";
import type { RegistryEvent } from "../../src/core/types";
import { MemoryStore } from "../../src/store/memory/memory-store";
import { EtcdStore } from "../../src/store/etcd/etcd-store";
import { startEtcdCluster, type EtcdCluster } from "../helpers/etcd-cluster";
import { ManualClock } from "../helpers/manual-clock";

export interface StoreUnderTest {
  readonly name: string;
  /** Starts what the store needs (etcd members), once per suite. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** A fresh, empty store. */
  open(options: { historySize: number }): Promise<RegistryStore>;
  /** Contract tests this store does not run, by test name, each with the reason. */
  readonly skips: Readonly<Record<string, string>>;
}

/** The memory store's first revision is after this one. */
export const BASE_REVISION = 5_000;

export const STORES_UNDER_TEST: readonly StoreUnderTest[] = [
  {
    name: "memory",
    open: async ({ historySize }) => new MemoryStore({ baseRevision: BASE_REVISION, historySize }),
    skips: {},
  },
  etcdStoreUnderTest(),
];

/** The etcd store on a real three-member etcd cluster; each store opens on a prefix of its own, so every test starts empty. */
function etcdStoreUnderTest(): StoreUnderTest {
  let cluster: EtcdCluster | undefined;
  let stores = 0;
  return {
    name: "etcd",
    start: async () => {
      cluster = await startEtcdCluster(3);
    },
    stop: async () => {
      await cluster?.close();
    },
    open: ({ historySize }) =>
      EtcdStore.open({ endpoints: cluster!.endpoints, prefix: `/contract-${process.pid}-${++stores}/`, nodeId: `contract-${stores}`, historySize, now: Date.now }),
    skips: {},
  };
}

export interface RegistryFixture {
  clock: ManualClock;
  registry: Registry;
  store: RegistryStore;
  /** Every event the store told, in order. */
  events: RegistryEvent[];
}

/**
 * Declares the hooks of a suite over one store and returns the current fixture
 * (a fresh registry per test; `reopen` swaps it for one with other limits), plus
 * `test` that honours the store's stated skips.
 */
export function useRegistry(subject: StoreUnderTest, limits: Partial<RegistryLimits> = {}) {
  let current: RegistryFixture | undefined;
  let ids = 0;
  const opened: RegistryStore[] = [];
  const reopen = async (overrides: Partial<RegistryLimits> = {}): Promise<RegistryFixture> => {
    const merged = { ...limits, ...overrides };
    const clock = new ManualClock();
    const store = await subject.open({ historySize: merged.historySize ?? 100 });
    opened.push(store);
    const registry = new Registry({ store, clock, newInstanceId: () => `generated-${++ids}`, limits: merged });
    const events: RegistryEvent[] = [];
    store.onEvent((event) => events.push(event));
    current = { clock, registry, store, events };
    return current;
  };
  if (subject.start !== undefined) beforeAll(() => subject.start!());
  if (subject.stop !== undefined) afterAll(() => subject.stop!());
  beforeEach(async () => {
    await reopen();
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  const fixture = (): RegistryFixture => {
    if (current === undefined) throw new Error("no registry: use the fixture inside a test");
    return current;
  };
  return { fixture, reopen, test: testHonouringSkips(subject) };
}

/** `test`, or `test.skip` with the reason in its name when the store states it skips this one. */
export function testHonouringSkips(subject: StoreUnderTest): (name: string, fn: () => Promise<void>) => void {
  return (name, fn) => {
    const reason = subject.skips[name];
    if (reason === undefined) test(name, fn);
    else test.skip(`${name} [skipped on ${subject.name}: ${reason}]`, fn);
  };
}
