// A throwaway PKI made with openssl at test time, in a temp dir: a CA, a server
// certificate for 127.0.0.1/localhost, client certificates (one with a SPIFFE
// URI, one from a CA the server does not trust). Nothing is checked in.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export interface Pki {
  readonly dir: string;
  file(name: string): string;
  pem(name: string): Buffer;
  /** Issues `<name>.pem` and `<name>.key` signed by `<ca>` with the given subject CN and extensions. */
  issue(name: string, ca: string, cn: string, extensions: string): void;
  /** A self-signed CA `<name>.pem` / `<name>.key`. */
  createCa(name: string): void;
  remove(): void;
}

const openssl = (cwd: string, args: string[]) => execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export function createPki(): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), "discovery-pki-"));
  const pki: Pki = {
    dir,
    file: (name) => path.join(dir, name),
    pem: (name) => readFileSync(path.join(dir, name)),
    createCa(name) {
      openssl(dir, ["req", "-x509", ...EC, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`]);
    },
    issue(name, ca, cn, extensions) {
      writeFileSync(path.join(dir, `${name}.ext`), `${extensions}\n`);
      openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
      openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return pki;
}

/** The usual set: ca, server (127.0.0.1, localhost), client (spiffe://test/gateway), rogue-ca and rogue-client. */
export function createStandardPki(): Pki {
  const pki = createPki();
  pki.createCa("ca");
  pki.issue("server", "ca", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
  pki.issue("client", "ca", "gateway", "subjectAltName=URI:spiffe://test/gateway\nextendedKeyUsage=clientAuth");
  pki.createCa("rogue-ca");
  pki.issue("rogue-client", "rogue-ca", "gateway", "subjectAltName=URI:spiffe://test/gateway\nextendedKeyUsage=clientAuth");
  return pki;
}
