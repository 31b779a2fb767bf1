// register(): one call that registers an instance and keeps it registered:
// heartbeats (on a KeepAlive stream where the transport allows, unary calls
// otherwise) carrying the caller's load, re-registration when the registry lost
// the lease, backoff with jitter while it is unreachable, and a draining
// Unregister on close(), on the caller's signal or on SIGTERM.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { HeartbeatRequestSchema, type HeartbeatRequest, type Instance } from "../../gen/discovery/v1/discovery_pb";
import { codeOf, createBackoff, isPermanent, sleep, type BackoffOptions } from "./backoff";
import { createConnection, type ConnectionOptions, type DiscoveryConnection } from "./connection";
import { abortError, type ClientLogger } from "./util";
import { durationFromMs, durationToMs } from "../common/duration";

/** How long close() lets in-flight requests finish while the instance is DRAINING. */
export const DEFAULT_DRAIN_MS = 2_000;
/** How long close() waits for its Unregister call. */
export const UNREGISTER_TIMEOUT_MS = 2_000;

export interface RegisterOptions extends ConnectionOptions {
  service: string;
  /** Default: a random UUID, kept for the registration's life (re-registrations reuse it). */
  instanceId?: string;
  host: string;
  port: number;
  metadata?: Record<string, string>;
  healthEndpoint?: string;
  /** Lease length; default: the registry's. */
  ttlMs?: number;
  /** The instance's current load, 0 to 1, read at every heartbeat. */
  load?: () => number | undefined;
  /** DRAINING period before removal on close() (0: leave at once). Default DEFAULT_DRAIN_MS. */
  drainMs?: number;
  /** Unregister (with the drain) before the process exits on these signals; true means SIGTERM and SIGINT. */
  exitOnSignals?: boolean | NodeJS.Signals[];
  /**
   * Before the first Register succeeds, aborting it rejects register() with an
   * AbortError (and stops its retries); after, aborting it is close().
   */
  signal?: AbortSignal;
  backoff?: BackoffOptions;
  logger?: ClientLogger;
  /** Use this connection instead of opening one (it is not closed by close()). */
  connection?: DiscoveryConnection;
}

export interface Registration {
  readonly instanceId: string;
  /** The instance as the registry last described it. */
  readonly instance: Instance;
  /** How heartbeats travel now: "keep-alive" (one stream) or "unary". */
  readonly mode: "keep-alive" | "unary";
  /** Stops heartbeating, then unregisters with the drain; resolves when the drain period is over. */
  close(): Promise<void>;
}

