// PostgreSQL probes, as pg_isready judges a server: send a startup message (no
// password, no TLS) and read the first answer. An authentication request, or
// any login error but "cannot connect now" (57P03: starting up, shutting down,
// in recovery), means the server accepts connections.
import type { ProbeAnswer } from "./probe-answer";
import { exchange, printable } from "./socket-exchange";

const PROTOCOL_3_0 = 196608;
const CANNOT_CONNECT_NOW = "57P03";

function startupMessage(user: string, database: string): Buffer {
  const body = Buffer.from(`user\0${user}\0database\0${database}\0application_name\0grpc-discovery-probe\0\0`, "utf8");
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([head, body]);
}

/** The fields of an ErrorResponse body: a code byte, a NUL-terminated string, repeated. */
function errorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const code = String.fromCharCode(body[at]!);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    fields.set(code, body.toString("utf8", at + 1, end));
    at = end + 1;
  }
  return fields;
}

function readFirstAnswer(received: Buffer): ProbeAnswer | undefined {
  let at = 0;
  // Skip messages that carry no verdict (NegotiateProtocolVersion, notices).
  while (received.length >= at + 5) {
    const type = String.fromCharCode(received[at]!);
    const length = received.readInt32BE(at + 1);
    if (length < 4 || length > 16 * 1024) return { ok: false, error: "postgres: not a PostgreSQL answer" };
    if (received.length < at + 1 + length) return undefined;
    const body = received.subarray(at + 5, at + 1 + length);
    if (type === "R") return { ok: true };
    if (type === "E") {
      const fields = errorFields(body);
      const sqlState = fields.get("C") ?? "";
      if (sqlState === CANNOT_CONNECT_NOW) return { ok: false, error: `postgres: rejecting connections: ${printable(fields.get("M") ?? sqlState)}` };
      return { ok: true };
    }
    if (type !== "v" && type !== "N") return { ok: false, error: `postgres: unexpected message ${printable(type)}` };
    at += 1 + length;
  }
  return undefined;
}

export function probePostgres(host: string, port: number, names: { user: string; database: string }, signal: AbortSignal): Promise<ProbeAnswer> {
  return exchange(host, port, startupMessage(names.user, names.database), readFirstAnswer, signal);
}
