// What a credential may do: the scopes of the tokens file (`admin`, `read`,
// `write:<service glob>`) and the one rule that says whether a set of scopes
// allows an action. Pure: no I/O, no secrets.

/** What a call asks to do. `public` needs nothing, even with auth on. */
export type AccessKind = "public" | "read" | "write" | "admin";

export type Scope = { t: "admin" } | { t: "read" } | { t: "write"; glob: string; pattern: RegExp };

/** A service glob: service-name characters and `*` (any run of them). */
const GLOB = /^[A-Za-z0-9*][A-Za-z0-9._*-]*$/;

/** Parses one scope string; throws a message naming the rule it broke (never the token). */
export function parseScope(text: string): Scope {
  if (text === "admin") return { t: "admin" };
  if (text === "read") return { t: "read" };
  if (text.startsWith("write:")) {
    const glob = text.slice("write:".length);
    if (!GLOB.test(glob)) throw new Error(`scope ${JSON.stringify(text)}: the service glob may use letters, digits, '.', '_', '-' and '*'`);
    const source = glob.split("*").map((part) => part.replace(/[.]/g, "\\.")).join("[A-Za-z0-9._-]*");
    return { t: "write", glob, pattern: new RegExp(`^${source}$`) };
  }
  throw new Error(`scope ${JSON.stringify(text)} is not one of admin, read, write:<service glob>`);
}

/**
 * Whether scopes allow an action. `write` without a service (the opening of a
 * KeepAlive stream, whose messages are checked one by one) needs any write scope.
 * `admin` allows everything; `write` does not imply `read`.
 */
export function allows(scopes: readonly Scope[], kind: AccessKind, service?: string): boolean {
  if (kind === "public") return true;
  for (const scope of scopes) {
    if (scope.t === "admin") return true;
    if (kind === "read" && scope.t === "read") return true;
    if (kind === "write" && scope.t === "write" && (service === undefined || scope.pattern.test(service))) return true;
  }
  return false;
}

/** The scopes as written in the file, for error messages and logs. */
export function scopeText(scope: Scope): string {
  return scope.t === "write" ? `write:${scope.glob}` : scope.t;
}
