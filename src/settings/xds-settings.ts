// Rows of the settings table for the xDS (ADS) server that proxyless gRPC
// clients and Envoy follow.
import {
  DEFAULT_DNS_CONCURRENCY,
  DEFAULT_DNS_MAX_HOSTS,
  DEFAULT_DNS_REFRESH_MS,
  DEFAULT_DNS_TIMEOUT_MS,
  DEFAULT_EMPTY_SERVICE_RETAIN_MS,
  DEFAULT_MAX_EMPTY_SERVICES,
  DEFAULT_MAX_RESOURCES_PER_STREAM,
  DEFAULT_MAX_XDS_STREAMS,
  LB_POLICIES,
} from "../services/xds/xds-defaults";
import { integer, oneOf, secondsAsMs } from "./kinds";
import { setting } from "./table";

export const XDS_SETTINGS = [
  setting({
    key: "xdsLbPolicy",
    env: "XDS_LB_POLICY",
    flag: "xds-lb-policy",
    help: "the xDS clusters' load-balancing policy",
    more: "Proxyless gRPC clients support ROUND_ROBIN and RING_HASH and reject the others; Envoy supports all",
    kind: oneOf(LB_POLICIES, "ROUND_ROBIN"),
  }),
  setting({
    key: "xdsMaxStreams",
    env: "XDS_MAX_STREAMS",
    flag: "xds-max-streams",
    help: "xDS streams past this are refused with RESOURCE_EXHAUSTED",
    kind: integer(DEFAULT_MAX_XDS_STREAMS, { min: 1, max: 10_000_000 }),
  }),
  setting({
    key: "xdsMaxResourcesPerStream",
    env: "XDS_MAX_RESOURCES_PER_STREAM",
    flag: "xds-max-resources-per-stream",
    help: "resource names one xDS stream may follow per type; more are refused with RESOURCE_EXHAUSTED",
    kind: integer(DEFAULT_MAX_RESOURCES_PER_STREAM, { min: 1, max: 1_000_000 }),
  }),
  setting({
    key: "xdsDnsRefreshMs",
    env: "XDS_DNS_REFRESH_SECONDS",
    flag: "xds-dns-refresh-seconds",
    help: "instance hostnames are re-resolved for xDS this often",
    kind: secondsAsMs(DEFAULT_DNS_REFRESH_MS, { min: 1_000, max: 86_400_000 }),
  }),
  setting({
    key: "xdsDnsMaxHosts",
    env: "XDS_DNS_MAX_HOSTS",
    flag: "xds-dns-max-hosts",
    help: "distinct instance hostnames the xDS server keeps resolved; instances on further hostnames are left out of the assignments and logged",
    kind: integer(DEFAULT_DNS_MAX_HOSTS, { min: 1, max: 10_000_000 }),
  }),
  setting({
    key: "xdsDnsConcurrency",
    env: "XDS_DNS_CONCURRENCY",
    flag: "xds-dns-concurrency",
    help: "hostname lookups for xDS running at once; the others wait their turn, each hostname at most once",
    more: "Lookups run on libuv's threadpool (4 threads unless UV_THREADPOOL_SIZE says otherwise), shared with file and crypto work",
    kind: integer(DEFAULT_DNS_CONCURRENCY, { min: 1, max: 1_000 }),
  }),
  setting({
    key: "xdsDnsTimeoutMs",
    env: "XDS_DNS_TIMEOUT_SECONDS",
    flag: "xds-dns-timeout-seconds",
    help: "a hostname lookup for xDS slower than this counts as failed: the hostname's instances are left out and logged until a lookup answers",
    more: "A timed-out lookup keeps its place under XDS_DNS_CONCURRENCY until the system resolver gives up, so hung lookups cannot pile up",
    kind: secondsAsMs(DEFAULT_DNS_TIMEOUT_MS, { min: 100, max: 300_000 }),
  }),
  setting({
    key: "xdsEmptyServiceRetainMs",
    env: "XDS_EMPTY_SERVICE_RETAIN_SECONDS",
    flag: "xds-empty-service-retain-seconds",
    help: "a service whose last instance left keeps its Listener, Route and Cluster, with no endpoints, at least this long and while a stream follows it, so xDS clients fail calls at once and resume when an instance registers",
    more: "After that it does not exist, like a name never registered",
    kind: secondsAsMs(DEFAULT_EMPTY_SERVICE_RETAIN_MS, { min: 1_000, max: 604_800_000 }),
  }),
  setting({
    key: "xdsMaxEmptyServices",
    env: "XDS_MAX_EMPTY_SERVICES",
    flag: "xds-max-empty-services",
    help: "services without instances kept for xDS at most; past it the one emptied longest ago is forgotten",
    kind: integer(DEFAULT_MAX_EMPTY_SERVICES, { min: 1, max: 10_000_000 }),
  }),
] as const;
