// Fails when `buf generate` would change generated code: gen/ (TypeScript, from
// buf.gen.yaml) and clients/python/gen/ + clients/go/gen/ (from buf.gen.clients.yaml) must be
// committed in sync with proto/, and test/gen + test/gen-python (the interop
// suite's stubs, from buf.gen.interop.yaml) with Debian's grpc-proto; gen-etcd/
// (from buf.gen.etcd.yaml) with proto-etcd/.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const TEMPLATES = [
  { template: "buf.gen.yaml", dirs: ["gen"] },
  { template: "buf.gen.clients.yaml", dirs: ["clients/python/gen", "clients/go/gen"] },
  { template: "buf.gen.interop.yaml", dirs: ["test/gen", "test/gen-python"] },
  { template: "buf.gen.etcd.yaml", dirs: ["gen-etcd"] },
];

const root = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), "gen-check-"));
let failed = false;
try {
  for (const f of ["buf.yaml", ...TEMPLATES.map((t) => t.template)]) cpSync(join(root, f), join(scratch, f));
  cpSync(join(root, "proto"), join(scratch, "proto"), { recursive: true });
  cpSync(join(root, "proto-etcd"), join(scratch, "proto-etcd"), { recursive: true });
  cpSync(join(root, "proto-xds"), join(scratch, "proto-xds"), { recursive: true });
  // proto-xds/ must be what the vendoring script copies from the pinned package.
  execFileSync("node", ["scripts/vendor-xds-protos.mjs", join(scratch, "proto-xds-fresh")], { cwd: root, stdio: "ignore" });
  const vendored = listFiles(join(root, "proto-xds"));
  const fresh = listFiles(join(scratch, "proto-xds-fresh"));
  const stale = [...new Set([...vendored.keys(), ...fresh.keys()])].filter((f) => vendored.get(f) !== fresh.get(f));
  if (stale.length > 0) {
    console.error(`proto-xds/ differs from @grpc/grpc-js-xds (run node scripts/vendor-xds-protos.mjs): ${stale.join(", ")}`);
    failed = true;
  } else {
    console.log(`proto-xds/ matches @grpc/grpc-js-xds (${fresh.size} files)`);
  }
  for (const { template, dirs } of TEMPLATES) {
    execFileSync("buf", ["generate", "--template", template], { cwd: scratch, stdio: "inherit" });
    for (const dir of dirs) {
      const want = listFiles(join(scratch, dir));
      const have = listFiles(join(root, dir));
      const drift = [];
      for (const f of new Set([...want.keys(), ...have.keys()])) {
        if (want.get(f) !== have.get(f)) drift.push(f);
      }
      if (drift.length > 0) {
        console.error(`${dir}/ is out of date with proto/ (run npm run generate): ${drift.join(", ")}`);
        failed = true;
      } else {
        console.log(`${dir}/ is in sync with proto/ (${want.size} files)`);
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (failed) process.exit(1);

function listFiles(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      if (name === "__pycache__") continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  try { walk(dir); } catch { /* a missing directory reads as empty */ }
  return out;
}
