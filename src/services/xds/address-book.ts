// Hostnames to IP literals for xDS endpoints, which must be addresses. Each
// host is looked up once, then again every refresh period; an answer that
// changes tells the caller, which rebuilds the services on that host. Bounded,
// by settings: at most `maxHosts` names are kept (the rest stay unresolved and
// are logged), at most `maxLookups` run at once (the others wait their turn, a
// host at most once), and a lookup slower than `lookupTimeoutMs` counts as failed.
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Logger } from "pino";

import type { Scheduler } from "../../health/scheduler";
import { DEFAULT_DNS_CONCURRENCY, DEFAULT_DNS_MAX_HOSTS, DEFAULT_DNS_REFRESH_MS, DEFAULT_DNS_TIMEOUT_MS } from "./xds-defaults";

export { DEFAULT_DNS_CONCURRENCY, DEFAULT_DNS_MAX_HOSTS, DEFAULT_DNS_REFRESH_MS, DEFAULT_DNS_TIMEOUT_MS };

/** Resolves a hostname to one IP literal (IPv4 first), or undefined. The signal aborts when the answer is no longer awaited. */
export type HostLookup = (host: string, options: { signal: AbortSignal }) => Promise<string | undefined>;

/** getaddrinfo, as every program on the machine resolves (it cannot be cancelled: a timed-out one keeps its slot until it returns). */
export const systemLookup: HostLookup = async (host) => {
  const answers = await dnsLookup(host, { all: true });
  const pick = answers.find((a) => a.family === 4) ?? answers[0];
  return pick?.address;
};

/** setTimeout, unref'd: the lookup timeouts. */
const realTimers: Scheduler = {
  schedule(delayMs, task) {
    const timer = setTimeout(task, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

export interface AddressBookOptions {
  refreshMs?: number;
  /** Hostnames kept resolved at most (XDS_DNS_MAX_HOSTS). */
  maxHosts?: number;
  /** Lookups running at once at most (XDS_DNS_CONCURRENCY). */
  maxLookups?: number;
  /** A lookup slower than this counts as failed (XDS_DNS_TIMEOUT_SECONDS). */
  lookupTimeoutMs?: number;
  lookup?: HostLookup;
  /** Runs the lookup timeouts (tests hold them in their hands). */
  timers?: Scheduler;
  /** A host's address appeared or changed. */
  onChange: (host: string) => void;
  /** The hostnames instances use now: the others are forgotten at each refresh. */
  hostsInUse: () => ReadonlySet<string>;
  logger: Logger;
  signal: AbortSignal;
}

type Entry = { t: "pending" } | { t: "resolved"; ip: string } | { t: "failed" };

export class AddressBook {
  private readonly entries = new Map<string, Entry>();
  /** Hosts waiting for a lookup slot, each once; never more than the entries. */
  private readonly waiting: string[] = [];
  /** Hosts waiting or being looked up: a refresh does not queue them again. */
  private readonly busy = new Set<string>();
  private running = 0;
  /** A hostname was turned away (XDS_DNS_MAX_HOSTS) since the last refresh. */
  private turnedAway = false;
  private readonly lookup: HostLookup;
  private readonly maxHosts: number;
  private readonly maxLookups: number;
  private readonly lookupTimeoutMs: number;
  private readonly timers: Scheduler;

  constructor(private readonly options: AddressBookOptions) {
    this.lookup = options.lookup ?? systemLookup;
    this.maxHosts = options.maxHosts ?? DEFAULT_DNS_MAX_HOSTS;
    this.maxLookups = options.maxLookups ?? DEFAULT_DNS_CONCURRENCY;
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
    this.timers = options.timers ?? realTimers;
    const timer = setInterval(() => this.refresh(), options.refreshMs ?? DEFAULT_DNS_REFRESH_MS);
    timer.unref();
    options.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  }

  /** The IP to send for `host` now; undefined while it is being (or cannot be) resolved. */
  resolve(host: string): string | undefined {
    if (isIP(host) !== 0) return host;
    const entry = this.entries.get(host);
    if (entry !== undefined) return entry.t === "resolved" ? entry.ip : undefined;
    if (this.entries.size >= this.maxHosts) {
      this.options.logger.warn({ host, maxHosts: this.maxHosts }, "xDS: too many hostnames to resolve (XDS_DNS_MAX_HOSTS); instance left out");
      this.turnedAway = true;
      return undefined;
    }
    this.entries.set(host, { t: "pending" });
    this.enqueue(host);
    return undefined;
  }

  /** Lookups running now (at most maxLookups). */
  get lookupsRunning(): number {
    return this.running;
  }

  /**
   * Forgets hostnames no instance uses any more, and looks the others up again.
   * Hostnames turned away for want of room are asked again (their services are
   * rebuilt) when room was made: nothing else would bring them back.
   */
  refresh(): void {
    const inUse = this.options.hostsInUse();
    let forgot = false;
    for (const host of this.entries.keys()) {
      if (inUse.has(host)) this.enqueue(host);
      else forgot = this.entries.delete(host);
    }
    if (!forgot || !this.turnedAway) return;
    this.turnedAway = false;
    for (const host of inUse) if (!this.entries.has(host) && isIP(host) === 0) this.options.onChange(host);
  }

  private enqueue(host: string): void {
    if (this.busy.has(host)) return;
    this.busy.add(host);
    this.waiting.push(host);
    this.startWaiting();
  }

  private startWaiting(): void {
    while (this.running < this.maxLookups && this.waiting.length > 0 && !this.options.signal.aborted) {
      const host = this.waiting.shift()!;
      if (this.entries.has(host)) this.start(host);
      else this.busy.delete(host); // forgotten while it waited
    }
  }

  private start(host: string): void {
    this.running++;
    const controller = new AbortController();
    let answered = false;
    const answer = (ip: string | undefined) => {
      if (answered) return;
      answered = true;
      timeout.cancel();
      this.record(host, ip);
    };
    const timeout = this.timers.schedule(this.lookupTimeoutMs, () => {
      this.options.logger.warn({ host, timeoutMs: this.lookupTimeoutMs }, "xDS: hostname lookup timed out (XDS_DNS_TIMEOUT_SECONDS); its instances are left out");
      answer(undefined);
      controller.abort();
    });
    // The slot is held until the lookup itself returns, timed out or not: that is what bounds them.
    new Promise<string | undefined>((resolve) => resolve(this.lookup(host, { signal: controller.signal })))
      .then(answer, (error: unknown) => {
        if (!answered) this.options.logger.warn({ host, err: error }, "xDS: hostname did not resolve; its instances are left out");
        answer(undefined);
      })
      .finally(() => {
        this.running--;
        this.busy.delete(host);
        this.startWaiting();
      });
  }

  private record(host: string, ip: string | undefined): void {
    const before = this.entries.get(host);
    if (before === undefined || this.options.signal.aborted) return; // forgotten meanwhile
    const after: Entry = ip === undefined ? { t: "failed" } : { t: "resolved", ip };
    this.entries.set(host, after);
    const changed = after.t === "resolved" ? before.t !== "resolved" || before.ip !== after.ip : before.t === "resolved";
    if (changed) this.options.onChange(host);
  }
}
