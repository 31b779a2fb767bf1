// How the client commands reach a registry: gRPC over HTTP/2 (connect-node's
// gRPC transport), the protocol grpc-go, grpcio and grpcurl speak to the same
// port, with the shared secret as a bearer token when one is given.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";

/** Where the client commands look for a registry unless --addr or DISCOVERY_ADDR says otherwise. */
export const DEFAULT_ADDR = "localhost:3004";
/** A unary call that takes longer than this fails with DEADLINE_EXCEEDED. */
export const CALL_TIMEOUT_MS = 10_000;

export type RegistryClient = Client<typeof DiscoveryService>;

export interface RegistryClientOptions {
  /** host:port, or an http:// URL. */
  addr: string;
  secret?: string | undefined;
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

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const interceptors: Interceptor[] = [];
  const { secret } = options;
  if (secret !== undefined && secret !== "") {
    interceptors.push((next) => (request) => {
      request.header.set("authorization", `Bearer ${secret}`);
      return next(request);
    });
  }
  const transport = createGrpcTransport({ baseUrl: baseUrlOf(options.addr), interceptors });
  return createClient(DiscoveryService, transport);
}
