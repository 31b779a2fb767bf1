// A unary handler may answer synchronously or with a promise. The heartbeat
// path answers synchronously, and wrapping that answer in a promise per call
// costs measurably, so every layer (transport, middleware) keeps it synchronous.
import type { AnyHandler, CallContext } from "./contract";

/**
 * Calls `handler`, then `onValue` with its answer or `onError` with what it
 * threw or rejected with: at once when it answered synchronously, else when its
 * promise settles. `state` is handed back, so callers need no closure per call.
 */
export function settle<S, R>(
  handler: AnyHandler,
  input: unknown,
  context: CallContext,
  state: S,
  onValue: (value: unknown, state: S) => R,
  onError: (error: unknown, state: S) => R,
): R | Promise<R> {
  let result: unknown;
  try {
    result = handler(input, context);
  } catch (error) {
    return onError(error, state);
  }
  if (!isThenable(result)) return onValue(result, state);
  return Promise.resolve(result).then(
    (value) => onValue(value, state),
    (error: unknown) => onError(error, state),
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
