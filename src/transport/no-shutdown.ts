// The shutdown signal handed to handlers by a transport built without one
// (tests, benches, a route used alone): it never aborts.

/** A signal that never aborts, shared: nothing ever listens to it for long. */
export const NO_SHUTDOWN: AbortSignal = new AbortController().signal;
