// Server-side deadlines: the client's grpc-timeout becomes a timer that ends
// the call with DEADLINE_EXCEEDED (and aborts its handler's signal).

const TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };
/** The longest delay a Node timer takes; a longer deadline is as good as none. */
const MAX_TIMER_MS = 2_147_483_647;

/** grpc-timeout: up to 8 digits and a unit (H, M, S, m, u, n), in ms; undefined for none. */
export function parseTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  const ms = Math.max(0, Math.ceil(Number(match[1]) * TIMEOUT_UNITS[match[2]!]!));
  // setTimeout would clamp a longer delay to 1 ms and end the call at once.
  return ms > MAX_TIMER_MS ? undefined : ms;
}

/**
 * Calls `expire` when the call's deadline passes (at once for grpc-timeout 0: the
 * call ends before any handler runs); returns a function that stops the timer.
 */
export function startDeadline(grpcTimeout: string | string[] | undefined, expire: () => void): () => void {
  const timeout = parseTimeout(grpcTimeout);
  if (timeout === undefined) return () => {};
  if (timeout === 0) {
    expire();
    return () => {};
  }
  const timer = setTimeout(expire, timeout);
  timer.unref();
  return () => clearTimeout(timer);
}
