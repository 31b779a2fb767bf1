// One Watch subscriber: what it must still receive, bounded. Publishing to it is
// O(1) and never waits; a subscriber that falls too far behind loses its queue
// and is sent RESET and a fresh snapshot instead, so it converges in bounded memory.
// A snapshot is read from the registry as it is sent, never copied up front, so a
// stalled subscriber holds no more than its bounded queue of events.
import type { InstanceView, RegistryEvent } from "../core/types";

/** What a Watch stream carries, before it is put on the wire. */
export type WatchItem =
  | { readonly t: "reset"; readonly reason: string; readonly revision: number }
  | { readonly t: "snapshot"; readonly instance: InstanceView; readonly revision: number }
  | { readonly t: "synced"; readonly revision: number }
  | { readonly t: "event"; readonly event: RegistryEvent };

/** A registry event as a Watch item: made once per event by the hub and shared by every subscriber. */
export type EventItem = Extract<WatchItem, { t: "event" }>;

/** What a subscriber is sent before live events, produced as it is read, and the revision it brings it to. */
export interface Preface {
  readonly items: Iterator<WatchItem>;
  readonly revision: number;
}

/** Builds RESET + snapshot + SYNCED items for a subscriber starting over. */
export type Resync = (reason: string | undefined) => Preface;

/** Compact the queue's consumed prefix once it is this long (amortised O(1) shift). */
const COMPACT_AFTER = 1024;

export interface SubscriptionOptions {
  /** Services followed; undefined follows all. */
  services: ReadonlySet<string> | undefined;
  /**
   * What to send first: a snapshot or a replay, then SYNCED; its revision covers
   * later pushes at or below it. Undefined while the store is still answering
   * (see begin): live events queue meanwhile.
   */
  preface: Preface | undefined;
  /** Pending events before the subscriber is dropped and resynced. */
  queueLimit: number;
  resync: Resync;
  onOverflow: () => void;
  onClose: (sub: Subscription) => void;
}

/** Where a subscription in push mode delivers: synchronously, until it says it is full. */
export interface WatchSink {
  write(item: WatchItem): boolean;
  end(error?: unknown): void;
}

export class Subscription implements AsyncIterator<WatchItem>, AsyncIterable<WatchItem> {
  /** Items to send before queued events: a snapshot or a replay, then SYNCED. */
  private preface: Iterator<WatchItem> | undefined;
  /** True until the preface is known: nothing is sent, live events queue. */
  private starting: boolean;
  private queue: EventItem[] = [];
  private queueAt = 0;
  private resetReason: string | undefined;
  private waiter: ((result: IteratorResult<WatchItem>) => void) | undefined;
  private failWaiter: ((error: unknown) => void) | undefined;
  private ended: { error: unknown } | undefined;
  private sink: WatchSink | undefined;
  /** Events at or below this revision are in what the subscriber was (or will be) sent. */
  private floor: number;
  private sinkFull = false;
  readonly services: ReadonlySet<string> | undefined;
  private readonly queueLimit: number;
  private readonly resync: Resync;
  private readonly onOverflow: () => void;
  private readonly onClose: (sub: Subscription) => void;

  constructor(options: SubscriptionOptions) {
    this.services = options.services;
    this.preface = options.preface?.items;
    this.starting = options.preface === undefined;
    this.floor = options.preface?.revision ?? Number.NEGATIVE_INFINITY;
    this.queueLimit = options.queueLimit;
    this.resync = options.resync;
    this.onOverflow = options.onOverflow;
    this.onClose = options.onClose;
  }

  /** True while the subscriber's backlog is dropped and a resync awaits its next read. */
  get awaitingResync(): boolean {
    return this.resetReason !== undefined;
  }

  /** Pending live events (not counting a snapshot still being sent). */
  get pending(): number {
    return this.queue.length - this.queueAt;
  }

  /**
   * The preface the store answered: queued events it already covers (at or
   * below its revision) are dropped, the rest follow it.
   */
  begin(preface: Preface): void {
    if (!this.starting || this.ended !== undefined) return;
    this.starting = false;
    // A subscriber that overflowed while waiting is resynced instead (resetReason stays).
    if (this.resetReason !== undefined) return;
    this.preface = preface.items;
    this.floor = preface.revision;
    this.queue = this.queue.slice(this.queueAt).filter((item) => item.event.revision > preface.revision);
    this.queueAt = 0;
    this.wake();
  }

