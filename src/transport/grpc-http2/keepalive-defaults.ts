// HTTP/2 keepalive pings' tunables, apart from the transport so the settings
// table (HTTP2_KEEPALIVE_SECONDS, HTTP2_KEEPALIVE_TIMEOUT_SECONDS) can name them.

/** How often an HTTP/2 connection is pinged (HTTP2_KEEPALIVE_SECONDS; 0: never). */
export const DEFAULT_HTTP2_KEEPALIVE_MS = 30_000;
/** A ping not acknowledged within this long means the peer is gone (HTTP2_KEEPALIVE_TIMEOUT_SECONDS). */
export const DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS = 10_000;
