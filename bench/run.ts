// `npm run bench [scenario...]`: runs the scenarios, prints a table each, and
// writes bench/results/latest.json and bench/results/latest.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { unaryLadder } from "./scenarios/unary-ladder";
import { watchFanout } from "./scenarios/watch-fanout";
import { registryScale } from "./scenarios/registry-scale";
import { versusEtcd } from "./scenarios/vs-etcd";
import { probing } from "./scenarios/probing";
import { xdsPush } from "./scenarios/xds-push";
import { security } from "./scenarios/security";
import { sinksRest } from "./scenarios/sinks-rest";
import { transportChoice } from "./scenarios/transport-choice";
import { cluster } from "./scenarios/cluster";
import type { Scenario, ScenarioResult } from "./lib/scenario";

const SCENARIOS: Scenario[] = [unaryLadder, watchFanout, registryScale, versusEtcd, probing, xdsPush, security, sinksRest, transportChoice, cluster];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const chosen = wanted.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => wanted.includes(s.name));
  const results: Record<string, ScenarioResult & { description: string }> = {};
  for (const scenario of chosen) {
    process.stderr.write(`== ${scenario.name}: ${scenario.description}\n`);
    const started = Date.now();
    const result = await scenario.run({ runs, seconds });
    results[scenario.name] = { description: scenario.description, ...result };
    console.table(result.rows);
    for (const t of result.targets) process.stderr.write(`   target ${t.met ? "MET" : "MISSED"}: ${t.name} (${t.value})\n`);
    process.stderr.write(`   (${Math.round((Date.now() - started) / 1000)} s)\n`);
  }
  const meta = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    command: `npm run bench${wanted.length ? " -- " + wanted.join(" ") : ""}`,
    runs,
    seconds,
  };
  // A partial run replaces only its scenarios; each keeps the date and command it was measured with.
  const dir = path.resolve(__dirname, "../../bench/results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "latest.json");
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { meta?: Record<string, unknown>; results?: Record<string, Measured> }) : {};
  const merged: Record<string, Measured> = {};
  for (const [name, result] of Object.entries(saved.results ?? {})) merged[name] = { ...result, measured: result.measured ?? saved.meta };
  for (const [name, result] of Object.entries(results)) merged[name] = { ...result, measured: meta };
  const ordered = Object.fromEntries(SCENARIOS.filter((s) => merged[s.name] !== undefined).map((s) => [s.name, merged[s.name]!]));
  writeFileSync(file, JSON.stringify({ results: ordered }, null, 2) + "\n");
  writeFileSync(path.join(dir, "latest.md"), toMarkdown(ordered));
}

type Measured = ScenarioResult & { description: string; measured?: Record<string, unknown> };

function toMarkdown(results: Record<string, Measured>): string {
  const lines: string[] = [];
  for (const [name, result] of Object.entries(results)) {
    const m = result.measured ?? {};
    lines.push(`### ${name}`, "", result.description, "", `Measured ${m.date} on ${m.machine} with \`${m.command}\` ${runsText(result.runs ?? Number(m.runs))}.`, "");
    const columns = Object.keys(result.rows[0] ?? {});
    lines.push(`| ${columns.join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`);
    for (const row of result.rows) lines.push(`| ${columns.map((c) => format(row[c])).join(" | ")} |`);
    lines.push("");
    for (const t of result.targets) lines.push(`- ${t.met ? "met" : "**missed**"}: ${t.name}: ${t.value}`);
    for (const n of result.notes ?? []) lines.push(`- ${n}`);
    lines.push("");
  }
  return lines.join("\n");
}

function runsText(runs: number): string {
  return runs === 1 ? "(one run)" : `(median of ${runs} runs)`;
}

function format(value: unknown): string {
  return Array.isArray(value) ? value.join(", ") : String(value);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
