// Hostnames to IP literals for xDS endpoints, which must be addresses. Each
// host is looked up once, then again every refresh period; an answer that
// changes tells the caller, which rebuilds the services on that host. Bounded:
// at most `maxHosts` names are kept, the rest stay unresolved and are logged.
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Logger } from "pino";

import { DEFAULT_DNS_REFRESH_MS } from "./xds-defaults";

export { DEFAULT_DNS_REFRESH_MS };
/** Distinct hostnames kept resolved at most. */
export const DEFAULT_MAX_HOSTS = 10_000;

/** Resolves a hostname to one IP literal (IPv4 first), or undefined. */
export type HostLookup = (host: string) => Promise<string | undefined>;

export const systemLookup: HostLookup = async (host) => {
  const answers = await dnsLookup(host, { all: true });
  const pick = answers.find((a) => a.family === 4) ?? answers[0];
  return pick?.address;
};

export interface AddressBookOptions {
  refreshMs?: number;
  maxHosts?: number;
  lookup?: HostLookup;
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
  private readonly lookup: HostLookup;
  private readonly maxHosts: number;

  constructor(private readonly options: AddressBookOptions) {
    this.lookup = options.lookup ?? systemLookup;
    this.maxHosts = options.maxHosts ?? DEFAULT_MAX_HOSTS;
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
      this.options.logger.warn({ host, maxHosts: this.maxHosts }, "xDS: too many hostnames to resolve; instance left out");
      return undefined;
    }
    this.entries.set(host, { t: "pending" });
    void this.settle(host);
    return undefined;
  }

  /** Forgets hostnames no instance uses any more, and looks the others up again. */
  private refresh(): void {
    const inUse = this.options.hostsInUse();
    for (const host of this.entries.keys()) {
      if (inUse.has(host)) void this.settle(host);
      else this.entries.delete(host);
    }
  }

  private async settle(host: string): Promise<void> {
    let ip: string | undefined;
    try {
      ip = await this.lookup(host);
    } catch (error) {
      ip = undefined;
      this.options.logger.warn({ host, err: error }, "xDS: hostname did not resolve; its instances are left out");
    }
    const before = this.entries.get(host);
    if (before === undefined || this.options.signal.aborted) return; // forgotten meanwhile
    const after: Entry = ip === undefined ? { t: "failed" } : { t: "resolved", ip };
    this.entries.set(host, after);
    const changed = after.t === "resolved" ? before.t !== "resolved" || before.ip !== after.ip : before.t === "resolved";
    if (changed) this.options.onChange(host);
  }
}
