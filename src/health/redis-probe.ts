// Redis probes: PING, answered by PONG, after AUTH when the check references an
// operator secret. Spoken in RESP directly: no client library, no pool.
import type { ProbeAnswer } from "./probe-answer";
import { exchange, printable } from "./socket-exchange";

/** A RESP command: an array of bulk strings. */
function command(...parts: string[]): Buffer {
  const chunks = [`*${parts.length}\r\n`];
  for (const part of parts) chunks.push(`$${Buffer.byteLength(part)}\r\n${part}\r\n`);
  return Buffer.from(chunks.join(""));
}

/** Reads `count` simple replies ("+OK", "-ERR ..."), judging each as it completes. */
function readReplies(count: number, expectLast: string): (received: Buffer) => ProbeAnswer | undefined {
  return (received) => {
    const lines = received.toString("latin1").split("\r\n");
    const complete = lines.slice(0, -1); // the part after the last CRLF is unfinished
    for (let i = 0; i < Math.min(complete.length, count); i++) {
      const line = complete[i]!;
      if (line.startsWith("-")) return { ok: false, error: `redis: ${printable(line.slice(1))}` };
      const last = i === count - 1;
      if (!last && line !== "+OK") return { ok: false, error: `redis: unexpected answer to AUTH: ${printable(line)}` };
      if (last) return line === expectLast ? { ok: true } : { ok: false, error: `redis: expected ${expectLast}, got ${printable(line)}` };
    }
    return undefined;
  };
}

/**
 * @param password the referenced secret, resolved by the caller; undefined: no AUTH.
 */
export function probeRedis(host: string, port: number, auth: { username: string; password: string } | undefined, signal: AbortSignal): Promise<ProbeAnswer> {
  const ping = command("PING");
  if (auth === undefined) return exchange(host, port, ping, readReplies(1, "+PONG"), signal);
  const login = auth.username === "" ? command("AUTH", auth.password) : command("AUTH", auth.username, auth.password);
  return exchange(host, port, Buffer.concat([login, ping]), readReplies(2, "+PONG"), signal);
}
