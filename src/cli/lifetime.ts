// When a client command must stop: on SIGINT or SIGTERM, and when the process
// that launched it goes away. `npx discovery …` and `npm run …` start the CLI
// under `sh -c`; a supervisor's SIGTERM to npm reaches that shell, which dies
// without passing it on, leaving the CLI orphaned. Seeing our parent change is
// how the CLI learns of it, and it stops as it would on the signal.
/** How often the parent is checked (a cheap getppid). */
export const PARENT_CHECK_INTERVAL_MS = 250;

/** A signal that aborts on SIGINT, SIGTERM or the launcher's exit; dispose() removes the hooks. */
export function commandLifetime(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const parent = process.ppid;
  const stop = (reason: string) => controller.abort(new Error(reason));
  const onSigint = () => stop("SIGINT");
  const onSigterm = () => stop("SIGTERM");
  process.once("SIGINT", onSigint);
  process.once("SIGTERM", onSigterm);
  const watchdog = setInterval(() => {
    if (process.ppid !== parent) stop("the launching process exited");
  }, PARENT_CHECK_INTERVAL_MS);
  // Left ref'd on purpose: it keeps the process up while a command waits on the
  // SDK's unref'd backoff timers (run() ends every command with process.exit).
  return {
    signal: controller.signal,
    dispose() {
      clearInterval(watchdog);
      process.removeListener("SIGINT", onSigint);
      process.removeListener("SIGTERM", onSigterm);
    },
  };
}
