// The transport side of a graceful shutdown: stop accepting, ask every open
// connection to finish (each protocol its own way), and cut what is left when
// the grace period is over.
import type { Front } from "./front";

/** A protocol's way to ask its connections to finish (HTTP/2 GOAWAY, HTTP/1.1 Connection: close). */
export interface Drainable {
  drain(): void;
}

export interface DrainOptions {
  front: Front;
  drains: readonly Drainable[];
  /** In-flight calls get this long before their connections are cut. */
  graceMs: number;
}

/** Resolves once every connection of the front has closed, by itself or cut at the end of the grace. */
export async function drainConnections({ front, drains, graceMs }: DrainOptions): Promise<void> {
  const closed = front.close();
  for (const drainable of drains) drainable.drain();
  const timer = setTimeout(() => front.destroyAll(), graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
