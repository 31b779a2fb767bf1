// Exec probes: run a command the operator defined, never one a registrant gave.
// No shell: the program and its arguments are passed as they are, with {host}
// and {port} replaced by the instance's. Exit status 0 passes. The output kept
// for the failure reason is capped; the whole process group is killed when the
// probe's time runs out.
import { spawn } from "node:child_process";
import type { ExecCheck } from "./probe-files";
import type { ProbeAnswer } from "./probe-answer";
import { printable } from "./socket-exchange";

/** Output (stdout and stderr together) kept per exec probe; the rest is read and discarded. */
export const EXEC_OUTPUT_CAP_BYTES = 4096;

export function probeExec(check: ExecCheck, host: string, port: number, signal: AbortSignal): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const fill = (arg: string) => arg.replaceAll("{host}", host).replaceAll("{port}", String(port));
    // detached: its own process group, so a timeout kills what it started too.
    const child = spawn(check.command, check.args.map(fill), { shell: false, detached: true, stdio: ["ignore", "pipe", "pipe"], env: check.env, cwd: "/" });
    const output: Buffer[] = [];
    let kept = 0;
    const collect = (chunk: Buffer) => {
      if (kept >= EXEC_OUTPUT_CAP_BYTES) return;
      const part = chunk.subarray(0, EXEC_OUTPUT_CAP_BYTES - kept);
      output.push(part);
      kept += part.length;
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      kill();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    child.once("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.once("close", (code, killedBy) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) return;
      if (code === 0) return resolve({ ok: true });
      const firstLine = Buffer.concat(output).toString("utf8").trim().split("\n", 1)[0] ?? "";
      const how = code === null ? `killed by ${killedBy}` : `exit ${code}`;
      resolve({ ok: false, error: `exec ${check.name}: ${how}${firstLine === "" ? "" : `: ${printable(firstLine)}`}` });
    });
  });
}
