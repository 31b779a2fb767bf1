// The `discovery` command line (commander): `serve` runs the registry; the
// others are clients of any registry (--addr, --secret) with --json for scripts.
import { Command, InvalidArgumentError, Option } from "commander";
import { SETTINGS, type Flags } from "../config";
import { HealthStatus } from "../../gen/discovery/v1/discovery_pb";
import { helpLine } from "../settings/table";
import * as commands from "./commands";
import * as instanceCommands from "./instance-commands";
import { commandLifetime } from "./lifetime";
import { createOutput, describeError } from "./output";
import { createRegistryConnection, DEFAULT_ADDR } from "./registry-client";
import { xdsBootstrap } from "./xds-bootstrap";

interface ClientFlags {
  addr: string;
  secret?: string;
  ca?: string;
  cert?: string;
  key?: string;
  json?: boolean;
}

export function createProgram(): Command {
  const program = new Command("discovery")
    .description("A service-discovery registry for gRPC services, and a client for it.")
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ showGlobalOptions: true });

  const serveCommand = program
    .command("serve")
    .description("Run the registry: gRPC, Connect, gRPC-Web, the dashboard (/) and /metrics on one port. Each flag overrides its environment variable.");
  for (const setting of SETTINGS) serveCommand.option(`--${setting.flag} <value>`, helpLine(setting));
  serveCommand.action(async (options: Record<string, string | undefined>) => {
    // Loaded only here: the client commands start without the whole server.
    const { serve } = await import("./serve.js");
    const flags: Flags = {};
    for (const setting of SETTINGS) flags[setting.env] = options[camel(setting.flag)];
    return serve(flags);
  });

  clientCommand(program, "services", "List every service with its instance, healthy and critical-load counts.").action((flags: ClientFlags) =>
    run(flags, (ctx) => commands.listServices(ctx)),
  );

  clientCommand(program, "instances", "List a service's instances (every status, unless --healthy).")
    .argument("<service>", "service name")
    .option("--healthy", "only HEALTHY and DEGRADED instances (ListHealthy)")
    .option("--exclude-critical", "only healthy instances not at critical load")
    .action((service: string, flags: ClientFlags & { healthy?: boolean; excludeCritical?: boolean }) =>
      run(flags, (ctx) => commands.listInstances(ctx, service, { healthy: flags.healthy === true, excludeCritical: flags.excludeCritical === true })),
    );

  clientCommand(program, "watch", "Stream changes live, one line per event (Ctrl-C stops).")
    .argument("[service...]", "services to watch (default: all)")
    .option("--since <revision>", "resume after this revision instead of starting from a snapshot", parseRevision)
    .action((services: string[], flags: ClientFlags & { since?: bigint }) =>
      run(flags, (ctx) => commands.watch(ctx, services, { since: flags.since ?? 0n })),
    );

  clientCommand(program, "register", "Register an instance, for quick experiments (with --keep-alive it heartbeats until Ctrl-C, then unregisters).")
    .argument("<service>", "service name")
    .argument("<host>", "host or IP the instance listens on")
    .argument("<port>", "port (1-65535)", parsePort)
    .option("--id <instance-id>", "instance id (default: the server assigns a UUID)", "")
    .option("--ttl <seconds>", "lease length in seconds (default: the server's)", parseNumber)
    .option("--load <share>", "load from 0 to 1", parseNumber)
    .option("--meta <key=value>", "metadata entry (repeatable)", collectMeta, {})
    .option("--health-endpoint <path>", "path the registry may probe", "")
    .option("--keep-alive", "heartbeat until interrupted, then unregister")
    .action(
      (service: string, host: string, port: number, flags: ClientFlags & { id: string; ttl?: number; load?: number; meta: Record<string, string>; healthEndpoint: string; keepAlive?: boolean }) =>
        run(flags, (ctx) =>
          commands.register(ctx, service, host, port, {
            id: flags.id,
            ttl: flags.ttl,
            load: flags.load,
            meta: flags.meta,
            healthEndpoint: flags.healthEndpoint,
            keepAlive: flags.keepAlive === true,
          }),
        ),
    );

  clientCommand(program, "unregister", "Remove an instance at once.")
    .argument("<service>", "service name")
    .argument("<instance-id>", "instance id")
    .action((service: string, id: string, flags: ClientFlags) => run(flags, (ctx) => commands.unregister(ctx, service, id)));

  program
    .command("xds-bootstrap")
    .description("Print an xDS bootstrap file for proxyless gRPC clients (set GRPC_XDS_BOOTSTRAP to its path), then resolve xds:///SERVICE.")
    .addOption(new Option("--addr <host:port>", "the registry's address as the clients reach it").env("DISCOVERY_ADDR").default(DEFAULT_ADDR))
    .option("--node-id <id>", "the client's node id, as the registry's logs name it", "grpc-discovery-client")
    .option("--region <region>", "the client's locality region")
    .option("--zone <zone>", "the client's locality zone")
    .action((flags: { addr: string; nodeId: string; region?: string; zone?: string }) => {
      process.stdout.write(`${JSON.stringify(xdsBootstrap(flags), null, 2)}\n`);
    });

  clientCommand(program, "drain", "Leave gracefully: the instance turns DRAINING (gateways stop sending new calls) and is removed after --for.")
    .argument("<service>", "service name")
    .argument("<instance-id>", "instance id")
    .option("--for <duration>", "how long it drains before removal: 30s, 500ms, 2m (0: at once)", parseDurationMs, 30_000)
    .action((service: string, id: string, flags: ClientFlags & { for: number }) => run(flags, (ctx) => instanceCommands.drain(ctx, service, id, flags.for)));

  clientCommand(program, "heartbeat", "Renew an instance's lease once, reporting its load and, optionally, its own status.")
    .argument("<service>", "service name")
    .argument("<instance-id>", "instance id")
    .option("--load <share>", "load from 0 to 1", parseNumber)
    .option("--status <status>", "the status the instance reports: healthy, degraded or unhealthy", parseStatus)
    .action((service: string, id: string, flags: ClientFlags & { load?: number; status?: HealthStatus }) =>
      run(flags, (ctx) => instanceCommands.heartbeat(ctx, service, id, { load: flags.load, status: flags.status })),
    );

  clientCommand(program, "check-now", "Probe an instance with its health check now and print the result.")
    .argument("<service>", "service name")
    .argument("<instance-id>", "instance id")
    .action((service: string, id: string, flags: ClientFlags) => run(flags, (ctx) => instanceCommands.checkNow(ctx, service, id)));

  clientCommand(program, "history", "An instance's recent health-check results, its uptime and average latency.")
    .argument("<service>", "service name")
    .argument("<instance-id>", "instance id")
    .action((service: string, id: string, flags: ClientFlags) => run(flags, (ctx) => instanceCommands.history(ctx, service, id)));

  return program;
}

function clientCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .addOption(
      new Option("--addr <host:port>", "the registry to talk to (gRPC over HTTP/2; https://host:port for TLS); several nodes: a:3004,b:3004 or --addr repeated (the next is used when one is unavailable)")
        .env("DISCOVERY_ADDR")
        .default(DEFAULT_ADDR)
        .argParser(collectAddr),
    )
    .addOption(new Option("--secret <token>", "bearer token (the server's secret or a token from its tokens file)").env("SERVICE_DISCOVERY_SECRET"))
    .addOption(new Option("--ca <file>", "PEM CA to trust for https:// addresses").env("DISCOVERY_CA"))
    .addOption(new Option("--cert <file>", "PEM client certificate for mTLS").env("DISCOVERY_CERT"))
    .addOption(new Option("--key <file>", "PEM key of --cert").env("DISCOVERY_KEY"))
    .option("--json", "print the API's JSON (one object per line) instead of text");
}

/** Runs a client command; Ctrl-C, SIGTERM or the launcher's exit aborts it; any failure is one line on stderr and exit code 1. */
async function run(flags: ClientFlags, body: (ctx: commands.CommandContext) => Promise<void>): Promise<void> {
  const json = flags.json === true;
  const out = createOutput(process.stdout, json, process.env);
  const note = json ? createOutput(process.stderr, false, process.env) : out;
  const lifetime = commandLifetime();
  try {
    const connection = createRegistryConnection({ addr: flags.addr, secret: flags.secret, caFile: flags.ca, certFile: flags.cert, keyFile: flags.key });
    await body({ client: connection.client, connection, out, note, json, signal: lifetime.signal });
    process.exit(0);
  } catch (error) {
    process.stderr.write(`discovery: ${describeError(error, flags.addr)}\n`);
    process.exit(1);
  }
}

/** --addr a,b and --addr a --addr b both give "a,b"; the first one given replaces the default. */
function collectAddr(value: string, previous: string | undefined): string {
  return previous === undefined || previous === DEFAULT_ADDR ? value : `${previous},${value}`;
}

function parseStatus(value: string): HealthStatus {
  const status = instanceCommands.REPORTABLE_STATUS[value.toLowerCase()];
  if (status === undefined) throw new InvalidArgumentError(`must be one of ${Object.keys(instanceCommands.REPORTABLE_STATUS).join(", ")}.`);
  return status;
}

/** "30s", "500ms", "2m", "1h" or a bare number of seconds, to milliseconds. */
function parseDurationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (match === null) throw new InvalidArgumentError("must be a duration such as 30s, 500ms or 2m.");
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(match[1]) * unit);
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError("must be a whole number from 1 to 65535.");
  return port;
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("must be a number.");
  return n;
}

function parseRevision(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number.");
  return BigInt(value);
}

function collectMeta(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("must be key=value.");
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}
