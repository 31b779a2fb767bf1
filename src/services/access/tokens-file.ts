// The tokens file (SERVICE_DISCOVERY_TOKENS_FILE): named credentials, each a
// bearer token or a client-certificate identity, with their scopes. Parsing is
// strict and its errors name the entry and field, never a token's value.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { parseScope, type Scope } from "./scopes";

/** A tokens file larger than this is refused (it holds names, tokens and scopes). */
export const TOKENS_FILE_MAX_BYTES = 1024 * 1024;
/** Entries in the tokens file at most; each call compares against every token. */
export const TOKENS_FILE_MAX_ENTRIES = 1000;
/** Tokens shorter than this are refused: they could be guessed. */
export const TOKEN_MIN_LENGTH = 16;

/** One named credential. Exactly one of `digest` (a bearer token's SHA-256) and `identity` is set. */
export interface Credential {
  readonly name: string;
  readonly digest?: Buffer;
  /** A client certificate's SAN URI, SAN DNS name or subject CN (mTLS). */
  readonly identity?: string;
  readonly scopes: readonly Scope[];
}

export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/** Parses the file's JSON: {"tokens": [{"name", "token" | "identity", "scopes": [...]}]}. */
export function parseTokensFile(text: string): Credential[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message quotes the text, which may hold tokens.
    throw new Error("is not valid JSON");
  }
  const list = (parsed as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list)) throw new Error('must be an object with a "tokens" array');
  if (list.length > TOKENS_FILE_MAX_ENTRIES) throw new Error(`has more than ${TOKENS_FILE_MAX_ENTRIES} entries`);
  const names = new Set<string>();
  return list.map((entry: unknown, index) => {
    const at = `tokens[${index}]`;
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) throw new Error(`${at} must be an object`);
    const { name, token, identity, scopes } = entry as Record<string, unknown>;
    if (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/.test(name)) {
      throw new Error(`${at}.name must be 1 to 128 letters, digits, '.', '_', ':', '@' or '-'`);
    }
    if (names.has(name)) throw new Error(`${at}.name ${JSON.stringify(name)} is used twice`);
    names.add(name);
    if ((token === undefined) === (identity === undefined)) throw new Error(`${at} (${name}) needs exactly one of "token" and "identity"`);
    if (token !== undefined && (typeof token !== "string" || token.length < TOKEN_MIN_LENGTH || token.length > 4096 || /[\s\x00-\x1f\x7f]/.test(token))) {
      throw new Error(`${at}.token (${name}) must be ${TOKEN_MIN_LENGTH} to 4096 characters without spaces or control characters`);
    }
    if (identity !== undefined && (typeof identity !== "string" || identity === "" || identity.length > 1024)) {
      throw new Error(`${at}.identity (${name}) must be a non-empty string of at most 1024 characters`);
    }
    if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => typeof s !== "string")) {
      throw new Error(`${at}.scopes (${name}) must be a non-empty array of strings`);
    }
    let parsedScopes: Scope[];
    try {
      parsedScopes = scopes.map((s: string) => parseScope(s));
    } catch (error) {
      throw new Error(`${at}.scopes (${name}): ${(error as Error).message}`);
    }
    return typeof token === "string"
      ? { name, digest: tokenDigest(token), scopes: parsedScopes }
      : { name, identity: identity as string, scopes: parsedScopes };
  });
}

/** Reads and parses the file; errors start with its path. */
export function readTokensFile(path: string): Credential[] {
  try {
    if (statSync(path).size > TOKENS_FILE_MAX_BYTES) throw new Error(`is larger than ${TOKENS_FILE_MAX_BYTES} bytes`);
    return parseTokensFile(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EACCES" ? "cannot be read (permission denied)" : (error as Error).message;
    throw new Error(`tokens file ${path} ${why}`);
  }
}
