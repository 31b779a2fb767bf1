// The transport side of a graceful shutdown: stop accepting, ask every open
// connection to finish (each protocol its own way), and cut what is left when
// the grace period is over.
import type { Front } from "./front";
import type { Transport } from "./contract";
import type { Http1Drain } from "./http1/drain";

export interface DrainOptions {
  front: Front;
  /** The gRPC transport: GOAWAY, then its own cut at the end of the grace. */
  grpc: Pick<Transport, "drain">;
  /** HTTP/1.1: Connection: close on the answers still running, idle sockets closed. */
  http1: Http1Drain;
  /** In-flight calls get this long before their connections are cut. */
  graceMs: number;
}

/** Resolves once every connection of the front has closed, by itself or cut at the end of the grace. */
export async function drainConnections({ front, grpc, http1, graceMs }: DrainOptions): Promise<void> {
  const closed = front.close();
  // Not awaited: the front's close covers every connection, gRPC's included
  // (grpc-js's drain always waits out the whole grace).
  void grpc.drain(graceMs);
  http1.drain();
  const timer = setTimeout(() => front.destroyAll(), graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
