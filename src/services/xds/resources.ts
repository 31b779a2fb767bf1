// The four xDS resources a proxyless client resolves `xds:///NAME` through,
// built for one service: Listener NAME (an api_listener whose
// HttpConnectionManager routes everything to cluster NAME, router filter last),
// RouteConfiguration NAME (the same route, for clients that ask for it by RDS),
// Cluster NAME (EDS over ADS) and ClusterLoadAssignment NAME (the endpoints).
// Each is packed into an Any once, and every stream sends that same Any.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy } from "../../../gen/envoy/config/cluster/v3/cluster_pb";
import { ApiVersion, type ConfigSourceSchema } from "../../../gen/envoy/config/core/v3/config_source_pb";
import { HealthStatus } from "../../../gen/envoy/config/core/v3/health_check_pb";
import { ClusterLoadAssignmentSchema } from "../../../gen/envoy/config/endpoint/v3/endpoint_pb";
import { ListenerSchema } from "../../../gen/envoy/config/listener/v3/listener_pb";
import { RouteConfigurationSchema } from "../../../gen/envoy/config/route/v3/route_pb";
import { RouterSchema } from "../../../gen/envoy/extensions/filters/http/router/v3/router_pb";
import { HttpConnectionManagerSchema } from "../../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb";
import type { EndpointHealth, PlannedLocality } from "./endpoints";

/** The type URLs of the resources we serve (SotW over ADS). */
export const TYPE = {
  listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  route: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
  cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  endpoint: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
} as const;
export type TypeUrl = (typeof TYPE)[keyof typeof TYPE];
export const TYPE_URLS: readonly TypeUrl[] = Object.values(TYPE);

import type { LbPolicyName } from "./xds-defaults";

export { LB_POLICIES, type LbPolicyName } from "./xds-defaults";

const ROUTER_FILTER = "envoy.filters.http.router";
/** Fetch from the same ADS stream the client is on. */
const ADS: MessageInitShape<typeof ConfigSourceSchema> = { configSourceSpecifier: { case: "ads", value: {} }, resourceApiVersion: ApiVersion.V3 };

const HEALTH: Readonly<Record<EndpointHealth, HealthStatus>> = {
  unknown: HealthStatus.UNKNOWN,
  healthy: HealthStatus.HEALTHY,
  unhealthy: HealthStatus.UNHEALTHY,
  draining: HealthStatus.DRAINING,
};

function routeConfiguration(name: string) {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: [{ name, domains: ["*"], routes: [{ match: { pathSpecifier: { case: "prefix", value: "" } }, action: { case: "route", value: { clusterSpecifier: { case: "cluster", value: name } } } }] }],
  });
}

export function listenerResource(name: string): Any {
  const manager = create(HttpConnectionManagerSchema, {
    // Inline: one round trip fewer, and every client we test accepts it.
    routeSpecifier: { case: "routeConfig", value: routeConfiguration(name) },
    httpFilters: [{ name: ROUTER_FILTER, configType: { case: "typedConfig", value: anyPack(RouterSchema, create(RouterSchema)) } }],
  });
  return anyPack(ListenerSchema, create(ListenerSchema, { name, apiListener: { apiListener: anyPack(HttpConnectionManagerSchema, manager) } }));
}

export function routeResource(name: string): Any {
  return anyPack(RouteConfigurationSchema, routeConfiguration(name));
}

export function clusterResource(name: string, lbPolicy: LbPolicyName): Any {
  return anyPack(
    ClusterSchema,
    create(ClusterSchema, {
      name,
      clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
      edsClusterConfig: { edsConfig: ADS, serviceName: name },
      lbPolicy: Cluster_LbPolicy[lbPolicy],
    }),
  );
}

export function endpointResource(name: string, localities: readonly PlannedLocality[]): Any {
  return anyPack(
    ClusterLoadAssignmentSchema,
    create(ClusterLoadAssignmentSchema, {
      clusterName: name,
      endpoints: localities.map((locality) => ({
        locality: { region: locality.region, zone: locality.zone },
        // gRPC skips a locality without a weight; each locality weighs its capacity.
        loadBalancingWeight: locality.endpoints.reduce((sum, e) => sum + e.weight, 0),
        lbEndpoints: locality.endpoints.map((endpoint) => ({
          hostIdentifier: {
            case: "endpoint" as const,
            value: { address: { address: { case: "socketAddress" as const, value: { address: endpoint.ip, portSpecifier: { case: "portValue" as const, value: endpoint.port } } } } },
          },
          healthStatus: HEALTH[endpoint.health],
          loadBalancingWeight: endpoint.weight,
        })),
      })),
    }),
  );
}
