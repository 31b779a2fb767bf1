// The last line of defence on a stream: a listener or callback that throws
// (a bug, or a stream state we did not foresee) is reported and ends that one
// stream, instead of escaping to the process and killing every other call.
// The causes are fixed where they are; this only keeps an unknown one contained.

/** Told about each unexpected error on one stream: log it and count it. */
export type FaultReporter = (error: unknown, path: string) => void;

/**
 * Wraps a listener so that a throw goes to `onFault` (which resets the stream
 * and releases the call) instead of reaching the event emitter.
 */
export function guarded<A extends unknown[]>(fn: (...args: A) => void, onFault: (error: unknown) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (error) {
      onFault(error);
    }
  };
}
