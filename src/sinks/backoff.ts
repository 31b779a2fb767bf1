// Retry delays: exponential backoff with full jitter (a uniformly random delay
// up to the attempt's ceiling), so retries of many deliveries do not align.

/** The delay before retry number `attempt` (1 after the first failure); `random` in [0, 1). */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
