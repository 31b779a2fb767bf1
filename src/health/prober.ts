// The prober: follows the registry's events to keep one probe schedule per
// instance that has a health check, runs the probes (HTTP, TCP, gRPC) under a
// global concurrency bound, and hands what they saw to the registry's rules.
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { DiscoveryError } from "../core/errors";
import { sameHealthCheck, type ProbeObservation, type ProbeResult } from "../core/health-state";
import type { Registry } from "../core/registry";
import type { HealthCheckSpec, InstanceView, RegistryEvent } from "../core/types";
import { validateInstanceId, validateServiceName } from "../core/validate";
import { describeFailure, ProbeTimeout } from "./failure";
import { runAsActor } from "../runtime/actor";
import { createGrpcProber } from "./grpc-probe";
import { createHttpProber } from "./http-probe";
import { createLimiter } from "./limiter";
import type { ProbeAnswer } from "./probe-answer";
import { createTickScheduler, type ScheduledTask, type Scheduler } from "./scheduler";
import { probeTcp } from "./tcp-probe";
import { createAddressPolicy, type AddressPolicy } from "./address-policy";
import { resolveAllowed, type Lookup } from "./probe-address";
import { probeRedis } from "./redis-probe";
import { probePostgres } from "./postgres-probe";
import { probeExec } from "./exec-probe";
import { NO_PROBE_RESOURCES, type ProbeResources } from "./probe-files";
import { DEFAULT_PROBE_CONCURRENCY } from "./probe-defaults";

export interface ProberOptions {
  registry: Registry;
  logger: Logger;
  concurrency?: number;
  /** Timers for probe schedules; tests pass one they can fire by hand. */
  scheduler?: Scheduler;
  /** Without a scheduler: probes are started in ticks of this many ms (HEALTH_CHECK_TICK_MS, default DEFAULT_PROBE_TICK_MS). */
  tickMs?: number;
  /** Spreads first probes over the interval; tests may make it predictable. */
  random?: () => number;
  /** Stops every schedule and closes every connection. */
  signal: AbortSignal;
  /** Which addresses may be probed (default: DEFAULT_PROBE_DENY); checked after resolution at every probe. */
  addressPolicy?: AddressPolicy;
  /** Name resolution (default: the system's); tests may point names anywhere. */
  lookup?: Lookup;
  /** Told of every recorded probe (metrics); keep it cheap. */
  onProbe?: (outcome: ProbeResult["outcome"], seconds: number) => void;
  /** The operator's exec checks and probe secrets (default: none). */
  resources?: ProbeResources;
  /** No scheduled probe starts before this many ms after the prober (HEALTH_CHECK_STARTUP_DELAY_SECONDS). */
  startupDelayMs?: number;
  /**
   * Whether this server probes the instance (cluster mode: exactly one live node
   * does). Asked at every due time, so a dead node's share moves within an interval.
   */
  owns?: (serviceName: string, instanceId: string) => boolean;
}

export interface CheckOutcome {
  result: ProbeResult;
  instance: InstanceView;
}

export interface ProberStats {
  /** Instances with a probe schedule. */
  readonly targets: number;
  /** Probes completed since start. */
  readonly completed: number;
  readonly active: number;
  readonly waiting: number;
  readonly grpcChannels: number;
}

export interface Prober {
  /** Probes the instance at once (joining a probe already under way) and returns the result. */
  /** `actor` (a credential's name) is logged with the changes this probe makes, unless it joined one under way. */
  checkNow(serviceName: string, instanceId: string, options?: { signal?: AbortSignal; actor?: string }): Promise<CheckOutcome>;
  readonly stats: ProberStats;
}

interface Target {
  readonly serviceName: string;
  readonly instanceId: string;
  readonly host: string;
  readonly port: number;
  readonly spec: HealthCheckSpec;
  /** Aborts when the instance leaves or its check changes: cancels the timer and any probe. */
  readonly stopped: AbortController;
  task: ScheduledTask | undefined;
  running: Promise<CheckOutcome> | undefined;
}

const keyOf = (serviceName: string, instanceId: string) => `${serviceName}\u0000${instanceId}`;

