// Real pieces for xDS tests: echo backends that answer their own name, a
// bootstrap file written by the CLI, and a proxyless xDS client process
// (grpc-js-xds or Debian's Python grpcio) whose answers the test reads.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { ROOT, spawnChild, type Child } from "./child-process";
import { waitFor } from "./wait-for";

const raw = (b: Buffer) => b;
const WHO = {
  who: { path: "/echo.v1.Echo/Who", requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
};

export interface EchoBackend {
  readonly name: string;
  readonly port: number;
  close(): void;
}

/** A gRPC server on 127.0.0.1 whose one method answers `name`. */
export async function startEchoBackend(name: string): Promise<EchoBackend> {
  const server = new grpc.Server();
  server.addService(WHO, { who: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(name)) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return { name, port, close: () => server.forceShutdown() };
}

/** The bootstrap file `discovery xds-bootstrap` prints, saved to a temp file. */
export function writeBootstrap(registryPort: number): string {
  const text = execFileSync(process.execPath, [path.join(ROOT, "dist/src/cli/discovery.js"), "xds-bootstrap", "--addr", `127.0.0.1:${registryPort}`, "--node-id", "xds-test"], {
    encoding: "utf8",
  });
  const file = path.join(mkdtempSync(path.join(tmpdir(), "xds-")), "bootstrap.json");
  writeFileSync(file, text);
  return file;
}

export type XdsClientKind = "grpc-js-xds" | "python-grpcio";

/** Reads a client process's answers as they come: "ok NAME" lines, with the time each arrived. */
export class XdsClientProcess {
  private readonly child: Child;
  private read = 0;
  readonly answers: { at: number; name: string | undefined; line: string }[] = [];

  /** `waitForReady` (Python only): calls wait, up to their 1 s deadline, for an endpoint instead of failing at once. */
  constructor(kind: XdsClientKind, bootstrap: string, service: string, options: { waitForReady?: boolean } = {}) {
    const env = { GRPC_XDS_BOOTSTRAP: bootstrap, SERVICE: service, INTERVAL_MS: "10", WAIT_FOR_READY: options.waitForReady === true ? "1" : "0" };
    this.child =
      kind === "grpc-js-xds"
        ? spawnChild(process.execPath, [path.join(ROOT, "test/fixtures/xds-client.js")], env)
        : spawnChild("/usr/bin/python3", [path.join(ROOT, "test/python/xds_client.py")], env);
  }

  private poll(): void {
    const now = Date.now();
    for (; this.read < this.child.lines.length; this.read++) {
      const line = this.child.lines[this.read]!;
      this.answers.push({ at: now, name: line.startsWith("ok ") ? line.slice(3) : undefined, line });
    }
  }

  /** The last `count` lines the client printed ("ok NAME" or "error CODE DETAILS"). */
  lines(count: number): string[] {
    this.poll();
    return this.answers.slice(-count).map((a) => a.line);
  }

  /** The names that answered the last `count` calls (undefined for a failed call). */
  recent(count: number): (string | undefined)[] {
    this.poll();
    return this.answers.slice(-count).map((a) => a.name);
  }

  /**
   * Waits until `window` consecutive calls answered after now all satisfy `ok`,
   * and returns how long after now the first of them was answered: the time
   * the clients took to follow the change. Rejects after `timeoutMs`.
   */
  async settles(ok: (names: (string | undefined)[]) => boolean, what: string, window = 20, timeoutMs = 6000): Promise<number> {
    this.poll();
    const start = Date.now();
    const from = this.answers.length;
    const firstAt = await waitFor(
      () => {
        this.poll();
        for (let begin = from; begin + window <= this.answers.length; begin++) {
          if (ok(this.answers.slice(begin, begin + window).map((a) => a.name))) return this.answers[begin]!.at;
        }
        return undefined;
      },
      timeoutMs,
      `${what} (last answers: ${this.recent(8).join(", ")}; stderr: ${this.child.stderr.join("").slice(-500)})`,
    );
    return firstAt - start;
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

/** Every name in `expected` answered, and nothing else did. */
export function exactly(expected: readonly string[]): (names: (string | undefined)[]) => boolean {
  return (names) => names.every((n) => n !== undefined && expected.includes(n)) && expected.every((e) => names.includes(e));
}
