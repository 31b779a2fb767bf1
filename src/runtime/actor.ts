// Who is making the current change: the credential's name, set around the
// synchronous registry call a write makes, so the event log line it emits can
// say who did it. A plain variable, not AsyncLocalStorage: that would put
// async hooks on every promise in the process, on the heartbeat hot path.

let current: string | undefined;

/** Runs `body` with `name` as the actor of the changes it makes synchronously. */
export function runAsActor<T>(name: string, body: () => T): T {
  const previous = current;
  current = name;
  try {
    return body();
  } finally {
    current = previous;
  }
}

/** The actor of the change under way, if a credential made it. */
export function currentActor(): string | undefined {
  return current;
}