  /** Called by the hub for each matching event; never blocks. */
  push(item: EventItem): void {
    // A sweep that started before this subscriber's snapshot (or resync) may still
    // hand it older events: they are already in what it was sent.
    if (this.ended !== undefined || this.resetReason !== undefined || item.event.revision <= this.floor) return;
    // Push mode with room and nothing queued: hand the event straight over.
    if (this.sink !== undefined && !this.sinkFull && !this.starting && this.pending === 0 && this.preface === undefined) {
      if (!this.sink.write(item)) this.sinkFull = true;
      return;
    }
    if (this.waiter !== undefined && !this.starting) {
      const wake = this.waiter;
      this.waiter = this.failWaiter = undefined;
      wake({ done: false, value: item });
      return;
    }
    if (this.pending >= this.queueLimit) {
      // Too far behind: drop what it holds; it will be resynced when it reads again.
      this.dropForResync("slow-consumer");
      this.onOverflow();
      // Only a subscriber still waiting for its preface can have a reader waiting here.
      if (this.starting) this.wake();
      return;
    }
    this.queue.push(item);
  }

  /**
   * Starts over: drops what it holds and sends RESET (with `reason`) and a fresh
   * snapshot now, or at its next read (the store's view was replaced, see onResync).
   */
  restart(reason: string): void {
    if (this.ended !== undefined) return;
    this.dropForResync(reason);
    this.wake();
  }

  private dropForResync(reason: string): void {
    this.queue = [];
    this.queueAt = 0;
    this.preface = undefined;
    this.resetReason = reason;
  }

  next(): Promise<IteratorResult<WatchItem>> {
    const ready = this.take();
    if (ready !== undefined) return Promise.resolve({ done: false, value: ready });
    if (this.ended !== undefined) {
      return this.ended.error === undefined
        ? Promise.resolve({ done: true, value: undefined })
        : Promise.reject(this.ended.error);
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  /** The next item if one is ready now, without waiting. */
  take(): WatchItem | undefined {
    if (this.ended !== undefined) return undefined;
    if (this.resetReason !== undefined) {
      this.starting = false;
      const fresh = this.resync(this.resetReason);
      this.preface = fresh.items;
      this.floor = fresh.revision;
      this.resetReason = undefined;
    }
    if (this.starting) return undefined;
    if (this.preface !== undefined) {
      const next = this.preface.next();
      if (next.done !== true) return next.value;
      this.preface = undefined;
    }
    if (this.queueAt < this.queue.length) {
      const item = this.queue[this.queueAt++]!;
      if (this.queueAt === this.queue.length) {
        this.queue = [];
        this.queueAt = 0;
      } else if (this.queueAt >= COMPACT_AFTER) {
        this.queue = this.queue.slice(this.queueAt);
        this.queueAt = 0;
      }
      return item;
    }
    return undefined;
  }

  /**
   * Switches to push mode: items go to the sink synchronously while it accepts
   * them; when it is full they queue (bounded as ever) until resume().
   */
  attach(sink: WatchSink): { resume(): void; cancel(reason?: unknown): void } {
    this.sink = sink;
    this.flush();
    return {
      resume: () => {
        this.sinkFull = false;
        this.flush();
      },
      cancel: (reason) => this.close(reason),
    };
  }

  /** Hands what is ready to whoever waits: the pending next() or the sink. */
  private wake(): void {
    if (this.sink !== undefined) {
      if (!this.sinkFull) this.flush();
      return;
    }
    if (this.waiter === undefined) return;
    const item = this.take();
    if (item === undefined) return;
    const wake = this.waiter;
    this.waiter = this.failWaiter = undefined;
    wake({ done: false, value: item });
  }

  private flush(): void {
    const sink = this.sink!;
    while (!this.sinkFull) {
      const item = this.take();
      if (item === undefined) return;
      if (!sink.write(item)) this.sinkFull = true;
    }
  }

  /** Ends the subscription: normally, or (shutdown) with an error its reader will see. */
  close(error?: unknown): void {
    if (this.ended !== undefined) return;
    this.ended = { error };
    this.queue = [];
    this.preface = undefined;
    this.onClose(this);
    if (this.sink !== undefined) {
      const sink = this.sink;
      this.sink = undefined;
      sink.end(error);
      return;
    }
    const wake = this.waiter;
    const fail = this.failWaiter;
    this.waiter = this.failWaiter = undefined;
    if (error !== undefined) fail?.(error);
    else wake?.({ done: true, value: undefined });
  }

  return(): Promise<IteratorResult<WatchItem>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchItem> {
    return this;
  }
}
