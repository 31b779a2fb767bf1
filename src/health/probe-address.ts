// Resolves a probe's host and checks every candidate address against the
// policy, at every probe: the probe then dials the checked address itself, so
// a name that resolves differently next time (DNS rebinding) cannot get past.
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { checkAddress, type AddressPolicy } from "./address-policy";

/** A probe was not sent because of where it would have gone. */
export class ProbeRefused extends Error {
  override readonly name = "ProbeRefused";
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type Lookup = (host: string) => Promise<readonly { address: string; family: number }[]>;

const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * The first address of `host` the policy allows; throws ProbeRefused when none
 * is (and the lookup's own error, e.g. ENOTFOUND, when the name does not resolve).
 */
export async function resolveAllowed(policy: AddressPolicy, host: string, options: { lookup?: Lookup; signal?: AbortSignal } = {}): Promise<ResolvedAddress> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const literal = isIP(bare);
  const candidates = literal !== 0 ? [{ address: bare, family: literal }] : await abortable((options.lookup ?? systemLookup)(bare), options.signal);
  let refusal: string | undefined;
  for (const candidate of candidates) {
    const why = checkAddress(policy, candidate.address);
    if (why === undefined) return { address: candidate.address, family: candidate.family === 6 ? 6 : 4 };
    refusal ??= why;
  }
  throw new ProbeRefused(refusal === undefined ? `${host} resolves to no address` : `probe refused: ${refusal}`);
}

/** A lookup cannot be cancelled; the probe stops waiting for it when its signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener("abort", onAbort), reject(error)),
    );
  });
}
