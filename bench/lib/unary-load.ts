// A closed-loop load generator for unary gRPC calls over one HTTP/2 connection
// with bare node:http2 and requests encoded before the clock starts (frameMessage),
// so the client costs little next to the server it measures.
import * as http2 from "node:http2";

export interface LoadResult {
  ok: number;
  failed: number;
  elapsedMs: number;
}

export interface LoadOptions {
  /** Requests kept in flight. */
  concurrency: number;
  /** Stop after this long (or after every frame once, when unset). */
  durationMs?: number;
}

/** Sends `frames` round-robin to `path` (once each without a duration) and counts OK answers. */
export function sendUnary(session: http2.ClientHttp2Session, path: string, frames: readonly Buffer[], options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const once = options.durationMs === undefined;
    let next = 0;
    let inFlight = 0;
    let ok = 0;
    let failed = 0;
    let stopping = false;
    const timer = once ? undefined : setTimeout(() => (stopping = true), options.durationMs);
    const finish = () => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ ok, failed, elapsedMs: performance.now() - started });
    };
    const fire = () => {
      if (stopping || (once && next >= frames.length)) {
        if (inFlight === 0) finish();
        return;
      }
      const frame = frames[next++ % frames.length]!;
      inFlight++;
      const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
      let status: string | undefined;
      stream.on("trailers", (trailers) => (status = String(trailers["grpc-status"])));
      stream.on("response", (headers) => {
        if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
      });
      stream.on("data", () => {});
      stream.on("error", () => {});
      stream.on("close", () => {
        inFlight--;
        if (status === "0") ok++;
        else failed++;
        fire();
      });
      stream.end(frame);
    };
    for (let i = 0; i < options.concurrency; i++) fire();
  });
}