export function createProber(options: ProberOptions): Prober {
  const { registry, signal } = options;
  const logger = options.logger;
  const scheduler = options.scheduler ?? createTickScheduler(options.tickMs);
  const random = options.random ?? Math.random;
  const concurrency = options.concurrency ?? DEFAULT_PROBE_CONCURRENCY;
  const limiter = createLimiter(concurrency);
  const http = createHttpProber({ maxTotalSockets: concurrency });
  const grpc = createGrpcProber();
  const policy = options.addressPolicy ?? createAddressPolicy();
  const targets = new Map<string, Target>();
  const resources = options.resources ?? NO_PROBE_RESOURCES;
  const startupEndsAt = performance.now() + (options.startupDelayMs ?? 0);
  let completed = 0;

  const answer = async (target: Target, probeSignal: AbortSignal): Promise<ProbeAnswer> => {
    const probe = target.spec.probe;
    // An exec check is the operator's command, given {host} verbatim; it dials nothing here.
    if (probe.t === "exec") {
      const check = resources.execChecks.get(probe.name);
      if (check === undefined) return { ok: false, error: `exec check ${probe.name} is not in DISCOVERY_EXEC_CHECKS_FILE` };
      return probeExec(check, target.host, target.port, probeSignal);
    }
    // Every probe that dials is checked against the policy and dials the checked address.
    const resolved = await resolveAllowed(policy, target.host, { lookup: options.lookup, signal: probeSignal });
    switch (probe.t) {
      case "http":
        return http.probe(resolved.address, target.host, target.port, probe, probeSignal);
      case "tcp":
        return probeTcp(resolved.address, target.port, probeSignal);
      case "grpc":
        return grpc.probe(target.host, target.port, resolved, probe.service, probeSignal, target.spec.timeoutMs);
      case "postgres":
        return probePostgres(resolved.address, target.port, probe, probeSignal);
      case "redis": {
        if (probe.passwordRef === "") return probeRedis(resolved.address, target.port, undefined, probeSignal);
        const password = resources.secrets.get(probe.passwordRef);
        if (password === undefined) return { ok: false, error: `password_ref ${probe.passwordRef} is not in DISCOVERY_PROBE_SECRETS_FILE` };
        return probeRedis(resolved.address, target.port, { username: probe.username, password }, probeSignal);
      }
    }
  };

  /** One probe on the wire, bounded by the check's timeout and the instance's presence. */
  const observe = async (target: Target): Promise<ProbeObservation> => {
    const timeoutMs = target.spec.timeoutMs;
    const controller = new AbortController();
    const onStop = () => controller.abort(target.stopped.signal.reason);
    target.stopped.signal.addEventListener("abort", onStop, { once: true });
    const timer = setTimeout(() => controller.abort(new ProbeTimeout(timeoutMs)), timeoutMs);
    timer.unref();
    const started = performance.now();
    try {
      const result = await answer(target, controller.signal);
      const latencyMs = performance.now() - started;
      return result.ok ? { ok: true, latencyMs, reportedStatus: result.reportedStatus, load: result.load } : { ok: false, latencyMs, error: result.error };
    } catch (error) {
      return { ok: false, latencyMs: performance.now() - started, error: describeFailure(error, controller.signal) };
    } finally {
      clearTimeout(timer);
      target.stopped.signal.removeEventListener("abort", onStop);
    }
  };

  const execute = async (target: Target, urgent: boolean, actor: string | undefined): Promise<CheckOutcome> => {
    const observation = await limiter.run(() => observe(target), { signal: target.stopped.signal, urgent });
    completed++;
    if (target.stopped.signal.aborted) throw gone(target);
    if (!observation.ok) logger.debug({ serviceName: target.serviceName, instanceId: target.instanceId, error: observation.error }, "probe failed");
    const record = () => registry.recordProbe(target.serviceName, target.instanceId, observation);
    const outcome = await (actor === undefined ? record() : runAsActor(actor, record));
    options.onProbe?.(outcome.result.outcome, outcome.result.latencyMs / 1000);
    return outcome;
  };

  /** Never two probes of one instance at a time: a second request joins the first. */
  const run = (target: Target, urgent: boolean, actor?: string): Promise<CheckOutcome> => {
    if (target.running !== undefined) return target.running;
    const running = execute(target, urgent, actor).finally(() => {
      target.running = undefined;
    });
    target.running = running;
    return running;
  };

  const schedule = (target: Target, delayMs: number) => {
    target.task = scheduler.schedule(delayMs, (lateMs = 0) => {
      target.task = undefined;
      // The next probe is due an interval after this one was due, so that ticks do not stretch the interval.
      const firedAt = performance.now() - lateMs;
      const owned = options.owns?.(target.serviceName, target.instanceId) ?? true;
      (owned ? run(target, false) : Promise.resolve()).then(
        () => undefined,
        (error: unknown) => {
          if (!target.stopped.signal.aborted) logger.warn({ err: error, serviceName: target.serviceName, instanceId: target.instanceId }, "probe not recorded");
        },
      ).finally(() => {
        if (!target.stopped.signal.aborted) schedule(target, Math.max(0, target.spec.intervalMs - (performance.now() - firedAt)));
      });
    });
  };

  const start = (instance: InstanceView, spec: HealthCheckSpec) => {
    const target: Target = {
      serviceName: instance.serviceName,
      instanceId: instance.instanceId,
      host: instance.host,
      port: instance.port,
      spec,
      stopped: new AbortController(),
      task: undefined,
      running: undefined,
    };
    targets.set(keyOf(instance.serviceName, instance.instanceId), target);
    if (spec.probe.t === "grpc") grpc.acquire(target.host, target.port);
    // The first probe falls anywhere in the interval (a fleet registered at once is not probed at once),
    // and not before the startup delay has passed.
    const startupLeft = Math.max(0, startupEndsAt - performance.now());
    schedule(target, Math.ceil(startupLeft) + Math.floor(random() * spec.intervalMs));
  };

  const stop = (key: string) => {
    const target = targets.get(key);
    if (target === undefined) return;
    targets.delete(key);
    target.task?.cancel();
    target.stopped.abort(gone(target));
    if (target.spec.probe.t === "grpc") grpc.release(target.host, target.port);
  };

  const onEvent = (event: RegistryEvent) => {
    const instance = event.instance;
    const key = keyOf(instance.serviceName, instance.instanceId);
    switch (event.type) {
      case "registered":
        if (instance.healthCheck !== undefined) start(instance, instance.healthCheck);
        return;
      case "updated": {
        const target = targets.get(key);
        const same =
          target !== undefined && target.host === instance.host && target.port === instance.port && sameHealthCheck(target.spec, instance.healthCheck);
        if (same || (target === undefined && instance.healthCheck === undefined)) return;
        stop(key);
        if (instance.healthCheck !== undefined) start(instance, instance.healthCheck);
        return;
      }
      case "unregistered":
      case "expired":
        stop(key);
        return;
      default:
        return;
    }
  };

  /** Probes what the store holds now: at start, and when its view was replaced without events (onResync). */
  const reconcile = () => {
    for (const [key, target] of [...targets]) {
      const instance = registry.store.get(target.serviceName, target.instanceId);
      const same = instance !== undefined && target.host === instance.host && target.port === instance.port && sameHealthCheck(target.spec, instance.healthCheck);
      if (!same) stop(key);
    }
    for (const name of registry.store.serviceNames()) {
      for (const instance of registry.store.instancesOf(name)) {
        if (instance.healthCheck !== undefined && !targets.has(keyOf(name, instance.instanceId))) start(instance, instance.healthCheck);
      }
    }
  };

  const unsubscribe = registry.store.onEvent(onEvent);
  const unsubscribeResync = registry.store.onResync(reconcile);
  reconcile();
  const shutdown = () => {
    unsubscribe();
    unsubscribeResync();
    for (const key of [...targets.keys()]) stop(key);
    http.close();
    grpc.close();
  };
  if (signal.aborted) shutdown();
  else signal.addEventListener("abort", shutdown, { once: true });

  return {
    async checkNow(serviceName, instanceId, callOptions = {}) {
      validateServiceName(serviceName);
      validateInstanceId(instanceId, true);
      const instance = registry.store.get(serviceName, instanceId);
      if (instance === undefined) throw new DiscoveryError("not-found", `instance ${instanceId} of service ${serviceName} is not registered (or its lease expired)`);
      if (instance.healthCheck === undefined) {
        throw new DiscoveryError("failed-precondition", `instance ${instanceId} of service ${serviceName} has no health check`);
      }
      const target = targets.get(keyOf(serviceName, instanceId));
      if (target === undefined) throw new DiscoveryError("unavailable", "the prober is shutting down");
      return abortable(run(target, true, callOptions.actor), callOptions.signal);
    },
    get stats() {
      return { targets: targets.size, completed, active: limiter.active, waiting: limiter.waiting, grpcChannels: grpc.channels };
    },
  };
}

function gone(target: Target): DiscoveryError {
  return new DiscoveryError("not-found", `instance ${target.instanceId} of service ${target.serviceName} left while it was being probed`);
}

/** The caller may stop waiting; the probe itself still completes and is recorded. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener("abort", onAbort), reject(error)),
    );
  });
}
