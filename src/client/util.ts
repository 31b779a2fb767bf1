// Small shared pieces of the SDK: Duration conversions, the logger shape and
// the error an aborted call rejects with.
import { create } from "@bufbuild/protobuf";
import { DurationSchema, type Duration } from "@bufbuild/protobuf/wkt";

/** What the SDK logs through: a pino logger fits; nothing is logged without one. */
export interface ClientLogger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export function msDuration(ms: number): Duration {
  return create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: Math.round((ms % 1000) * 1_000_000) });
}

export function durationMs(duration: Duration | undefined): number | undefined {
  return duration === undefined ? undefined : Number(duration.seconds) * 1000 + duration.nanos / 1_000_000;
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
