// Which instances of a service an xDS client is given, with what health,
// weight and locality: our registry's knowledge (status, drain, critical load)
// turned into the endpoint model of a ClusterLoadAssignment. Pure: no I/O.
import { isServing, type HealthStatus, type InstanceView } from "../../core/types";

/** Envoy's core.v3.HealthStatus, as far as we send it. */
export type EndpointHealth = "unknown" | "healthy" | "unhealthy" | "draining";

/** The weight of an instance that reports no load: the top of the scale. */
export const FULL_WEIGHT = 100;

export interface PlannedEndpoint {
  readonly instanceId: string;
  readonly ip: string;
  readonly port: number;
  readonly health: EndpointHealth;
  /** 1 to FULL_WEIGHT: the free share of the instance's capacity (Envoy and ring_hash use it). */
  readonly weight: number;
}

export interface PlannedLocality {
  readonly region: string;
  readonly zone: string;
  readonly endpoints: readonly PlannedEndpoint[];
}

/** Metadata keys that place an instance in a locality. */
export const LOCALITY_KEYS = { region: "region", zone: "zone" } as const;

const HEALTH: Readonly<Record<HealthStatus, EndpointHealth>> = {
  healthy: "healthy",
  // A degraded instance still serves; xDS clients treat DEGRADED inconsistently, so it goes as HEALTHY.
  degraded: "healthy",
  unhealthy: "unhealthy",
  draining: "draining",
  unknown: "unknown",
};

/**
 * The endpoints of one service, grouped by locality in a stable order.
 * `resolve` gives an instance's IP literal, or undefined when its host could
 * not be resolved (then it is left out). Instances at critical load are left
 * out while another serving instance is not critical: load never empties the set.
 */
export function planEndpoints(instances: Iterable<InstanceView>, resolve: (host: string) => string | undefined): PlannedLocality[] {
  const all = [...instances];
  const relief = all.some((instance) => isServing(instance.status) && !instance.critical);
  const groups = new Map<string, { region: string; zone: string; endpoints: PlannedEndpoint[] }>();
  for (const instance of all) {
    if (relief && instance.critical) continue;
    const ip = resolve(instance.host);
    if (ip === undefined) continue;
    const region = instance.metadata[LOCALITY_KEYS.region] ?? "";
    const zone = instance.metadata[LOCALITY_KEYS.zone] ?? "";
    const key = `${region}\u0000${zone}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { region, zone, endpoints: [] }));
    group.endpoints.push({ instanceId: instance.instanceId, ip, port: instance.port, health: HEALTH[instance.status], weight: weightOf(instance) });
  }
  const localities = [...groups.values()];
  localities.sort((a, b) => (a.region === b.region ? compare(a.zone, b.zone) : compare(a.region, b.region)));
  for (const locality of localities) locality.endpoints.sort((a, b) => compare(a.instanceId, b.instanceId));
  return localities;
}

/** Free capacity as a weight from 1 to FULL_WEIGHT: an instance at 80 % load weighs 20. */
export function weightOf(instance: Pick<InstanceView, "load" | "loadReported">): number {
  if (!instance.loadReported) return FULL_WEIGHT;
  return Math.max(1, Math.round((1 - instance.load) * FULL_WEIGHT));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
