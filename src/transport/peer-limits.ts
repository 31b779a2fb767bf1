// What one peer may make the server hold or keep open, on every transport: the
// named limits behind DISCOVERY_MAX_MESSAGE_BYTES, HTTP2_MAX_CONCURRENT_STREAMS,
// HTTP_HEADERS_TIMEOUT_SECONDS, HTTP_BODY_TIMEOUT_SECONDS, HTTP_IDLE_TIMEOUT_SECONDS, HTTP2_GOAWAY_GRACE_SECONDS
// and DISCOVERY_LIST_CACHE_BYTES (README "Limits" lists each with its default).

export interface PeerLimits {
  /** Largest request message, gRPC and HTTP/1.1 alike (grpc's usual default: 4 MiB). */
  maxMessageBytes: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams one HTTP/2 connection may have open. */
  http2MaxConcurrentStreams: number;
  /** Time to send a request's headers (HTTP/1.1) or the first complete stream (HTTP/2). */
  headersTimeoutMs: number;
  /** Time for an HTTP/1.1 request's whole body to arrive after its headers (a trickled body holds a connection and a buffer). */
  bodyTimeoutMs: number;
  /** A connection with nothing in flight for this long is closed; 0 never. */
  idleTimeoutMs: number;
  /** After a GOAWAY, the longest a connection stays open for its last streams. */
  goawayGraceMs: number;
  /** Bytes of rendered List answers cached. */
  listCacheBytes: number;
}

export const PEER_LIMIT_DEFAULTS: PeerLimits = {
  maxMessageBytes: 4 * 1024 * 1024,
  http2MaxConcurrentStreams: 1_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 60_000,
  idleTimeoutMs: 300_000,
  goawayGraceMs: 10_000,
  listCacheBytes: 64 * 1024 * 1024,
};

/** grpc-message is cut to this many bytes (a peer's 60 KB :path is not echoed whole). */
export const MAX_STATUS_MESSAGE_BYTES = 1024;
