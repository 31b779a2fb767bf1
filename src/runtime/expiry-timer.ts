// Drives lease expiry. The store keeps the deadlines this node holds in a heap,
// so a tick that finds nothing due costs one peek; a burst is expired in slices
// so the event loop keeps serving calls in between.
import type { Registry } from "../core/registry";

/** How often due leases are looked for: an expiry fires at most this late (plus slices). */
export const EXPIRY_TICK_MS = 100;
/** Leases expired per slice before yielding to other work. */
export const EXPIRY_SLICE = 2_000;

export interface ExpiryTimerOptions {
  tickMs?: number;
  slice?: number;
  signal: AbortSignal;
  /** Told when a slice could not be written (the store refused); the next tick tries again. */
  onError?: (error: unknown) => void;
}

export function startExpiryTimer(registry: Registry, options: ExpiryTimerOptions): void {
  const slice = options.slice ?? EXPIRY_SLICE;
  let draining = false;
  const drain = () => {
    if (options.signal.aborted) {
      draining = false;
      return;
    }
    draining = true;
    registry.expireDue(slice).then(
      (expired) => {
        if (expired === slice) setImmediate(drain);
        else draining = false;
      },
      (error: unknown) => {
        draining = false;
        options.onError?.(error);
      },
    );
  };
  const interval = setInterval(() => {
    if (!draining) drain();
  }, options.tickMs ?? EXPIRY_TICK_MS);
  interval.unref();
  options.signal.addEventListener("abort", () => clearInterval(interval), { once: true });
}
