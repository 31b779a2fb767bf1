// The postgres probe's reading of a server's first answer, for the answers a
// healthy test cluster never gives: "the database system is starting up"
// (57P03) must fail, as pg_isready reports "rejecting connections". The peer is
// a real socket replaying PostgreSQL's bytes.
import * as net from "node:net";
import { probePostgres } from "../../src/health/postgres-probe";

function errorResponse(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`)), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write("E", 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

async function answering(bytes: Buffer, chunked = false): Promise<{ port: number; close: () => void; received: Buffer[] }> {
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    socket.once("data", (data: Buffer) => {
      received.push(data);
      if (!chunked) return void socket.write(bytes);
      socket.write(bytes.subarray(0, 3));
      setImmediate(() => socket.write(bytes.subarray(3)));
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close(), received };
}

const names = { user: "postgres", database: "postgres" };

describe("postgres probe answers", () => {
  test("57P03 (starting up) fails as rejecting connections", async () => {
    const peer = await answering(errorResponse({ S: "FATAL", C: "57P03", M: "the database system is starting up" }));
    try {
      expect(await probePostgres("127.0.0.1", peer.port, names, new AbortController().signal)).toEqual({ ok: false, error: "postgres: rejecting connections: the database system is starting up" });
      // The startup message: length, protocol 3.0, then user and database.
      const sent = peer.received[0]!;
      expect(sent.readInt32BE(0)).toBe(sent.length);
      expect(sent.readInt32BE(4)).toBe(196608);
      expect(sent.toString("utf8", 8)).toContain("user\0postgres\0database\0postgres\0");
    } finally {
      peer.close();
    }
  });

  test("an authentication request split across reads passes; too many clients (53300) passes as in libpq", async () => {
    const auth = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 10]); // 'R', SASL
    const split = await answering(auth, true);
    const busy = await answering(errorResponse({ S: "FATAL", C: "53300", M: "sorry, too many clients already" }));
    try {
      expect(await probePostgres("127.0.0.1", split.port, names, new AbortController().signal)).toEqual({ ok: true });
      expect(await probePostgres("127.0.0.1", busy.port, names, new AbortController().signal)).toEqual({ ok: true });
    } finally {
      split.close();
      busy.close();
    }
  });
});
