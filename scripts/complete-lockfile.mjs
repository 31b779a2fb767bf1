// Records every platform binary that a locked package lists as optional, so that
// `npm ci` on any platform finds the lock in sync. npm writes only the entries it
// could resolve, and the registry this project's machines reach serves only
// linux-x64 binaries, so without this `npm ci` refuses the lock ("Missing: ...").
// The added entries carry name and version only; npm fetches them on the
// platforms that need them and skips them elsewhere.
// Run after any `npm install` that changes the lock: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const packages = lock.packages;
let added = 0;
for (const entry of Object.values(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] !== undefined) continue;
    packages[key] = { version, ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)));
writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
console.log(`package-lock.json: recorded ${added} optional platform package(s)`);
