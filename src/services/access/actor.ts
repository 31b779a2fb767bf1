// Who is making the current change: the credential's name, carried through the
// synchronous registry call it makes so the event log line can say who did it.
import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage<string>();

/** Runs `body` with `name` as the actor of the changes it makes. */
export function runAsActor<T>(name: string, body: () => T): T {
  return storage.run(name, body);
}

/** The actor of the change under way, if a credential made it. */
export function currentActor(): string | undefined {
  return storage.getStore();
}
