// Fails when `buf generate` would change gen/: generated code must be committed in sync with proto/.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), "gen-check-"));
try {
  for (const f of ["buf.yaml", "buf.gen.yaml"]) cpSync(join(root, f), join(scratch, f));
  cpSync(join(root, "proto"), join(scratch, "proto"), { recursive: true });
  execFileSync("buf", ["generate"], { cwd: scratch, stdio: "inherit" });
  const want = listFiles(join(scratch, "gen"));
  const have = listFiles(join(root, "gen"));
  const drift = [];
  for (const f of new Set([...want.keys(), ...have.keys()])) {
    if (want.get(f) !== have.get(f)) drift.push(f);
  }
  if (drift.length > 0) {
    console.error(`gen/ is out of date with proto/ (run npm run generate): ${drift.join(", ")}`);
    process.exit(1);
  }
  console.log(`gen/ is in sync with proto/ (${want.size} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function listFiles(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  try { walk(dir); } catch { /* a missing gen/ reads as empty */ }
  return out;
}
