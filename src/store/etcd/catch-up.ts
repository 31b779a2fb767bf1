// Whether this node's view is current with etcd. A reconnected watch is not yet
// current: etcd first replays what the node missed, and a compaction makes it
// reload. grpc.health.v1 reports the server NOT_SERVING until the view caught up.
import type { Logger } from "pino";
import { createBackoff, sleep } from "../../client/backoff";

/** Why the view may be missing changes etcd already has. */
export type BehindReason =
  /** Loaded at start; the watch has not yet proved nothing came after the load. */
  | "starting"
  /** The watch broke (etcd unreachable, or the member it was on went away). */
  | "watch-lost"
  /** The watch is back and replays what the node missed, up to `target`. */
  | "catching-up"
  /** etcd compacted past the node's watch: the registry is being reloaded. */
  | "resyncing";

export type SyncState =
  | { readonly t: "current" }
  | { readonly t: "behind"; readonly reason: BehindReason; readonly since: number; readonly target?: number };

export interface CatchUpOptions {
  /** The revision the view has taken in (events, a vouched progress report, a reload). */
  seen(): number;
  /**
   * Writes a key the node watches and resolves with its revision. Its event
   * reaches the watch after every change before it: a catch-up with nothing
   * else of ours to deliver still ends.
   */
  writeMark(signal: AbortSignal): Promise<number>;
  now(): number;
  signal: AbortSignal;
  logger?: Logger;
}

/** Largest pause between two attempts to write the catch-up mark (etcd has no quorum, the lease is being renewed). */
export const CATCH_UP_MARK_RETRY_MAX_MS = 2_000;

export class CatchUp {
  private current: SyncState;
  /** Bumped on every watch (re)connection and loss: a mark loop of an older connection stops. */
  private connection = 0;
  private readonly listeners = new Set<(inSync: boolean) => void>();

  constructor(private readonly options: CatchUpOptions) {
    this.current = { t: "behind", reason: "starting", since: options.now() };
  }

  get state(): SyncState {
    return this.current;
  }

  get inSync(): boolean {
    return this.current.t === "current";
  }

  /** Hears each change between in sync and behind. */
  onChange(listener: (inSync: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  watchLost(): void {
    this.connection++;
    this.fallBehind("watch-lost");
  }

  resyncing(): void {
    this.connection++;
    this.fallBehind("resyncing");
  }

  /**
   * The watch is (re)connected and etcd is at `headerRevision`: the view is
   * current once it has taken that revision in. When it already has, at once;
   * otherwise a mark written now guarantees an event at or past it will come.
   */
  connected(headerRevision: number): void {
    const connection = ++this.connection;
    if (this.options.seen() >= headerRevision) return this.set({ t: "current" });
    const since = this.current.t === "behind" ? this.current.since : this.options.now();
    this.set({ t: "behind", reason: "catching-up", since, target: headerRevision });
    void this.markUntilCaughtUp(connection);
  }

  /** The view has taken in `seen`. */
  advanced(seen: number): void {
    const state = this.current;
    if (state.t === "behind" && state.reason === "catching-up" && seen >= state.target!) this.set({ t: "current" });
  }

  private fallBehind(reason: BehindReason): void {
    const since = this.current.t === "behind" ? this.current.since : this.options.now();
    this.set({ t: "behind", reason, since });
  }

  private set(next: SyncState): void {
    const before = this.current;
    this.current = next;
    if ((before.t === "current") === (next.t === "current")) return;
    const logger = this.options.logger;
    if (next.t === "current" && before.t === "behind") logger?.info({ behindMs: this.options.now() - before.since, reason: before.reason }, "caught up with etcd");
    else if (next.t === "behind") logger?.warn({ reason: next.reason }, "behind etcd: reporting NOT_SERVING until caught up");
    for (const listener of this.listeners) listener(next.t === "current");
  }

  private async markUntilCaughtUp(connection: number): Promise<void> {
    const backoff = createBackoff({ initialMs: 100, maxMs: CATCH_UP_MARK_RETRY_MAX_MS });
    const { signal } = this.options;
    while (!signal.aborted && this.connection === connection && !this.inSync) {
      try {
        await this.options.writeMark(signal);
        return; // its event ends the catch-up, on this connection or (when it breaks) the next decides again
      } catch (error) {
        this.options.logger?.warn({ err: error }, "writing the catch-up mark failed; retrying");
        await sleep(backoff.next(), signal);
      }
    }
  }
}
