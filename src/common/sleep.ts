// The one abortable sleep, for the SDK's retry loops, the CLI's heartbeat loop
// and the dashboard's reconnects (so it uses no node:* module).

export interface SleepOptions {
  /** Ends the sleep early (it resolves, never rejects). */
  signal?: AbortSignal;
  /** Under Node: do not keep the process alive for this timer (the SDK's loops; not the CLI's, which is the process). */
  unref?: boolean;
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  const { signal } = options;
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (options.unref === true) (timer as { unref?: () => void }).unref?.();
    signal?.addEventListener("abort", done, { once: true });
  });
}