/** Registers and keeps the lease alive; resolves once the first Register succeeded. */
export async function register(options: RegisterOptions): Promise<Registration> {
  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal, "register() was aborted before it started");
  const connection = options.connection ?? createConnection(options);
  const { client } = connection;
  const logger = options.logger;
  const instanceId = options.instanceId ?? randomUUID();
  const stop = new AbortController();
  const backoff = createBackoff(options.backoff);
  let mode: Registration["mode"] = connection.supportsKeepAlive ? "keep-alive" : "unary";
  let instance!: Instance;
  let intervalMs = 0;
  // Heartbeat failures since the last answer: each moves to the next registry address.
  let brokenInARow = 0;

  const registerRequest = () => ({
    serviceName: options.service,
    instanceId,
    host: options.host,
    port: options.port,
    metadata: options.metadata ?? {},
    healthEndpoint: options.healthEndpoint ?? "",
    ttl: options.ttlMs === undefined ? undefined : durationFromMs(options.ttlMs),
    loadPercentage: options.load?.(),
  });
  const heartbeatRequest = (): HeartbeatRequest =>
    create(HeartbeatRequestSchema, { serviceName: options.service, instanceId, loadPercentage: options.load?.() });

  /** Registers, retrying with backoff until it succeeds, a permanent error, or close. */
  const registerWithRetry = async (): Promise<void> => {
    for (;;) {
      stop.signal.throwIfAborted();
      try {
        const response = await client.register(registerRequest(), { signal: stop.signal });
        instance = response.instance!;
        intervalMs = Math.max(1, (response.heartbeatInterval === undefined ? 1_000 : durationToMs(response.heartbeatInterval)));
        backoff.reset();
        return;
      } catch (error) {
        if (stop.signal.aborted || isPermanent(error)) throw error;
        const delay = backoff.next();
        logger?.warn({ err: error, serviceName: options.service, instanceId, retryInMs: Math.round(delay) }, "register failed; retrying");
        await sleep(delay, stop.signal);
      }
    }
  };

  /** Heartbeats on one stream until it fails (throws) or close ends it (returns). */
  const keepAliveStream = async (): Promise<void> => {
    const streamAbort = new AbortController();
    // close() half-closes the stream (the generator ends); cut it if the registry does not answer.
    const onStop = () => setTimeout(() => streamAbort.abort(), 1_000).unref();
    stop.signal.addEventListener("abort", onStop, { once: true });
    let answered = true;
    // Ending this generator half-closes the stream: the registry sees an orderly goodbye.
    async function* requests(): AsyncGenerator<HeartbeatRequest> {
      for (;;) {
        if (!answered) {
          streamAbort.abort(new ConnectError("keep-alive got no answer within a heartbeat interval", Code.Unavailable));
          return;
        }
        answered = false;
        yield heartbeatRequest();
        await sleep(intervalMs, stop.signal);
        if (stop.signal.aborted) return;
      }
    }
    try {
      for await (const response of client.keepAlive(requests(), { signal: streamAbort.signal })) {
        answered = true;
        instance = response.instance!;
        backoff.reset();
        brokenInARow = 0;
      }
      if (!stop.signal.aborted) throw new ConnectError("keep-alive stream ended by the registry", Code.Unavailable);
    } catch (error) {
      if (stop.signal.aborted) return;
      throw streamAbort.signal.aborted && streamAbort.signal.reason instanceof ConnectError ? streamAbort.signal.reason : error;
    } finally {
      stop.signal.removeEventListener("abort", onStop);
    }
  };

  const unaryHeartbeats = async (): Promise<void> => {
    for (;;) {
      await sleep(intervalMs, stop.signal);
      if (stop.signal.aborted) return;
      const response = await client.heartbeat(heartbeatRequest(), { signal: stop.signal, timeoutMs: Math.max(intervalMs, 1_000) });
      instance = response.instance!;
      backoff.reset();
      brokenInARow = 0;
    }
  };

  const run = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      try {
        if (mode === "keep-alive") await keepAliveStream();
        else await unaryHeartbeats();
      } catch (error) {
        if (stop.signal.aborted) return;
        const code = codeOf(error);
        if (code === Code.NotFound) {
          logger?.info({ serviceName: options.service, instanceId }, "registry lost the lease; registering again");
          try {
            await registerWithRetry();
          } catch (refused) {
            if (stop.signal.aborted) return;
            // Refused for good (INVALID_ARGUMENT...): the next heartbeat gets NOT_FOUND again
            // at once, so wait before it, or the two calls would loop as fast as the network allows.
            const delay = backoff.next();
            logger?.error({ err: refused, serviceName: options.service, instanceId, retryInMs: Math.round(delay) }, "register refused; retrying");
            await sleep(delay, stop.signal);
          }
          continue;
        }
        if (code === Code.Unimplemented && mode === "keep-alive") {
          logger?.info({ serviceName: options.service, instanceId }, "registry has no KeepAlive; heartbeating with unary calls");
          mode = "unary";
          continue;
        }
        // Another registry node may hold up: move there at once, once per address, then back off.
        connection.failover();
        brokenInARow++;
        const delay = brokenInARow < connection.addresses ? 0 : backoff.next();
        logger?.warn({ err: error, serviceName: options.service, instanceId, next: connection.url, retryInMs: Math.round(delay) }, "heartbeat failed; retrying");
        await sleep(delay, stop.signal);
      }
    }
  };

  // Until the first Register succeeds the caller's signal cancels register() itself.
  const abortRegistering = () => stop.abort();
  signal?.addEventListener("abort", abortRegistering, { once: true });
  try {
    await registerWithRetry();
  } catch (error) {
    if (options.connection === undefined) connection.close();
    throw signal?.aborted ? abortError(signal, "register() was aborted before the registry accepted the instance") : error;
  } finally {
    signal?.removeEventListener("abort", abortRegistering);
  }
  const running = run();

  let closing: Promise<void> | undefined;
  const exitSignals = options.exitOnSignals === true ? (["SIGTERM", "SIGINT"] as NodeJS.Signals[]) : options.exitOnSignals || [];
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const name of exitSignals) process.removeListener(name, onSignal);
      signal?.removeEventListener("abort", onAbort);
      const drainMs = options.drainMs ?? DEFAULT_DRAIN_MS;
      // Stop heartbeating before the Unregister: a heartbeat landing after it would get
      // NOT_FOUND and run() would register the instance again (an orphan until its lease
      // runs out); a Register already in flight now lands first and is undone by it.
      // The keep-alive stream ends with a half-close, a goodbye that marks nothing.
      stop.abort();
      await running;
      try {
        await client.unregister(
          { serviceName: options.service, instanceId, drain: drainMs > 0 ? durationFromMs(drainMs) : undefined },
          { timeoutMs: UNREGISTER_TIMEOUT_MS },
        );
      } catch (error) {
        logger?.warn({ err: error, serviceName: options.service, instanceId }, "unregister failed; the lease will run out");
      }
      if (options.connection === undefined) connection.close();
      await sleep(drainMs);
    })();
    return closing;
  };
  const onAbort = () => void close();
  const onSignal = (name: NodeJS.Signals) => {
    void close().then(() => {
      // Exit as the signal would have, unless the application handles it too.
      if (process.listenerCount(name) === 0) process.kill(process.pid, name);
    });
  };
  if (signal?.aborted) {
    // Aborted just as the Register succeeded: take the instance back out before rejecting.
    await close();
    throw abortError(signal, "register() was aborted as the registry accepted the instance");
  }
  for (const name of exitSignals) process.once(name, onSignal);
  signal?.addEventListener("abort", onAbort, { once: true });

  return {
    instanceId,
    get instance() {
      return instance;
    },
    get mode() {
      return mode;
    },
    close,
  };
}
