// Several registry addresses behind one Connect transport. Unary calls that find
// an address unavailable move on to the next at once (Register, Heartbeat and
// Unregister are idempotent, the reads have no effect); streams stay on the
// current address, and their owner calls next() when one breaks, so a KeepAlive
// or Watch reconnects elsewhere and resumes there.
import { Code, ConnectError, type Transport } from "@connectrpc/connect";

export interface FailoverTransport extends Transport {
  /** The address streams use now. */
  readonly current: string;
  /** How many addresses there are. */
  readonly size: number;
  /** Moves streams on to the next address (after one broke there). */
  next(): void;
}

export interface FailoverEntry {
  url: string;
  transport: Transport;
}

export function createFailoverTransport(entries: readonly FailoverEntry[]): FailoverTransport {
  if (entries.length === 0) throw new Error("a registry connection needs at least one address");
  let at = 0;
  return {
    get current() {
      return entries[at]!.url;
    },
    size: entries.length,
    next() {
      at = (at + 1) % entries.length;
    },
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      for (let tried = 1; ; tried++) {
        try {
          return await entries[at]!.transport.unary(method, signal, timeoutMs, header, input, contextValues);
        } catch (error) {
          // Only "that node is not there" moves on; any other answer is the registry's.
          if (tried >= entries.length || signal?.aborted === true || ConnectError.from(error).code !== Code.Unavailable) throw error;
          at = (at + 1) % entries.length;
        }
      }
    },
    stream(method, signal, timeoutMs, header, input, contextValues) {
      return entries[at]!.transport.stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}

/** Addresses from a list or a comma-separated string, blanks dropped. */
export function addressList(value: string | readonly string[]): string[] {
  return (typeof value === "string" ? value.split(",") : value.flatMap((v) => v.split(","))).map((v) => v.trim()).filter((v) => v !== "");
}
