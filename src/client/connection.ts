// How the SDK reaches the registry: a Connect client over gRPC (HTTP/2, the
// default, with KeepAlive streams) or the Connect protocol over HTTP/1.1 (for
// proxies that pass only HTTP/1.1: unary heartbeats), with the secret and TLS.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { DiscoveryService } from "../../gen/discovery/v1/discovery_pb";

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
  /** The registry, as http://host:3004 or https://host:3004. */
  url: string;
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
  /** Closes the connection (HTTP/2 session); calls in flight fail. */
  close(): void;
}

export function createConnection(options: ConnectionOptions): DiscoveryConnection {
  const interceptors: Interceptor[] = [];
  if (options.secret !== undefined && options.secret !== "") {
    const header = `Bearer ${options.secret}`;
    interceptors.push((next) => (request) => {
      request.header.set("authorization", header);
      return next(request);
    });
  }
  const tls = options.tls ?? {};
  if (options.protocol === "connect") {
    const transport = createConnectTransport({ baseUrl: options.url, httpVersion: "1.1", interceptors, nodeOptions: { ...tls } });
    return { client: createClient(DiscoveryService, transport), supportsKeepAlive: false, close: () => {} };
  }
  const sessionManager = new Http2SessionManager(options.url, { pingIntervalMs: DEFAULT_PING_INTERVAL_MS }, { ...tls });
  const transport = createGrpcTransport({ baseUrl: options.url, sessionManager, interceptors });
  return {
    client: createClient(DiscoveryService, transport),
    supportsKeepAlive: true,
    close: () => sessionManager.abort(),
  };
}
