// The probe address policy: which IP addresses the server may dial on a
// registrant's behalf (DISCOVERY_PROBE_DENY, DISCOVERY_PROBE_ALLOW). Pure
// checks on already-resolved addresses; probe-address.ts resolves and checks.
import { BlockList, isIP } from "node:net";

/**
 * Denied unless configured otherwise: link-local (cloud metadata services live
 * at 169.254.169.254) and the unspecified addresses (dialing them reaches this host).
 * Loopback stays allowed: a registry often probes services beside it.
 */
export const DEFAULT_PROBE_DENY = ["169.254.0.0/16", "fe80::/10", "0.0.0.0/32", "::/128"] as const;

export interface AddressPolicy {
  /** The CIDRs as configured, for messages. */
  readonly deny: readonly string[];
  readonly allow: readonly string[] | undefined;
  readonly denied: BlockList;
  readonly allowed: BlockList | undefined;
}

/** Parses "a.b.c.d/n", "x::y/n" or a bare address; throws naming the entry. */
function addCidr(list: BlockList, text: string, setting: string): void {
  const [address = "", bits, extra] = text.trim().split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) throw new Error(`${setting} entry ${JSON.stringify(text)} is not an IP address or CIDR`);
  const type = family === 4 ? "ipv4" : "ipv6";
  if (bits === undefined) return list.addAddress(address, type);
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new Error(`${setting} entry ${JSON.stringify(text)} has a bad prefix length`);
  list.addSubnet(address, prefix, type);
}

/** A policy from CIDR lists; `allow` undefined means every address not denied. Throws on a bad entry. */
export function createAddressPolicy(deny: readonly string[] = DEFAULT_PROBE_DENY, allow?: readonly string[]): AddressPolicy {
  const denied = new BlockList();
  for (const cidr of deny) addCidr(denied, cidr, "DISCOVERY_PROBE_DENY");
  let allowed: BlockList | undefined;
  if (allow !== undefined) {
    allowed = new BlockList();
    for (const cidr of allow) addCidr(allowed, cidr, "DISCOVERY_PROBE_ALLOW");
  }
  return { deny: [...deny], allow: allow === undefined ? undefined : [...allow], denied, allowed };
}

/** Splits a comma-separated setting into CIDRs (empty entries dropped). */
export function parseCidrList(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * Why `ip` may not be probed, or undefined when it may. Must be an IP address
 * (IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry).
 */
export function checkAddress(policy: AddressPolicy, ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return `${ip} is not an IP address`;
  const type = family === 4 ? "ipv4" : "ipv6";
  if (policy.allowed !== undefined && !policy.allowed.check(ip, type)) return `address ${ip} is not in DISCOVERY_PROBE_ALLOW`;
  if (policy.denied.check(ip, type)) return `address ${ip} is refused by DISCOVERY_PROBE_DENY`;
  return undefined;
}

/** For Register: why a literal IP host may not be probed; names resolve later, at each probe. */
export function checkLiteralHost(policy: AddressPolicy, host: string): string | undefined {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return isIP(bare) === 0 ? undefined : checkAddress(policy, bare);
}
