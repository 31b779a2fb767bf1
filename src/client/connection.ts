// How the SDK reaches the registry: a Connect client over gRPC (HTTP/2, the
// default, with KeepAlive streams) or the Connect protocol over HTTP/1.1 (for
// proxies that pass only HTTP/1.1: unary heartbeats), with the secret and TLS,
// to one registry address or several (failover-transport.ts).
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";
import { addressList, createFailoverTransport } from "./failover-transport";

/** Sends HTTP/2 pings this often on an idle gRPC connection, to find a dead registry. */
export const DEFAULT_PING_INTERVAL_MS = 10_000;

/** TLS settings for an https:// registry (Node's tls options). */
export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface ConnectionOptions {
  /**
   * The registry, as http://host:3004 or https://host:3004; several nodes as a
   * list (or a comma-separated string): calls move on to the next when one is
   * unavailable, and a broken KeepAlive or Watch reconnects to the next at once.
   */
  url: string | readonly string[];
  /**
   * "grpc" (default): gRPC over HTTP/2, heartbeats on one KeepAlive stream.
   * "connect": the Connect protocol over HTTP/1.1, where a bidirectional
   * stream is impossible: heartbeats are unary calls.
   */
  protocol?: "grpc" | "connect";
  /** Sent as `authorization: Bearer <secret>` (SERVICE_DISCOVERY_SECRET). */
  secret?: string;
  tls?: TlsOptions;
}

/** A client of discovery.v1.DiscoveryService and what its transport can do. */
export interface DiscoveryConnection {
  readonly client: Client<typeof DiscoveryService>;
  /** Whether KeepAlive (a bidirectional stream) can run on this transport. */
  readonly supportsKeepAlive: boolean;
  /** The address streams use now. */
  readonly url: string;
  /** How many registry addresses the connection knows. */
  readonly addresses: number;
  /** After a stream broke: use the next address for the next stream. */
  failover(): void;
  /** Closes the connection (HTTP/2 sessions); calls in flight fail. */
  close(): void;
}

export function createConnection(options: ConnectionOptions): DiscoveryConnection {
  const urls = addressList(options.url);
  const interceptors: Interceptor[] = [];
  if (options.secret !== undefined && options.secret !== "") {
    const header = `Bearer ${options.secret}`;
    interceptors.push((next) => (request) => {
      request.header.set("authorization", header);
      return next(request);
    });
  }
  const tls = options.tls ?? {};
  const sessions: Http2SessionManager[] = [];
  const transportFor = (url: string): Transport => {
    if (options.protocol === "connect") return createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors, nodeOptions: { ...tls } });
    const sessionManager = new Http2SessionManager(url, { pingIntervalMs: DEFAULT_PING_INTERVAL_MS }, { ...tls });
    sessions.push(sessionManager);
    return createGrpcTransport({ baseUrl: url, sessionManager, interceptors });
  };
  const transport = createFailoverTransport(urls.map((url) => ({ url, transport: transportFor(url) })));
  return {
    client: createClient(DiscoveryService, transport),
    supportsKeepAlive: options.protocol !== "connect",
    get url() {
      return transport.current;
    },
    addresses: transport.size,
    failover: () => transport.next(),
    close: () => {
      for (const session of sessions) session.abort();
    },
  };
}
