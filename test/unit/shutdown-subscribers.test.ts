// The subscribers of the one shutdown signal react to it themselves: the hub
// ends its subscriptions with the signal's reason, the health board turns the
// server NOT_SERVING. Also when the signal was aborted before they were made.
import { DiscoveryError } from "../../src/core/errors";
import { HealthBoard } from "../../src/services/grpc-health/board";
import { MemoryStore } from "../../src/store/memory/memory-store";
import { WatchHub } from "../../src/watch/watch-hub";

const store = () => new MemoryStore({ baseRevision: 1_000, historySize: 100 });

describe("the shutdown signal's subscribers", () => {
  test("the hub ends every subscription with the signal's reason and refuses new ones", async () => {
    const shutdown = new AbortController();
    const hub = new WatchHub({ store: store(), queueLimit: 10, maxWatchers: 10, signal: shutdown.signal });
    const sub = hub.subscribe({ services: [], sinceRevision: 0 });
    while (sub.take() !== undefined);
    const waiting = sub.next();
    const reason = new DiscoveryError("unavailable", "shutting down");
    shutdown.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(hub.watcherCount).toBe(0);
    expect(() => hub.subscribe({ services: [], sinceRevision: 0 })).toThrow(reason);
  });

  test("a hub made after the signal aborted refuses subscribers from the start", () => {
    const reason = new DiscoveryError("unavailable", "shutting down");
    const hub = new WatchHub({ store: store(), queueLimit: 10, maxWatchers: 10, signal: AbortSignal.abort(reason) });
    expect(() => hub.subscribe({ services: [], sinceRevision: 0 })).toThrow(reason);
  });

  test("the health board turns the server NOT_SERVING and tells its watchers", () => {
    const shutdown = new AbortController();
    const board = new HealthBoard(store(), ["discovery.v1.DiscoveryService"], { signal: shutdown.signal });
    const heard: (string | undefined)[] = [];
    board.watch("", (status) => heard.push(status));
    expect(board.status("discovery.v1.DiscoveryService")).toBe("serving");
    shutdown.abort();
    expect(board.status("")).toBe("not-serving");
    expect(board.status("discovery.v1.DiscoveryService")).toBe("not-serving");
    expect(heard).toEqual(["not-serving"]);
  });
});
