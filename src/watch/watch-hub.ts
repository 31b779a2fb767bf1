// The Watch fan-out: subscribers indexed by the services they follow, fed by the
// registry's events. Starting a subscription (snapshot or replay) and joining the
// live feed happen in one synchronous step, so nothing is missed or sent twice.
import { DiscoveryError } from "../core/errors";
import type { Registry } from "../core/registry";
import type { RegistryEvent } from "../core/types";
import { Subscription, type WatchItem } from "./subscription";

export interface WatchHubOptions {
  registry: Registry;
  /** Pending events per subscriber before it is reset (WATCH_QUEUE_LIMIT). */
  queueLimit: number;
  /** Subscribers at most (DISCOVERY_MAX_WATCHERS). */
  maxWatchers: number;
}

export interface SubscribeOptions {
  /** Services to follow; empty follows all. */
  services: readonly string[];
  /** 0: start from a snapshot; otherwise resume after this revision. */
  sinceRevision: number;
}

export class WatchHub {
  private readonly registry: Registry;
  private readonly queueLimit: number;
  private readonly maxWatchers: number;
  private readonly everything = new Set<Subscription>();
  private readonly byService = new Map<string, Set<Subscription>>();
  private count = 0;
  private closedWith: unknown;
  private readonly unsubscribe: () => void;

  /** Times a subscriber's backlog was dropped for being slow, over the hub's life. */
  slowResets = 0;

  constructor(options: WatchHubOptions) {
    this.registry = options.registry;
    this.queueLimit = options.queueLimit;
    this.maxWatchers = options.maxWatchers;
    this.unsubscribe = this.registry.onEvent((event) => this.publish(event));
  }

  get watcherCount(): number {
    return this.count;
  }

  subscribe(options: SubscribeOptions): Subscription {
    if (this.closedWith !== undefined) throw this.closedWith;
    if (this.count >= this.maxWatchers) {
      throw new DiscoveryError(
        "resource-exhausted",
        `too many watchers: ${this.maxWatchers} are connected (DISCOVERY_MAX_WATCHERS)`,
      );
    }
    const services = options.services.length === 0 ? undefined : new Set(options.services);
    const preface = this.preface(services, options.sinceRevision);
    const sub = new Subscription({
      services,
      preface,
      queueLimit: this.queueLimit,
      resync: (reason) => this.resync(services, reason),
      onOverflow: () => this.slowResets++,
      onClose: (closed) => this.remove(closed),
    });
    this.add(sub);
    return sub;
  }

  /** Ends every subscription with `error` and refuses new ones (shutdown). */
  close(error: unknown): void {
    this.closedWith = error;
    this.unsubscribe();
    for (const sub of [...this.everything]) sub.close(error);
    for (const subs of [...this.byService.values()]) for (const sub of [...subs]) sub.close(error);
  }

  private publish(event: RegistryEvent): void {
    for (const sub of this.everything) sub.push(event);
    const subs = this.byService.get(event.instance.serviceName);
    if (subs !== undefined) for (const sub of subs) sub.push(event);
  }

  private preface(services: ReadonlySet<string> | undefined, since: number): WatchItem[] {
    if (since === 0) return this.resync(services, undefined);
    const replay = this.registry.history.since(since, this.registry.revision);
    if (replay.t === "refused") return this.resync(services, replay.reason);
    const items: WatchItem[] = [];
    for (const event of replay.events) {
      if (services === undefined || services.has(event.instance.serviceName)) items.push({ t: "event", event });
    }
    items.push({ t: "synced", revision: this.registry.revision });
    return items;
  }

  /** [RESET], one SNAPSHOT per instance, SYNCED: the whole current state. */
  private resync(services: ReadonlySet<string> | undefined, resetReason: string | undefined): WatchItem[] {
    const revision = this.registry.revision;
    const items: WatchItem[] = [];
    if (resetReason !== undefined) items.push({ t: "reset", reason: resetReason, revision });
    for (const instance of this.registry.snapshot(services)) items.push({ t: "snapshot", instance, revision });
    items.push({ t: "synced", revision });
    return items;
  }

  private add(sub: Subscription): void {
    this.count++;
    if (sub.services === undefined) {
      this.everything.add(sub);
      return;
    }
    for (const name of sub.services) {
      let subs = this.byService.get(name);
      if (subs === undefined) this.byService.set(name, (subs = new Set()));
      subs.add(sub);
    }
  }

  private remove(sub: Subscription): void {
    if (sub.services === undefined) {
      if (this.everything.delete(sub)) this.count--;
      return;
    }
    let removed = false;
    for (const name of sub.services) {
      const subs = this.byService.get(name);
      if (subs?.delete(sub)) removed = true;
      if (subs?.size === 0) this.byService.delete(name);
    }
    if (removed) this.count--;
  }
}
