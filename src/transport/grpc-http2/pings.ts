// HTTP/2 keepalive pings: a peer that vanished without closing (a cable
// pulled, a NAT timeout) is found out and its connection dropped, so its calls
// end: KeepAlive streams break and their instances turn UNHEALTHY.
import type * as http2 from "node:http2";
import type { Logger } from "pino";

/** How often an HTTP/2 connection is pinged (HTTP2_KEEPALIVE_SECONDS; 0: never). */
export const DEFAULT_HTTP2_KEEPALIVE_MS = 30_000;
/** A ping not acknowledged within this long means the peer is gone (HTTP2_KEEPALIVE_TIMEOUT_SECONDS). */
export const DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS = 10_000;

export interface PingOptions {
  intervalMs?: number;
  timeoutMs?: number;
  logger: Logger;
}

/** Pings `session` until it closes; returns a function that stops. */
export function keepPinging(session: http2.ServerHttp2Session, options: PingOptions): () => void {
  const interval = options.intervalMs ?? DEFAULT_HTTP2_KEEPALIVE_MS;
  if (interval <= 0) return () => {};
  const timeout = options.timeoutMs ?? DEFAULT_HTTP2_KEEPALIVE_TIMEOUT_MS;
  let deadline: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    if (session.destroyed || deadline !== undefined) return;
    deadline = setTimeout(() => {
      options.logger.info({ timeoutMs: timeout }, "peer did not answer a ping; closing its connection");
      session.destroy();
    }, timeout);
    deadline.unref();
    session.ping((error) => {
      if (error !== null) return;
      clearTimeout(deadline);
      deadline = undefined;
    });
  }, interval);
  timer.unref();
  return () => {
    clearInterval(timer);
    clearTimeout(deadline);
  };
}
