// How long one HTTP/2 connection may stay without doing anything useful: it must
// open its first stream within the headers timeout, is closed (GOAWAY) after the
// idle timeout with no stream open, and once either side has sent GOAWAY it is
// closed when its last stream ends, or destroyed after the grace period.
import type * as http2 from "node:http2";
import type { Logger } from "pino";

export interface SessionLimits {
  headersTimeoutMs: number;
  /** 0: never closed for being idle. */
  idleTimeoutMs: number;
  goawayGraceMs: number;
}

/** Applies the limits to a new session; returns a function that stops its timers. */
export function limitSession(session: http2.ServerHttp2Session, limits: SessionLimits, logger: Logger): () => void {
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  const arm = (ms: number, why: string) => {
    clearTimeout(idle);
    idle = undefined;
    if (ms <= 0) return;
    idle = setTimeout(() => {
      logger.debug({ timeoutMs: ms }, why);
      closeGracefully();
    }, ms);
    idle.unref();
  };
  const closeGracefully = () => {
    if (session.destroyed) return;
    // close(): GOAWAY, no new streams; node destroys the session once its streams end.
    if (!session.closed) session.close();
    if (grace === undefined) {
      grace = setTimeout(() => session.destroy(), limits.goawayGraceMs);
      grace.unref();
    }
  };
  arm(limits.headersTimeoutMs, "no stream opened within the headers timeout; closing the connection");
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(idle);
    idle = undefined;
    stream.once("close", () => {
      if (--open === 0) arm(limits.idleTimeoutMs, "connection idle; closing it");
    });
  });
  // The peer said it is done (or going away): do not keep its socket for ever.
  session.once("goaway", closeGracefully);
  return () => {
    clearTimeout(idle);
    clearTimeout(grace);
  };
}

