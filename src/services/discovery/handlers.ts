// discovery.v1.DiscoveryService: maps each request onto the registry core and
// each answer back to protobuf. No rule of the registry lives here.
import { create } from "@bufbuild/protobuf";
import {
  DiscoveryService,
  ListHealthyResponseSchema,
  ListInstancesResponseSchema,
  ListServicesResponseSchema,
  type HeartbeatResponse,
  type RegisterResponse,
  type WatchEvent,
} from "../../../gen/discovery/v1/discovery_pb";
import type { Registry } from "../../core/registry";
import type { Prober } from "../../health/prober";
import { isServing, type InstanceView } from "../../core/types";
import { validateServiceName } from "../../core/validate";
import type { Logger } from "pino";
import type { WatchHub } from "../../watch/watch-hub";
import type { CallContext, Handlers } from "../../transport/contract";
import { createKeepAliveHandler } from "./keep-alive";
import { ListCache } from "./list-cache";
import { PUSH, type PushSource } from "../../transport/push-source";
import { healthCheckFromProto, probeResultToProto } from "./health-check-mapping";
import { durationFromMs, durationToMs } from "../../common/duration";
import { instanceToProto, statusFromProto, summaryToProto, watchItemToProto } from "./proto-mapping";
import { DiscoveryError } from "../../core/errors";
import { currentActor } from "../../runtime/actor";
import { NO_PROBE_RESOURCES, type ProbeResources } from "../../health/probe-files";
import { checkProbeReferences } from "./probe-references";

export interface DiscoveryServiceOptions {
  registry: Registry;
  hub: WatchHub;
  /** Per-message write check of KeepAlive (see keep-alive.ts); the other methods are guarded by withAccessControl. */
  authorizeWrite?: (context: CallContext, serviceName: string) => { readonly name: string };
  listCache?: ListCache;
  /** Called for every renewed lease (metrics); keep it cheap, it runs per heartbeat. */
  onHeartbeat?: () => void;
  logger?: Logger;
  /** Runs CheckNow; without one, CheckNow answers UNAVAILABLE. */
  prober?: Prober;
  /** The operator's exec checks and secrets a Register may name (default: none). */
  probeResources?: ProbeResources;
}

export function createDiscoveryHandlers(options: DiscoveryServiceOptions): Handlers<typeof DiscoveryService> {
  const { registry, hub } = options;
  const store = registry.store;
  const cache = options.listCache ?? new ListCache();
  const onHeartbeat = options.onHeartbeat ?? (() => {});
  const probeResources = options.probeResources ?? NO_PROBE_RESOURCES;

  return {
    async register(request) {
      const healthCheck = healthCheckFromProto(request.healthCheck);
      checkProbeReferences(healthCheck, probeResources);
      const { instance } = await registry.register({
        serviceName: request.serviceName,
        instanceId: request.instanceId,
        host: request.host,
        port: request.port,
        healthEndpoint: request.healthEndpoint,
        metadata: request.metadata,
        ttlMs: request.ttl === undefined ? undefined : durationToMs(request.ttl),
        load: request.loadPercentage,
        healthCheck,
      });
      const answer: RegisterResponse = {
        $typeName: "discovery.v1.RegisterResponse",
        instance: instanceToProto(instance),
        heartbeatInterval: durationFromMs(Math.floor(instance.ttlMs / 3)),
      };
      return answer;
    },

    heartbeat(request) {
      const instance = registry.heartbeat({
        serviceName: request.serviceName,
        instanceId: request.instanceId,
        load: request.loadPercentage,
        status: request.status === undefined ? undefined : statusFromProto(request.status),
      });
      onHeartbeat();
      // A heartbeat that changes nothing a watcher sees is answered without a promise (the hot path).
      return instance instanceof Promise ? instance.then(heartbeatAnswer) : heartbeatAnswer(instance);
    },

    async unregister(request) {
      await registry.unregister(request.serviceName, request.instanceId, request.drain === undefined ? undefined : durationToMs(request.drain));
      return {};
    },

    keepAlive: createKeepAliveHandler({ registry, authorizeWrite: options.authorizeWrite, logger: options.logger, onHeartbeat }),

    listHealthy(request) {
      const service = validateServiceName(request.serviceName);
      const kind = request.excludeCriticalLoad ? "healthy-normal-load" : "healthy";
      return cache.get(kind, service, store.serviceStamp(service), ListHealthyResponseSchema, () => {
        const instances = [];
        for (const instance of store.instancesOf(service)) {
          if (!isServing(instance.status)) continue;
          if (request.excludeCriticalLoad && instance.critical) continue;
          instances.push(instanceToProto(instance));
        }
        return create(ListHealthyResponseSchema, { instances, revision: BigInt(store.revision) });
      });
    },

    listInstances(request) {
      const service = validateServiceName(request.serviceName);
      return cache.get("all", service, store.serviceStamp(service), ListInstancesResponseSchema, () => {
        const instances = Array.from(store.instancesOf(service), instanceToProto);
        return create(ListInstancesResponseSchema, { instances, revision: BigInt(store.revision) });
      });
    },

    listServices() {
      return create(ListServicesResponseSchema, {
        services: store.summaries().map(summaryToProto),
        revision: BigInt(store.revision),
      });
    },

    async checkNow(request, context) {
      if (options.prober === undefined) throw new DiscoveryError("unavailable", "health probing is off on this server");
      // Read before the first await: the access wrapper names the caller only while it calls us.
      const actor = currentActor();
      const { result, instance } = await options.prober.checkNow(request.serviceName, request.instanceId, { signal: context.signal, actor });
      return { result: probeResultToProto(result), instance: instanceToProto(instance) };
    },

    getHealthHistory(request) {
      const history = registry.healthHistory(request.serviceName, request.instanceId);
      return {
        results: history.results.map(probeResultToProto),
        latencyAverage: history.latencyAverageMs === undefined ? undefined : durationFromMs(history.latencyAverageMs),
        uptime: history.uptime,
      };
    },

    watch(request, context) {
      return watchStream(hub, request.serviceNames, request.sinceRevision, context);
    },
  };
}

function heartbeatAnswer(instance: InstanceView): HeartbeatResponse {
  return { $typeName: "discovery.v1.HeartbeatResponse", instance: instanceToProto(instance) };
}

/**
 * A Watch stream over one subscription. connect-node iterates it; the gRPC
 * transports push through it (no promise per delivery, see push-source.ts).
 */
function watchStream(
  hub: WatchHub,
  serviceNames: readonly string[],
  sinceRevision: bigint,
  context: CallContext,
): PushSource<WatchEvent> {
  const services = serviceNames.map((name) => validateServiceName(name, "service_names"));
  // A revision past 2^53 cannot be ours; Number() keeps it "from the future".
  const subscription = hub.subscribe({ services, sinceRevision: Number(sinceRevision) });
  return {
    [PUSH]: (sink) =>
      subscription.attach({
        write: (item) => sink.write(watchItemToProto(item)),
        end: (error) => sink.end(error),
      }),
    async *[Symbol.asyncIterator]() {
      const stop = () => subscription.close();
      context.signal.addEventListener("abort", stop, { once: true });
      try {
        for (;;) {
          const next = await subscription.next();
          if (next.done === true) return;
          yield watchItemToProto(next.value);
        }
      } finally {
        context.signal.removeEventListener("abort", stop);
        subscription.close();
      }
    },
  };
}
