// The Python client (clients/python) as a user gets it: pip-installed offline
// (on Debian's grpcio and protobuf) into a temporary folder, and a way to run a
// script with /usr/bin/python3 that can import only that installed package.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ROOT, spawnChild, type Child } from "./child-process";

export interface PythonPackage {
  /** Runs `script` with only the installed package importable (PYTHONPATH is the install folder). */
  run(script: string, env: Record<string, string>): Child;
  remove(): void;
}

/** Installs clients/python; takes a while (pip), so call it from beforeAll with a long timeout. */
export function installPythonClient(): PythonPackage {
  const scratch = mkdtempSync(path.join(tmpdir(), "py-client-"));
  const site = path.join(scratch, "site");
  // pip builds in the source folder: build a copy, leave the checkout clean.
  cpSync(path.join(ROOT, "clients/python"), path.join(scratch, "src"), { recursive: true });
  execFileSync("/usr/bin/python3", ["-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "--target", site, path.join(scratch, "src")], {
    stdio: "pipe",
    timeout: 120_000,
    env: { ...process.env, PIP_ROOT_USER_ACTION: "ignore", PIP_DISABLE_PIP_VERSION_CHECK: "1" },
  });
  return {
    run: (script, env) => spawnChild("/usr/bin/python3", [script], {}, { PATH: process.env.PATH, PYTHONPATH: site, PYTHONDONTWRITEBYTECODE: "1", ...env }),
    remove: () => rmSync(scratch, { recursive: true, force: true }),
  };
}
