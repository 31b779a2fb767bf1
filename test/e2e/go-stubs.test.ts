// The Go stubs in gen-go/ compile against Debian's grpc-go and protobuf APIv2
// (golang-google-grpc-dev, golang-google-protobuf-dev; .ci/run installs them),
// built offline in GOPATH mode from /usr/share/gocode (the build cache is kept
// in the temp dir, so only the first run compiles grpc-go).
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ROOT } from "../helpers/child-process";

test("gen-go compiles with go build against Debian's grpc-go", () => {
  const gopath = mkdtempSync(path.join(tmpdir(), "gopath-"));
  try {
    mkdirSync(path.join(gopath, "src/grpc-discovery"), { recursive: true });
    symlinkSync(path.join(ROOT, "gen-go"), path.join(gopath, "src/grpc-discovery/gen-go"));
    const env = { ...process.env, GO111MODULE: "off", GOPATH: `${gopath}:/usr/share/gocode`, GOCACHE: path.join(tmpdir(), "grpc-discovery-gocache"), GOFLAGS: "" };
    execFileSync("go", ["build", "grpc-discovery/gen-go/discovery/v1"], { cwd: gopath, env, stdio: "pipe", timeout: 60_000 });
    const vet = execFileSync("go", ["vet", "grpc-discovery/gen-go/discovery/v1"], { cwd: gopath, env, stdio: "pipe", timeout: 60_000 });
    expect(vet.toString()).toBe("");
  } finally {
    rmSync(gopath, { recursive: true, force: true });
  }
}, 60_000);
