// How the client commands reach a registry: the SDK's connection (gRPC over
// HTTP/2, the protocol grpc-go, grpcio and grpcurl speak to the same port), to
// one address or several (--addr a:3004,b:3004: a call moves on when a node is
// unavailable, and watch reconnects to the next), with the shared secret, over
// TLS for https:// addresses (a CA to trust, a client certificate for mTLS).
import { readFileSync } from "node:fs";
import type { Client } from "@connectrpc/connect";
import type { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { createConnection, type DiscoveryConnection } from "../client/connection";
import { addressList } from "../client/failover-transport";

/** Where the client commands look for a registry unless --addr or DISCOVERY_ADDR says otherwise. */
export const DEFAULT_ADDR = "localhost:3004";
/** A unary call that takes longer than this fails with DEADLINE_EXCEEDED. */
export const CALL_TIMEOUT_MS = 10_000;

export type RegistryClient = Client<typeof DiscoveryService>;

export interface RegistryClientOptions {
  /** host:port or an http:// or https:// URL; several separated by commas. */
  addr: string;
  secret?: string | undefined;
  /** PEM files for https://: the CA that signed the server's certificate, and a client certificate and key (mTLS). */
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

/** "host:port" → "http://host:port"; a URL is kept; anything else is refused with a message. */
export function baseUrlOf(addr: string): string {
  const url = /^https?:\/\//.test(addr) ? addr : `http://${addr}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--addr: not a host:port or URL: ${JSON.stringify(addr)}`);
  }
  if (parsed.hostname === "") throw new Error(`--addr: no host in ${JSON.stringify(addr)}`);
  return url.replace(/\/+$/, "");
}

export function createRegistryConnection(options: RegistryClientOptions): DiscoveryConnection {
  const urls = addressList(options.addr).map(baseUrlOf);
  if (urls.length === 0) throw new Error("--addr: no registry address given");
  const pem = (file: string | undefined, flag: string) => {
    if (file === undefined) return undefined;
    if (!urls.every((url) => url.startsWith("https://"))) throw new Error(`${flag} needs https:// addresses`);
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${flag}: cannot read ${file} (${(error as { code?: string }).code ?? (error as Error).message})`);
    }
  };
  const pems = { ca: pem(options.caFile, "--ca"), cert: pem(options.certFile, "--cert"), key: pem(options.keyFile, "--key") };
  const tls = Object.fromEntries(Object.entries(pems).filter(([, value]) => value !== undefined));
  return createConnection({ url: urls, secret: options.secret, tls });
}
