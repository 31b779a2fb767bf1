// Bundles the dashboard (src/dashboard) into dist/dashboard with esbuild: one
// minified app.js for browsers, beside index.html and style.css. Run by `npm run build`.
import { copyFileSync, mkdirSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "src/dashboard");
const out = path.join(root, "dist/dashboard");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [path.join(src, "app.ts")],
  outfile: path.join(out, "app.js"),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  platform: "browser",
  target: ["chrome109", "firefox115", "safari16"],
  logLevel: "warning",
  legalComments: "none",
});
for (const file of ["index.html", "style.css"]) copyFileSync(path.join(src, file), path.join(out, file));
