// Which instances xDS clients are given, with what health, weight and locality.
import type { HealthStatus, InstanceView } from "../../src/core/types";
import { FULL_WEIGHT, planEndpoints, weightOf } from "../../src/services/xds/endpoints";

function instance(id: string, status: HealthStatus, extra: Partial<InstanceView> = {}): InstanceView {
  return {
    serviceName: "users", instanceId: id, host: `10.0.0.${id.length}`, port: 8080, healthEndpoint: "", metadata: {}, status,
    load: 0, loadReported: false, critical: false, registeredAt: 0, lastHeartbeat: 0, ttlMs: 30_000, healthCheck: undefined,
    lastHealthCheck: undefined, latencyMs: undefined, uptime: 0, ...extra,
  };
}
const literal = (host: string) => host;
const flat = (instances: InstanceView[], resolve: (host: string) => string | undefined = literal) =>
  planEndpoints(instances, resolve).flatMap((l) => l.endpoints.map((e) => [e.instanceId, e.health] as const));

test("our statuses map to envoy's: healthy and degraded HEALTHY, unhealthy UNHEALTHY, draining DRAINING, unknown UNKNOWN", () => {
  const plan = flat([instance("a", "healthy"), instance("b", "degraded"), instance("c", "unhealthy"), instance("d", "draining"), instance("e", "unknown")]);
  expect(plan).toEqual([["a", "healthy"], ["b", "healthy"], ["c", "unhealthy"], ["d", "draining"], ["e", "unknown"]]);
});

test("critical instances are left out while a serving instance is not critical", () => {
  expect(flat([instance("a", "healthy", { critical: true }), instance("b", "degraded")])).toEqual([["b", "healthy"]]);
});

test("when every serving instance is critical, all are sent: load never empties the set", () => {
  const all = [instance("a", "healthy", { critical: true }), instance("b", "healthy", { critical: true }), instance("c", "unhealthy")];
  expect(flat(all).map(([id]) => id)).toEqual(["a", "b", "c"]);
});

test("a critical instance is not spared by an unhealthy or draining one that is not critical", () => {
  const plan = flat([instance("a", "healthy", { critical: true }), instance("b", "unhealthy"), instance("c", "draining")]);
  expect(plan.map(([id]) => id)).toEqual(["a", "b", "c"]);
});

test("weights are the free share of capacity, from 1 to 100; no reported load weighs 100", () => {
  expect(weightOf({ load: 0, loadReported: false })).toBe(FULL_WEIGHT);
  expect(weightOf({ load: 0.8, loadReported: true })).toBe(20);
  expect(weightOf({ load: 1, loadReported: true })).toBe(1);
});

test("instances are grouped by metadata region and zone, in a stable order", () => {
  const plan = planEndpoints(
    [
      instance("b", "healthy", { metadata: { region: "eu", zone: "eu-2" } }),
      instance("a", "healthy", { metadata: { region: "eu", zone: "eu-1" } }),
      instance("c", "healthy", { metadata: { region: "eu", zone: "eu-1" } }),
      instance("d", "healthy"),
    ],
    literal,
  );
  expect(plan.map((l) => [l.region, l.zone, l.endpoints.map((e) => e.instanceId)])).toEqual([
    ["", "", ["d"]],
    ["eu", "eu-1", ["a", "c"]],
    ["eu", "eu-2", ["b"]],
  ]);
});

test("an instance whose host does not resolve is left out", () => {
  const resolve = (host: string) => (host === "10.0.0.1" ? undefined : host);
  expect(flat([instance("a", "healthy"), instance("bb", "healthy")], resolve)).toEqual([["bb", "healthy"]]);
});
