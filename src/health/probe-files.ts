// The operator's probe files, read once at start: exec checks
// (DISCOVERY_EXEC_CHECKS_FILE) and the secrets probes may reference by name
// (DISCOVERY_PROBE_SECRETS_FILE). A registrant can only name an entry; what
// runs and what is sent is the operator's.
import { readFileSync } from "node:fs";

export interface ExecCheck {
  readonly name: string;
  /** An absolute path to the program: no shell, no PATH search. */
  readonly command: string;
  readonly args: readonly string[];
  /** The whole environment the command sees (default: PATH only). */
  readonly env: Readonly<Record<string, string>>;
}

/** What the prober may use on a registrant's behalf. */
export interface ProbeResources {
  readonly execChecks: ReadonlyMap<string, ExecCheck>;
  readonly secrets: ReadonlyMap<string, string>;
}

export const NO_PROBE_RESOURCES: ProbeResources = { execChecks: new Map(), secrets: new Map() };

/** A file that cannot be used; the message names the setting, the file and the entry. */
export class ProbeFileError extends Error {
  override readonly name = "ProbeFileError";
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");

function readJson(setting: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ProbeFileError(`${setting}: cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProbeFileError(`${setting}: ${file} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * `{"checks": {"<name>": {"command": "/abs/path", "args": ["-h", "{host}", "-p", "{port}"], "env": {...}}}}`
 */
export function loadExecChecks(file: string, setting = "DISCOVERY_EXEC_CHECKS_FILE"): Map<string, ExecCheck> {
  const json = readJson(setting, file) as { checks?: unknown };
  const checks = json?.checks;
  if (typeof checks !== "object" || checks === null || Array.isArray(checks)) throw new ProbeFileError(`${setting}: ${file} needs a "checks" object`);
  const out = new Map<string, ExecCheck>();
  for (const [name, raw] of Object.entries(checks as Record<string, unknown>)) {
    const where = `${setting}: check ${JSON.stringify(name)}`;
    if (!NAME.test(name)) throw new ProbeFileError(`${where}: name must be 1 to 128 letters, digits, '.', '_' or '-'`);
    const entry = raw as { command?: unknown; args?: unknown; env?: unknown };
    if (typeof entry?.command !== "string" || !entry.command.startsWith("/")) throw new ProbeFileError(`${where}: "command" must be an absolute path`);
    if (entry.args !== undefined && !(Array.isArray(entry.args) && entry.args.every((a) => typeof a === "string"))) {
      throw new ProbeFileError(`${where}: "args" must be an array of strings`);
    }
    if (entry.env !== undefined && !isStringRecord(entry.env)) throw new ProbeFileError(`${where}: "env" must map names to strings`);
    out.set(name, { name, command: entry.command, args: (entry.args as string[] | undefined) ?? [], env: (entry.env as Record<string, string> | undefined) ?? { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  }
  return out;
}

/** `{"<name>": "<secret>"}` */
export function loadProbeSecrets(file: string, setting = "DISCOVERY_PROBE_SECRETS_FILE"): Map<string, string> {
  const json = readJson(setting, file);
  if (!isStringRecord(json)) throw new ProbeFileError(`${setting}: ${file} must be a JSON object of names to strings`);
  for (const name of Object.keys(json)) if (!NAME.test(name)) throw new ProbeFileError(`${setting}: secret ${JSON.stringify(name)}: name must be 1 to 128 letters, digits, '.', '_' or '-'`);
  return new Map(Object.entries(json));
}
