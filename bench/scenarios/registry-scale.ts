// Scenario 3, registry scale: memory per instance at 100k instances in 1000
// services and at 1M, and the lateness of 100k lease expiries spread over 10 s.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { DIST, SERVER_CORE } from "../lib/processes";
import { median } from "../lib/stats";
import type { Scenario } from "../lib/scenario";

const run = promisify(execFile);

export const registryScale: Scenario = {
  name: "registry-scale",
  description: "the registry core with the real expiry timer, in one process pinned to one core",
  async run({ runs }) {
    const rows: Record<string, unknown>[] = [];
    const p99s: number[] = [];
    const loopP99s: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { stdout } = await run(
        "taskset",
        ["-c", String(SERVER_CORE), process.execPath, "--expose-gc", "--max-old-space-size=8192", `${DIST}/bench/clients/registry-scale.js`],
        { maxBuffer: 1 << 20 },
      );
      const r = JSON.parse(stdout) as Record<string, Record<string, number>>;
      p99s.push(r.expiry!.latenessP99Ms!);
      loopP99s.push(r.expiry!.eventLoopDelayP99Ms!);
      rows.push({ run: i + 1, ...prefix("100k", r.hundredK!), ...prefix("expiry", r.expiry!), ...prefix("1M", r.million!) });
    }
    return {
      rows,
      targets: [
        { name: "100k expiries spread over 10 s: p99 lateness < 1000 ms", value: median(p99s), met: median(p99s) < 1000 },
        { name: "event loop delay p99 while expiring < 50 ms", value: median(loopP99s), met: median(loopP99s) < 50 },
      ],
    };
  },
};

function prefix(name: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${name} ${k}`, v]));
}
