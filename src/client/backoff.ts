// Retry pacing for the SDK's loops: exponential backoff with full jitter (so a
// fleet that lost the registry together does not come back in lockstep), and
// an abortable sleep.
import { sleep as sleepFor } from "../common/sleep";
import { Code, ConnectError } from "@connectrpc/connect";

/** First retry delay's upper bound. */
export const DEFAULT_BACKOFF_INITIAL_MS = 100;
/** Largest retry delay. */
export const DEFAULT_BACKOFF_MAX_MS = 5_000;

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

export interface Backoff {
  /** The next delay: uniform in [0, min(max, initial * 2^attempt)]. */
  next(): number;
  /** After a success: the next failure starts small again. */
  reset(): void;
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initial = options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
  const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  let attempt = 0;
  return {
    next() {
      const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
      attempt++;
      return Math.random() * ceiling;
    },
    reset() {
      attempt = 0;
    },
  };
}

/** Resolves after `ms`, or at once when the signal aborts (unref'd: the SDK never keeps a process alive). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepFor(ms, { signal, unref: true });
}

/** Errors that retrying cannot fix: the request itself is wrong or refused. */
const PERMANENT = new Set<Code>([Code.InvalidArgument, Code.Unauthenticated, Code.PermissionDenied, Code.Unimplemented, Code.FailedPrecondition]);

export function isPermanent(error: unknown): boolean {
  return PERMANENT.has(ConnectError.from(error).code);
}

export function codeOf(error: unknown): Code {
  return ConnectError.from(error).code;
}
