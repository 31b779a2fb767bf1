// When the CLI must stop: on SIGINT or SIGTERM, and when the process that
// launched it goes away. `npx discovery …` and `npm run …` start the CLI under
// `sh -c`; a supervisor's SIGTERM to npm reaches that shell, which dies without
// passing it on, leaving the CLI orphaned. Seeing our parent change is how the
// CLI learns of it, and it stops as it would on the signal.
/** How often the parent is checked (a cheap getppid). */
export const PARENT_CHECK_INTERVAL_MS = 250;

/**
 * Calls `onExit` once when this process's parent changes (it exited and we were
 * re-parented). The check never holds the process up. Returns its stop.
 */
export function onParentExit(onExit: () => void): () => void {
  // Only under npm (npx, npm exec, npm run set npm_execpath): elsewhere a parent
  // that exits is a shell that backgrounded us on purpose (`discovery serve &`).
  if (process.env.npm_execpath === undefined) return () => {};
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, PARENT_CHECK_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** For a client command: a signal that aborts on SIGINT, SIGTERM or the launcher's exit. */
export function commandLifetime(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = (reason: string) => controller.abort(new Error(reason));
  const onSigint = () => stop("SIGINT");
  const onSigterm = () => stop("SIGTERM");
  process.once("SIGINT", onSigint);
  process.once("SIGTERM", onSigterm);
  const stopWatching = onParentExit(() => stop("the launching process exited"));
  // Holds the process up while a command waits on the SDK's unref'd backoff
  // timers; run() ends every command with process.exit.
  const hold = setInterval(() => {}, 1 << 30);
  return {
    signal: controller.signal,
    dispose() {
      stopWatching();
      clearInterval(hold);
      process.removeListener("SIGINT", onSigint);
      process.removeListener("SIGTERM", onSigterm);
    },
  };
}
