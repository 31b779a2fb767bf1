// The scope rules and the tokens file's parser: globs match whole service
// names, write does not imply read, and bad entries are named without their tokens.
import { allows, parseScope } from "../../src/services/access/scopes";
import { parseTokensFile } from "../../src/services/access/tokens-file";

describe("scopes", () => {
  const scopes = (...texts: string[]) => texts.map(parseScope);

  test("a write glob matches whole service names; '.' is literal and '*' spans any run of name characters", () => {
    const s = scopes("write:billing-*", "write:users.v1");
    expect(allows(s, "write", "billing-eu")).toBe(true);
    expect(allows(s, "write", "billing-")).toBe(true);
    expect(allows(s, "write", "billing")).toBe(false);
    expect(allows(s, "write", "xbilling-eu")).toBe(false);
    expect(allows(s, "write", "users.v1")).toBe(true);
    expect(allows(s, "write", "usersxv1")).toBe(false);
    expect(allows(scopes("write:*"), "write", "anything.at-all")).toBe(true);
  });

  test("write does not imply read or admin; read does not imply write; admin allows everything", () => {
    expect(allows(scopes("write:*"), "read")).toBe(false);
    expect(allows(scopes("write:*"), "admin")).toBe(false);
    expect(allows(scopes("read"), "write", "users")).toBe(false);
    expect(allows(scopes("read"), "read")).toBe(true);
    for (const kind of ["read", "write", "admin", "public"] as const) expect(allows(scopes("admin"), kind, "users")).toBe(true);
    expect(allows([], "public")).toBe(true);
  });

  test("opening a KeepAlive (write without a service) needs some write scope", () => {
    expect(allows(scopes("write:users"), "write")).toBe(true);
    expect(allows(scopes("read"), "write")).toBe(false);
  });

  test("unknown scopes and globs with other characters are refused", () => {
    expect(() => parseScope("delete:users")).toThrow('scope "delete:users" is not one of admin, read, write:<service glob>');
    expect(() => parseScope("write:users|admin")).toThrow(/the service glob may use/);
    expect(() => parseScope("write:")).toThrow(/the service glob may use/);
  });
});

describe("tokens file", () => {
  const file = (tokens: unknown[]) => JSON.stringify({ tokens });

  test("an entry has a token or an identity, never both; names are unique; tokens are long enough", () => {
    expect(() => parseTokensFile(file([{ name: "a", scopes: ["read"] }]))).toThrow('tokens[0] (a) needs exactly one of "token" and "identity"');
    expect(() => parseTokensFile(file([{ name: "a", token: "t".repeat(20), identity: "spiffe://x", scopes: ["read"] }]))).toThrow(/exactly one/);
    expect(() =>
      parseTokensFile(file([{ name: "a", token: "a".repeat(20), scopes: ["read"] }, { name: "a", token: "b".repeat(20), scopes: ["read"] }])),
    ).toThrow('tokens[1].name "a" is used twice');
    expect(() => parseTokensFile(file([{ name: "a", token: "secret-but-short", scopes: [] }]))).toThrow("tokens[0].scopes (a) must be a non-empty array of strings");
  });

  test("errors never quote a token", () => {
    for (const tokens of [[{ name: "a", token: "tiny", scopes: ["read"] }], [{ name: "b", token: "has space in it 0123456789", scopes: ["read"] }]]) {
      try {
        parseTokensFile(file(tokens));
        throw new Error("accepted");
      } catch (error) {
        expect((error as Error).message).not.toMatch(/tiny|has space/);
      }
    }
    expect(() => parseTokensFile('{"tokens": [{"token": "leaky-0123456789abcdef"')).toThrow(/^is not valid JSON$/);
  });

  test("a valid file keeps names, identities and scopes, and only the token's digest", () => {
    const [entry, cert] = parseTokensFile(file([{ name: "w", token: "writer-token-0123456789", scopes: ["write:users"] }, { name: "c", identity: "spiffe://t/g", scopes: ["read"] }]));
    expect(entry).toMatchObject({ name: "w", scopes: [{ t: "write", glob: "users" }] });
    expect(JSON.stringify(entry)).not.toContain("writer-token");
    expect(entry!.digest).toHaveLength(32);
    expect(cert).toMatchObject({ name: "c", identity: "spiffe://t/g", scopes: [{ t: "read" }] });
  });
});
