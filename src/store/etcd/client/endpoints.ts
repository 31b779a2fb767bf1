// ETCD_ENDPOINTS (comma-separated URLs) to one grpc-js target: every member's
// address in one ipv4:/ipv6: list, so pick_first moves to the next member when
// one goes down. Host names are resolved once, at start.
import { lookup } from "node:dns/promises";
import { isIPv4, isIPv6 } from "node:net";

export interface EtcdEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Parses `http://host:port,...`; throws naming ETCD_ENDPOINTS and the bad entry. */
export function parseEtcdEndpoints(list: string): EtcdEndpoint[] {
  const entries = list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (entries.length === 0) throw new Error("ETCD_ENDPOINTS: at least one URL is required");
  return entries.map((entry) => {
    let url: URL;
    try {
      url = new URL(entry.includes("://") ? entry : `http://${entry}`);
    } catch {
      throw new Error(`ETCD_ENDPOINTS: "${entry}" is not a URL (expected http://host:port)`);
    }
    if (url.protocol !== "http:") throw new Error(`ETCD_ENDPOINTS: "${entry}": only http:// is supported`);
    const port = url.port === "" ? 2379 : Number(url.port);
    return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
  });
}

/** The grpc-js target naming every endpoint's address (all IPv4 or all IPv6). */
export async function grpcTargetOf(endpoints: readonly EtcdEndpoint[]): Promise<string> {
  const addresses = await Promise.all(
    endpoints.map(async ({ host, port }) => {
      const ip = isIPv4(host) || isIPv6(host) ? host : (await lookup(host)).address;
      return { ip, port };
    }),
  );
  if (addresses.every((a) => isIPv4(a.ip))) return `ipv4:${addresses.map((a) => `${a.ip}:${a.port}`).join(",")}`;
  if (addresses.every((a) => isIPv6(a.ip))) return `ipv6:${addresses.map((a) => `[${a.ip}]:${a.port}`).join(",")}`;
  throw new Error("ETCD_ENDPOINTS: mixing IPv4 and IPv6 members is not supported");
}
