// Runs the compiled `discovery` CLI as a real process: to completion (run), or
// as a long-lived one whose output lines tests can wait for (spawnCli).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

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

export function spawnCli(args: string[], env: Record<string, string> = {}): LiveCli {
  const child = spawn(process.execPath, [DISCOVERY_BIN, ...args], { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (!waiter.match.test(line)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal!)));
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLine(match, timeoutMs = 5000) {
      const seen = lines.find((line) => match.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${match} within ${timeoutMs} ms; got:\n${lines.join("\n")}\n${stderr.join("")}`)), timeoutMs);
        waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
}
