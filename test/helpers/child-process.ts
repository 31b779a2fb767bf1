// Child processes for tests that kill their peers: spawned with node (or any
// program), stdout collected line by line so a test can wait for a line.
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.join(__dirname, "../..");

export interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Resolves with the first stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * @param env variables added to this process's environment
 * @param fullEnv the whole environment instead, when a caller must also remove variables
 */
export function spawnChild(command: string, args: string[], env: Record<string, string> = {}, fullEnv?: NodeJS.ProcessEnv): Child {
  const child = spawn(command, args, { cwd: ROOT, env: fullEnv ?? { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal!)));
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  return {
    process: child,
    lines,
    stderr,
    exited,
    waitForLine(pattern, timeoutMs = 8000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr.join("")}`)),
          timeoutMs,
        );
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        void exited.then((code) => reject(new Error(`exited (${code}) before ${pattern}; stderr: ${stderr.join("")}`)));
      });
    },
    kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** A node child running a fixture script under test/fixtures. */
export function spawnNodeFixture(name: string, env: Record<string, string> = {}): Child {
  return spawnChild(process.execPath, [path.join(ROOT, "test/fixtures", name)], env);
}
