// Copies the envoy/xds protos that our xDS server needs, with their import
// closure, from the pinned @grpc/grpc-js-xds package (its deps/ folder,
// Apache-2.0) into proto-xds/, which buf generates into gen/. Run it after
// changing the package's version or the ROOTS below; `npm run check` fails when
// proto-xds/ no longer matches the package.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const DEPS = "node_modules/@grpc/grpc-js-xds/deps";
const SOURCES = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(DEPS, d));
export const ROOTS = [
  "envoy/service/discovery/v3/ads.proto",
  "envoy/config/listener/v3/listener.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/config/route/v3/route.proto",
  "envoy/config/cluster/v3/cluster.proto",
  "envoy/config/endpoint/v3/endpoint.proto",
];

// The package's envoy protos are newer than its copy of validate.proto, which
// lacks StringRules.ignore_empty. Validation annotations only steer the PGV
// plugin (never the wire or our generated code), so that rule is dropped.
const PATCHES = [
  { file: "envoy/config/core/v3/protocol.proto", from: /well_known_regex: HTTP_HEADER_NAME ignore_empty: true/g, to: "well_known_regex: HTTP_HEADER_NAME", count: 2 },
];

/** The import closure of ROOTS: proto path → the folder it comes from. */
export function closure() {
  const found = new Map();
  const stack = [...ROOTS];
  while (stack.length > 0) {
    const file = stack.pop();
    if (found.has(file) || file.startsWith("google/protobuf/")) continue;
    const source = SOURCES.find((s) => existsSync(join(s, file)));
    if (source === undefined) throw new Error(`${file} is in none of ${SOURCES.join(", ")}`);
    found.set(file, source);
    for (const m of readFileSync(join(source, file), "utf8").matchAll(/^import\s+(?:public\s+)?"([^"]+)"/gm)) stack.push(m[1]);
  }
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? "proto-xds";
  rmSync(out, { recursive: true, force: true });
  const files = closure();
  for (const [file, source] of files) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    cpSync(join(source, file), join(out, file));
  }
  for (const patch of PATCHES) {
    const path = join(out, patch.file);
    const text = readFileSync(path, "utf8");
    const hits = text.match(patch.from)?.length ?? 0;
    if (hits !== patch.count) throw new Error(`${patch.file}: expected ${patch.count} matches of ${patch.from}, found ${hits}`);
    writeFileSync(path, text.replace(patch.from, patch.to));
  }
  const version = JSON.parse(readFileSync("node_modules/@grpc/grpc-js-xds/package.json", "utf8")).version;
  writeFileSync(
    join(out, "README.md"),
    `Copied by scripts/vendor-xds-protos.mjs from @grpc/grpc-js-xds ${version} (deps/, Apache-2.0):\n` +
      `the envoy and xds protos our xDS server uses and their imports (${files.size} files), with the patches listed in the script. Never edited by hand.\n`,
  );
  console.log(`proto-xds/: ${files.size} files from @grpc/grpc-js-xds ${version}`);
}
