// TLS on the one port: terminates TLS (and checks client certificates for
// mTLS) before the front sniffs the decrypted bytes, so gRPC, Connect, gRPC-Web,
// the dashboard and /metrics all run over it. Certificates reload in place.
import { readFileSync } from "node:fs";
import * as tls from "node:tls";
import type { Logger } from "pino";
import { markPeerIdentities } from "./peer-identity";

/** PEM files (SERVICE_DISCOVERY_TLS_CERT, _KEY and, for mTLS, _CLIENT_CA). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate signed by this CA. */
  clientCaFile?: string;
}

/** A TLS handshake must finish within this, like the front's first bytes. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * ALPN, in the server's order of preference: clients that offer both (curl,
 * browsers, fetch) get HTTP/1.1, which serves every route (Connect, gRPC-Web,
 * pages); gRPC clients offer only h2 and get it.
 */
export const ALPN_PROTOCOLS = ["http/1.1", "h2"];

export interface TlsListener {
  /** A TLS server that hands each handshaken connection to `onSecure`. */
  createServer(onSecure: (socket: tls.TLSSocket) => void): tls.Server;
  /** Re-reads the PEM files; a bad file keeps the old certificates and throws why. */
  reload(): void;
}

interface Pems {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** Reads the files and checks they make a context; throws naming the file at fault. */
function readPems(files: TlsFiles): Pems {
  const read = (file: string, setting: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${setting} ${file} cannot be read (${(error as { code?: string }).code ?? (error as Error).message})`);
    }
  };
  const pems: Pems = {
    cert: read(files.certFile, "SERVICE_DISCOVERY_TLS_CERT"),
    key: read(files.keyFile, "SERVICE_DISCOVERY_TLS_KEY"),
    ca: files.clientCaFile === undefined ? undefined : read(files.clientCaFile, "SERVICE_DISCOVERY_TLS_CLIENT_CA"),
  };
  try {
    tls.createSecureContext(pems);
  } catch (error) {
    throw new Error(`TLS certificate, key or client CA is not usable: ${(error as Error).message}`);
  }
  return pems;
}

export function createTlsListener(files: TlsFiles, logger: Logger): TlsListener {
  let pems = readPems(files);
  let server: tls.Server | undefined;
  const mutual = files.clientCaFile !== undefined;
  return {
    createServer(onSecure) {
      server = tls.createServer(
        {
          ...pems,
          requestCert: mutual,
          rejectUnauthorized: mutual,
          ALPNProtocols: ALPN_PROTOCOLS,
          handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
          noDelay: true,
        },
        (socket) => {
          markPeerIdentities(socket);
          onSecure(socket);
        },
      );
      // Plaintext, a wrong CA, no client certificate: the connection is refused; routine, so debug.
      server.on("tlsClientError", (error) => logger.debug({ err: error }, "TLS handshake refused"));
      return server;
    },
    reload() {
      pems = readPems(files);
      server?.setSecureContext(pems);
      logger.info({ cert: files.certFile, clientCa: files.clientCaFile }, "TLS certificates reloaded");
    },
  };
}
