// The `discovery` command line (commander): `serve` runs the registry; the
// others are clients of any registry (--addr, --secret) with --json for scripts.
import { Command, InvalidArgumentError, Option } from "commander";
import { SETTINGS, type Flags } from "../config";
import * as commands from "./commands";
import { createOutput, describeError } from "./output";
import { createRegistryClient, DEFAULT_ADDR } from "./registry-client";
import { serve } from "./serve";
import { xdsBootstrap } from "./xds-bootstrap";

interface ClientFlags {
  addr: string;
  secret?: string;
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
  for (const setting of SETTINGS) serveCommand.option(`--${setting.flag} <value>`, `${setting.help} [${setting.env}]`);
  serveCommand.action((options: Record<string, string | undefined>) => {
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

  return program;
}

function clientCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .addOption(new Option("--addr <host:port>", "the registry to talk to (gRPC over HTTP/2)").env("DISCOVERY_ADDR").default(DEFAULT_ADDR))
    .addOption(new Option("--secret <secret>", "bearer token for Register, Heartbeat and Unregister").env("SERVICE_DISCOVERY_SECRET"))
    .option("--json", "print the API's JSON (one object per line) instead of text");
}

/** Runs a client command; Ctrl-C aborts it; any failure is one line on stderr and exit code 1. */
async function run(flags: ClientFlags, body: (ctx: commands.CommandContext) => Promise<void>): Promise<void> {
  const json = flags.json === true;
  const out = createOutput(process.stdout, json, process.env);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const client = createRegistryClient({ addr: flags.addr, secret: flags.secret });
    await body({ client, out, json, signal: controller.signal });
    process.exit(0);
  } catch (error) {
    process.stderr.write(`discovery: ${describeError(error, flags.addr)}\n`);
    process.exit(1);
  }
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
