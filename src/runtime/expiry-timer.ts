// Drives lease expiry. The registry keeps deadlines in a heap, so a tick that
// finds nothing due costs one peek; a burst is expired in slices so the event
// loop keeps serving calls in between.
import type { Registry } from "../core/registry";

/** How often due leases are looked for: an expiry fires at most this late (plus slices). */
export const EXPIRY_TICK_MS = 100;
/** Leases expired per slice before yielding to other work. */
export const EXPIRY_SLICE = 2_000;

export interface ExpiryTimerOptions {
  tickMs?: number;
  slice?: number;
  signal: AbortSignal;
}

export function startExpiryTimer(registry: Registry, options: ExpiryTimerOptions): void {
  const slice = options.slice ?? EXPIRY_SLICE;
  let draining = false;
  const drain = () => {
    if (options.signal.aborted) return;
    if (registry.expireDue(slice) === slice) {
      draining = true;
      setImmediate(drain);
    } else {
      draining = false;
    }
  };
  const interval = setInterval(() => {
    if (!draining) drain();
  }, options.tickMs ?? EXPIRY_TICK_MS);
  interval.unref();
  options.signal.addEventListener("abort", () => clearInterval(interval), { once: true });
}
