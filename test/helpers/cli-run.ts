// Runs the compiled `discovery` CLI as a real process: to completion (run), or
// as a long-lived one whose output lines tests can wait for (spawnCli).
import { execFile, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { spawnChild } from "./child-process";

export const DISCOVERY_BIN = path.join(__dirname, "../../dist/src/cli/discovery.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment the CLI sees: ours without the settings that would change its defaults. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { SERVICE_DISCOVERY_SECRET: _s, DISCOVERY_ADDR: _a, ...rest } = process.env;
  return { ...rest, NO_COLOR: undefined, ...env };
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DISCOVERY_BIN, ...args], { env: cleanEnv(env), timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface LiveCli {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the first line (from now or already seen) that matches. */
  waitForLine(match: RegExp, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<number | NodeJS.Signals>;
}

/**
 * How long a spawned CLI may take to print a line by default. Its first line
 * includes the process start (loading Node and dist/), which takes seconds on a
 * loaded 2-core machine: 5 s was missed in full-suite runs at a load of 8-15.
 * It matches runCli's 15 s budget for a whole command.
 */
export const CLI_LINE_BUDGET_MS = 15_000;

export function spawnCli(args: string[], env: Record<string, string> = {}): LiveCli {
  const cli = spawnChild(process.execPath, [DISCOVERY_BIN, ...args], {}, cleanEnv(env));
  return {
    child: cli.process,
    lines: cli.lines,
    stderr: cli.stderr,
    exited: cli.exited,
    waitForLine: (match, timeoutMs = CLI_LINE_BUDGET_MS) => cli.waitForLine(match, timeoutMs),
  };
}
