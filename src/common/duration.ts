// google.protobuf.Duration to and from milliseconds, for the server, the SDK,
// the CLI and the dashboard alike. Built as a typed literal (no create()): it
// sits on the heartbeat path. Fractions of a millisecond (probe latencies) are
// kept to the nanosecond, which protobuf-es's own durationMs would round away.
import type { Duration } from "@bufbuild/protobuf/wkt";

/** A Duration of `ms` milliseconds (not negative). */
export function durationFromMs(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1_000_000));
  return { $typeName: "google.protobuf.Duration", seconds: BigInt(seconds), nanos };
}

/** Milliseconds of a Duration; NaN for a malformed one (nanos out of range), which validation then rejects. */
export function durationToMs(duration: Pick<Duration, "seconds" | "nanos">): number {
  const { seconds, nanos } = duration;
  if (nanos <= -1_000_000_000 || nanos >= 1_000_000_000) return Number.NaN;
  return Number(seconds) * 1000 + nanos / 1_000_000;
}
