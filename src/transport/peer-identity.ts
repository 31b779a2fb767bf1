// The identity of a TLS client certificate (mTLS): its SAN URIs, SAN DNS names
// and subject CN, read once when the handshake completes and carried to every
// call on the connection as a context value, on both transports.
import type { TLSSocket } from "node:tls";
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";

/** The client certificate's identities; empty without one. */
export const PEER_IDENTITIES = createContextKey<readonly string[]>([], { description: "client certificate identities" });

const IDENTITIES = Symbol("peerIdentities");
type Marked = { [IDENTITIES]?: readonly string[] };

/** Reads the verified client certificate of a TLS connection and remembers its identities on the socket. */
export function markPeerIdentities(socket: TLSSocket): readonly string[] {
  const identities = socket.authorized ? identitiesOfCertificate(socket.getPeerCertificate()) : [];
  (socket as unknown as Marked)[IDENTITIES] = identities;
  return identities;
}

/** What markPeerIdentities found for this socket (or a proxy of it, as http2 sessions give). */
export function peerIdentitiesOfSocket(socket: unknown): readonly string[] {
  return ((socket ?? {}) as Marked)[IDENTITIES] ?? [];
}

/** Context values carrying a socket's identities, for connect handlers. */
export function peerContextValues(socket: unknown): ContextValues {
  return createContextValues().set(PEER_IDENTITIES, peerIdentitiesOfSocket(socket));
}

/** SAN URI and DNS entries, then the subject CN. */
export function identitiesOfCertificate(certificate: { subjectaltname?: string; subject?: { CN?: string | string[] } } | undefined): string[] {
  if (certificate === undefined || Object.keys(certificate).length === 0) return [];
  const identities: string[] = [];
  for (const part of (certificate.subjectaltname ?? "").split(/,\s*/)) {
    const match = /^(URI|DNS):(.+)$/.exec(part);
    if (match !== null) identities.push(match[2]!);
  }
  const cn = certificate.subject?.CN;
  for (const name of Array.isArray(cn) ? cn : cn === undefined ? [] : [cn]) identities.push(name);
  return identities;
}
