// Small shared pieces of the SDK: the logger shape and the error an aborted
// call rejects with. (Duration conversions: src/common/duration.ts.)

/** What the SDK logs through: a pino logger fits; nothing is logged without one. */
export interface ClientLogger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * What an SDK call rejects with when its caller's signal aborted it: named
 * "AbortError" as fetch and node:timers/promises do, the signal's reason as its cause.
 */
export function abortError(signal: AbortSignal, message: string): Error {
  const error = new Error(message, { cause: signal.reason });
  error.name = "AbortError";
  return error;
}
