// Rows of the settings table for connections: HTTP/2 keepalive pings and the
// limits on what one peer may make the server hold or keep open.
import { DEFAULT_HTTP2_KEEPALIVE_MS, DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS } from "../transport/grpc-http2/pings";
import { PEER_LIMIT_DEFAULTS } from "../transport/peer-limits";
import { integer, secondsAsMs } from "./kinds";
import { setting } from "./table";

export const TRANSPORT_SETTINGS = [
  setting({
    key: "http2KeepAliveMs",
    env: "HTTP2_KEEPALIVE_SECONDS",
    flag: "http2-keepalive-seconds",
    help: "ping each HTTP/2 connection this often; 0 never pings",
    more:
      "A connection whose ping goes unanswered for HTTP2_KEEPALIVE_TIMEOUT_SECONDS is dropped, so a peer that vanished without closing " +
      "(a pulled cable, a NAT timeout) releases its calls: its KeepAlive streams break and its instances turn UNHEALTHY",
    kind: secondsAsMs(DEFAULT_HTTP2_KEEPALIVE_MS, { min: 0, max: 3_600_000 }),
  }),
  setting({
    key: "http2KeepAliveTimeoutMs",
    env: "HTTP2_KEEPALIVE_TIMEOUT_SECONDS",
    flag: "http2-keepalive-timeout-seconds",
    help: "drop an HTTP/2 connection whose keepalive ping goes unanswered this long",
    kind: secondsAsMs(DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS, { min: 1, max: 600_000 }),
  }),
  setting({
    key: "maxMessageBytes",
    env: "DISCOVERY_MAX_MESSAGE_BYTES",
    flag: "max-message-bytes",
    help: "largest request message on gRPC, Connect and gRPC-Web; larger ones get RESOURCE_EXHAUSTED",
    more: "See [Limits](#limits)",
    kind: integer(PEER_LIMIT_DEFAULTS.maxMessageBytes, { min: 1024, max: 1024 * 1024 * 1024 }),
  }),
  setting({
    key: "http2MaxConcurrentStreams",
    env: "HTTP2_MAX_CONCURRENT_STREAMS",
    flag: "http2-max-concurrent-streams",
    help: "streams one HTTP/2 connection may have open (announced as SETTINGS_MAX_CONCURRENT_STREAMS; more are refused)",
    kind: integer(PEER_LIMIT_DEFAULTS.http2MaxConcurrentStreams, { min: 1, max: 1_000_000 }),
  }),
  setting({
    key: "headersTimeoutMs",
    env: "HTTP_HEADERS_TIMEOUT_SECONDS",
    flag: "headers-timeout-seconds",
    help: "a connection that has not sent a request's headers (HTTP/1.1) or opened a stream (HTTP/2) within this is closed",
    more: "An HTTP/1.1 connection must complete a request's headers within this of opening or of its last response",
    kind: secondsAsMs(PEER_LIMIT_DEFAULTS.headersTimeoutMs, { min: 100, max: 3_600_000 }),
  }),
  setting({
    key: "bodyTimeoutMs",
    env: "HTTP_BODY_TIMEOUT_SECONDS",
    flag: "body-timeout-seconds",
    help: "an HTTP/1.1 request whose body has not all arrived within this of its headers is dropped with its connection",
    more: "A body trickled a byte at a time would otherwise hold the connection and up to DISCOVERY_MAX_MESSAGE_BYTES of buffer",
    kind: secondsAsMs(PEER_LIMIT_DEFAULTS.bodyTimeoutMs, { min: 100, max: 3_600_000 }),
  }),
  setting({
    key: "idleTimeoutMs",
    env: "HTTP_IDLE_TIMEOUT_SECONDS",
    flag: "idle-timeout-seconds",
    help: "a connection with no request or stream open for this long is closed (HTTP/2: sent GOAWAY); 0 never",
    kind: secondsAsMs(PEER_LIMIT_DEFAULTS.idleTimeoutMs, { min: 0, max: 86_400_000 }),
  }),
  setting({
    key: "goawayGraceMs",
    env: "HTTP2_GOAWAY_GRACE_SECONDS",
    flag: "goaway-grace-seconds",
    help: "after a GOAWAY either way, a connection closes when its last stream ends, or after this",
    kind: secondsAsMs(PEER_LIMIT_DEFAULTS.goawayGraceMs, { min: 0, max: 3_600_000 }),
  }),
  setting({
    key: "listCacheBytes",
    env: "DISCOVERY_LIST_CACHE_BYTES",
    flag: "list-cache-bytes",
    help: "wire bytes of rendered List answers kept for repeat callers",
    more: "One per service and kind; 0 keeps none",
    kind: integer(PEER_LIMIT_DEFAULTS.listCacheBytes, { min: 0, max: 16 * 1024 * 1024 * 1024 }),
  }),
] as const;
