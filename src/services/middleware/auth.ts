// Bearer-token check for the methods that change the registry. The comparison
// runs in constant time so the secret cannot be guessed byte by byte.
import { createHash, timingSafeEqual } from "node:crypto";
import { DiscoveryError } from "../../core/errors";

/**
 * Throws unauthenticated unless the call's headers carry the secret. Takes the
 * context, not the headers, so that without a secret the headers are never built.
 */
export type Authorizer = (context: { readonly requestHeader: Headers }) => void;

export function createAuthorizer(secret: string | undefined): Authorizer {
  if (secret === undefined || secret === "") return () => {};
  const expected = digest(secret);
  return ({ requestHeader }) => {
    const header = requestHeader.get("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    // Hashing first gives equal lengths, which timingSafeEqual requires.
    if (match === null || !timingSafeEqual(digest(match[1]!), expected)) {
      throw new DiscoveryError(
        "unauthenticated",
        match === null ? "authorization header with a Bearer token is required" : "bearer token is not valid",
      );
    }
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
