// `discovery xds-bootstrap`: the bootstrap file that points an xDS client
// (grpc-js with @grpc/grpc-js-xds, gRPC C-core in Python/C++/Ruby/PHP,
// grpc-go, Envoy) at the registry. Pure: the command prints what this returns.

export interface XdsBootstrapOptions {
  /** host:port of the registry's one port. */
  addr: string;
  /** The client's node id, as the registry's logs name it. */
  nodeId: string;
  /** Metadata locality of the client (region, zone). */
  region?: string;
  zone?: string;
}

/**
 * A bootstrap both grpc-js-xds 1.14 (which refuses one without
 * `node.locality`) and C-core accept. Plaintext: the registry's TLS settings
 * are for its own port; a client that needs TLS edits channel_creds.
 */
export function xdsBootstrap(options: XdsBootstrapOptions): object {
  const locality: Record<string, string> = {};
  if (options.region !== undefined) locality.region = options.region;
  if (options.zone !== undefined) locality.zone = options.zone;
  return {
    xds_servers: [{ server_uri: options.addr, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
    node: { id: options.nodeId, locality },
  };
}
