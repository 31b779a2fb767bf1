// The real server process (`npm start` runs the same file), on a free port, with
// its JSON log lines collected so tests can wait for them.
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

export const CLI = path.join(__dirname, "../../dist/src/cli/main.js");

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly logs: Record<string, unknown>[];
  readonly stderr: string[];
  /** Resolves with the exit code (or the signal that ended it). */
  readonly exited: Promise<number | NodeJS.Signals>;
}

export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI], {
    env: { ...process.env, SERVICE_DISCOVERY_HOST: "127.0.0.1", SERVICE_DISCOVERY_PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal!)));
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  let partial = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === "discovery server listening") resolve(entry.port as number);
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr.join("")}`)));
  });
  return { child, port, logs, stderr, exited };
}
