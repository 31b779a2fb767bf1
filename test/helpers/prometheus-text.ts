// Reads Prometheus text exposition into samples tests can look up by name and labels.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; undefined when none. */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/**
 * How many calls of a DiscoveryService method ("Register", "KeepAlive"...) the
 * server at `baseUrl` saw end with `code`, read from its /metrics. A stream
 * counts once it has fully ended, server-side cleanup included.
 */
export async function rpcCount(baseUrl: string, method: string, code: string): Promise<number> {
  const samples = parsePrometheus(await (await fetch(`${baseUrl}/metrics`)).text());
  return valueOf(samples, "discovery_rpc_total", { method: `discovery.v1.DiscoveryService/${method}`, code }) ?? 0;
}
