// When a cluster node's view counts as caught up with etcd (src/store/etcd/catch-up.ts):
// not at start, not while its watch is lost or a compaction forces a reload, and after
// a reconnect only once it has taken in the revision etcd was at when the watch came back.
import { CatchUp, type CatchUpOptions } from "../../src/store/etcd/catch-up";
import { waitFor } from "../helpers/wait-for";

function harness(options: { markFails?: number } = {}) {
  let seen = 10;
  let clock = 1_000;
  let failuresLeft = options.markFails ?? 0;
  const marks: number[] = [];
  let attempts = 0;
  const lifetime = new AbortController();
  const catchUp = new CatchUp({
    seen: () => seen,
    writeMark: async () => {
      attempts++;
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error("no quorum");
      }
      marks.push(clock);
      return 100;
    },
    now: () => clock,
    signal: lifetime.signal,
  } satisfies CatchUpOptions);
  const heard: boolean[] = [];
  catchUp.onChange((inSync) => heard.push(inSync));
  return {
    catchUp,
    marks,
    attempts: () => attempts,
    heard,
    see(revision: number) {
      seen = revision;
      catchUp.advanced(revision);
    },
    tick(ms: number) {
      clock += ms;
    },
    stop: () => lifetime.abort(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("a node is behind from its start until its watch connects with nothing newer than its load", () => {
  const h = harness();
  expect(h.catchUp.state).toEqual({ t: "behind", reason: "starting", since: 1_000 });
  h.catchUp.connected(10);
  expect(h.catchUp.inSync).toBe(true);
  expect(h.heard).toEqual([true]);
  expect(h.marks).toEqual([]); // nothing to wait for: no mark written
  h.stop();
});

test("after a reconnect the node stays behind until it has taken in the revision etcd was at, and writes one mark so that revision comes", async () => {
  const h = harness();
  h.catchUp.connected(10);
  h.tick(50);
  h.catchUp.watchLost();
  expect(h.catchUp.state).toEqual({ t: "behind", reason: "watch-lost", since: 1_050 });
  h.tick(500);
  h.catchUp.connected(40); // etcd moved on to 40 meanwhile
  expect(h.catchUp.state).toEqual({ t: "behind", reason: "catching-up", since: 1_050, target: 40 });
  await settle();
  expect(h.marks).toEqual([1_550]);
  h.see(25); // part of the catch-up
  expect(h.catchUp.inSync).toBe(false);
  h.see(40);
  expect(h.catchUp.inSync).toBe(true);
  expect(h.heard).toEqual([true, false, true]);
  h.stop();
});

test("a compaction keeps the node behind through the reload: revisions the reload brings do not count until the new watch connects", () => {
  const h = harness();
  h.catchUp.connected(10);
  h.catchUp.watchLost();
  h.catchUp.connected(60);
  h.catchUp.resyncing();
  h.see(70); // the reload's revision
  expect(h.catchUp.state).toMatchObject({ t: "behind", reason: "resyncing" });
  h.catchUp.connected(70);
  expect(h.catchUp.inSync).toBe(true);
  expect(h.heard).toEqual([true, false, true]);
  h.stop();
});

test("a mark that fails (etcd without quorum) is retried until it is written; the node stays behind meanwhile", async () => {
  const h = harness({ markFails: 2 });
  h.catchUp.connected(30);
  await waitFor(() => h.marks.length === 1, 10_000, "the mark written after two failures");
  expect(h.attempts()).toBe(3);
  expect(h.catchUp.inSync).toBe(false);
  h.see(100); // the mark's own event
  expect(h.catchUp.inSync).toBe(true);
  h.stop();
});

test("losing the watch again stops the previous connection's mark loop", async () => {
  const h = harness({ markFails: 1000 });
  h.catchUp.connected(30);
  await waitFor(() => h.attempts() >= 2, 10_000, "a retried mark");
  h.catchUp.watchLost();
  const attempts = h.attempts();
  // Longer than the retry pause under way (at most 400 ms this early): a loop that went on would have tried again.
  await new Promise((resolve) => setTimeout(resolve, 600));
  expect(h.attempts()).toBe(attempts);
  expect(h.catchUp.state).toMatchObject({ t: "behind", reason: "watch-lost" });
  h.stop();
});
