// Builds a package of clients/go offline in GOPATH mode: clients/ is linked into
// a temporary GOPATH beside Debian's /usr/share/gocode (grpc-go 1.33, protobuf
// 1.28, golang/protobuf 1.5), and the build cache lives in the temp dir so only
// the first run compiles grpc-go.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ROOT } from "./child-process";

export interface GoWorkspace {
  /** Runs `go <args>` in the workspace; returns stdout. */
  go(args: string[]): string;
  /** Builds `grpc-discovery/clients/go/<pkg>` into an executable; returns its path. */
  build(pkg: string): string;
  remove(): void;
}

export function createGoWorkspace(): GoWorkspace {
  const gopath = mkdtempSync(path.join(tmpdir(), "gopath-"));
  mkdirSync(path.join(gopath, "src/grpc-discovery"), { recursive: true });
  symlinkSync(path.join(ROOT, "clients"), path.join(gopath, "src/grpc-discovery/clients"));
  const env = { ...process.env, GO111MODULE: "off", GOPATH: `${gopath}:/usr/share/gocode`, GOCACHE: path.join(tmpdir(), "grpc-discovery-gocache"), GOFLAGS: "", GOPROXY: "off" };
  const go = (args: string[]) => execFileSync("go", args, { cwd: gopath, env, stdio: "pipe", timeout: 180_000 }).toString();
  return {
    go,
    build(pkg) {
      const out = path.join(gopath, "bin", path.basename(pkg));
      go(["build", "-o", out, `grpc-discovery/clients/go/${pkg}`]);
      return out;
    },
    remove: () => rmSync(gopath, { recursive: true, force: true }),
  };
}
