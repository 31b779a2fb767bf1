// The one authorizer: given what a call asks to do (its access kind and service)
// and how it identifies itself (a bearer token, a client certificate), returns
// who is calling or throws UNAUTHENTICATED / PERMISSION_DENIED. Every route of
// the server (RPCs on every transport, pages, /metrics, later REST) calls it.
import { timingSafeEqual } from "node:crypto";
import type { ContextValues } from "@connectrpc/connect";
import { DiscoveryError } from "../../core/errors";
import { PEER_IDENTITIES } from "../../transport/peer-identity";
import { allows, type AccessKind, type Scope } from "./scopes";
import { tokenDigest, type Credential } from "./tokens-file";

/** How a call identifies itself: Connect's HandlerContext and our gRPC context both fit. */
export interface CallCredentials {
  readonly requestHeader: Headers;
  /** Carries the client certificate's identities (PEER_IDENTITIES) on TLS connections. */
  readonly values?: ContextValues;
}

export interface AccessRequest {
  kind: AccessKind;
  /** The service a write is for; undefined opens a KeepAlive stream (any write scope will do). */
  service?: string;
  credentials: CallCredentials;
}

/** Who made a call: the credential's name from the tokens file (never the token). */
export interface Principal {
  readonly name: string;
  readonly scopes: readonly Scope[];
}

export interface Authorizer {
  /** Throws unauthenticated (no or unknown credential) or permission-denied (valid, outside its scopes). */
  (request: AccessRequest): Principal;
  /** False when no secret and no tokens file are set: every call is allowed. */
  readonly enabled: boolean;
}

export interface AuthorizerOptions {
  /** SERVICE_DISCOVERY_SECRET: a bearer token with the admin scope. */
  secret?: string;
  /** The tokens file's current entries (re-read on SIGHUP); undefined when there is no file. */
  credentials?: () => readonly Credential[];
  /** SERVICE_DISCOVERY_READ_AUTH: reads need the read scope too. */
  readAuth?: boolean;
}

/** The caller when auth is off. */
export const ANONYMOUS: Principal = { name: "anonymous", scopes: [{ t: "admin" }] };
const SECRET_NAME = "SERVICE_DISCOVERY_SECRET";
const BEARER = /^Bearer\s+(\S+)$/i;

const NO_FILE: readonly Credential[] = [];

/** Token entries (and the secret) by their digest in hex. */
function indexTokens(entries: readonly Credential[], secret: Credential | undefined): Map<string, Credential> {
  const index = new Map<string, Credential>();
  if (secret?.digest !== undefined) index.set(secret.digest.toString("hex"), secret);
  for (const entry of entries) if (entry.digest !== undefined) index.set(entry.digest.toString("hex"), entry);
  return index;
}

export function createAuthorizer(options: AuthorizerOptions): Authorizer {
  const secret: Credential | undefined =
    options.secret === undefined || options.secret === "" ? undefined : { name: SECRET_NAME, digest: tokenDigest(options.secret), scopes: [{ t: "admin" }] };
  const fileCredentials = options.credentials;
  const enabled = secret !== undefined || fileCredentials !== undefined;
  if (!enabled) return Object.assign(() => ANONYMOUS, { enabled });
  const readAuth = options.readAuth === true;
  // Rebuilt when the tokens file is reloaded (a reload makes a new array).
  let indexed: { entries: readonly Credential[]; index: Map<string, Credential> } | undefined;
  const indexOf = (entries: readonly Credential[]) => {
    if (indexed?.entries !== entries) indexed = { entries, index: indexTokens(entries, secret) };
    return indexed.index;
  };

  const authenticate = (credentials: CallCredentials): Principal => {
    const header = credentials.requestHeader.get("authorization");
    const entries = fileCredentials?.() ?? NO_FILE;
    if (header !== null) {
      const match = BEARER.exec(header.trim());
      if (match === null) throw new DiscoveryError("unauthenticated", "authorization header must be `Bearer <token>`");
      const presented = tokenDigest(match[1]!);
      // Looked up by the token's SHA-256 (timing there tells nothing about a token),
      // then confirmed in constant time.
      const found = indexOf(entries).get(presented.toString("hex"));
      if (found?.digest === undefined || !timingSafeEqual(presented, found.digest)) throw new DiscoveryError("unauthenticated", "bearer token is not valid");
      return found;
    }
    const identities = credentials.values?.get(PEER_IDENTITIES) ?? [];
    if (identities.length > 0) {
      const entry = entries.find((e) => e.identity !== undefined && identities.includes(e.identity));
      if (entry !== undefined) return entry;
    }
    throw new DiscoveryError(
      "unauthenticated",
      identities.length > 0
        ? "the client certificate is not named in the tokens file and no bearer token was sent"
        : "authorization header with a Bearer token is required",
    );
  };

  const authorize = (request: AccessRequest): Principal => {
    if (request.kind === "public" || (request.kind === "read" && !readAuth)) return ANONYMOUS;
    const principal = authenticate(request.credentials);
    if (!allows(principal.scopes, request.kind, request.service)) {
      const what = request.kind === "write" && request.service !== undefined ? `write service ${JSON.stringify(request.service)}` : request.kind === "write" ? "write" : request.kind === "read" ? "read" : "use admin methods";
      throw new DiscoveryError("permission-denied", `credential ${JSON.stringify(principal.name)} may not ${what}`);
    }
    return principal;
  };
  return Object.assign(authorize, { enabled });
}
