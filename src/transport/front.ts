// One port for every client: reads the first bytes of each connection and hands
// HTTP/2 prior-knowledge connections (grpc-js, grpcurl, grpcio, grpc-go) to the
// gRPC server and everything else (HTTP/1.1: Connect, gRPC-Web, curl, pages) to
// the HTTP server. The bytes read are put back before the hand-off.
import * as net from "node:net";
import type { TlsListener } from "./tls-listener";

/** Every HTTP/2 connection starts with this preface; no HTTP/1 method starts with "PRI". */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** A connection that sends nothing for this long is closed before it is classified. */
export const SNIFF_TIMEOUT_MS = 10_000;

export interface FrontOptions {
  onHttp2: (socket: net.Socket) => void;
  onHttp1: (socket: net.Socket) => void;
  sniffTimeoutMs?: number;
  /** When set, every connection must speak TLS; the decrypted bytes are sniffed as above. */
  tls?: TlsListener;
}

export interface Front {
  readonly server: net.Server;
  /** Stops accepting; resolves once every connection has closed. */
  close(): Promise<void>;
  /** Destroys every open connection. */
  destroyAll(): void;
}

export function createFront(options: FrontOptions): Front {
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => classify(socket, options);
  const server = options.tls?.createServer(onSocket) ?? net.createServer({ noDelay: true }, onSocket);
  // Raw sockets, also those still in a TLS handshake: destroying one ends its TLS socket too.
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  let closed: Promise<void> | undefined;
  return {
    server,
    close() {
      closed ??= new Promise((resolve) => server.close(() => resolve()));
      return closed;
    },
    destroyAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function classify(socket: net.Socket, options: FrontOptions): void {
  const chunks: Buffer[] = [];
  let length = 0;
  socket.setTimeout(options.sniffTimeoutMs ?? SNIFF_TIMEOUT_MS, () => socket.destroy());
  const onError = () => socket.destroy();
  socket.on("error", onError);
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
    const head = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
    // Decide as soon as the bytes seen can only begin one of the two protocols.
    const compared = Math.min(head.length, H2_PREFACE.length);
    const isH2 = head.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
    if (isH2 && compared < 3) return; // "P" or "PR" could still be an HTTP/1 method
    socket.removeListener("data", onData);
    socket.removeListener("error", onError);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(head);
    if (isH2) options.onHttp2(socket);
    else options.onHttp1(socket);
    // Let the new owner's listeners read what was put back.
    process.nextTick(() => socket.resume());
  };
  socket.on("data", onData);
}
