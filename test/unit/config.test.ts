import { ConfigError, loadConfig, startupWarnings } from "../../src/config";
import { instanceLeaseSecondsOf } from "../../src/store/etcd/settings";

describe("loadConfig", () => {
  test("defaults: port 3004 on 0.0.0.0, 30 s TTL, 0.8/0.1 load thresholds, documented limits", () => {
    expect(loadConfig({})).toEqual({
      host: "0.0.0.0",
      port: 3004,
      secret: undefined,
      defaultTtlMs: 30_000,
      criticalLoadThreshold: 0.8,
      criticalLoadHysteresis: 0.1,
      watchHistorySize: 10_000,
      watchQueueLimit: 1_000,
      maxInstances: 100_000,
      maxWatchers: 10_000,
      http2KeepAliveMs: 30_000,
      http2KeepAliveTimeoutMs: 10_000,
      healthCheckIntervalMs: 30_000,
      healthCheckTimeoutMs: 5_000,
      probeConcurrency: 256,
      probeTickMs: 50,
      tokensFile: undefined,
      readAuth: false,
      tls: undefined,
      probeDeny: ["169.254.0.0/16", "fe80::/10", "0.0.0.0/32", "::/128"],
      probeAllow: undefined,
      logLevel: "info",
      xdsLbPolicy: "ROUND_ROBIN",
      xdsMaxStreams: 10_000,
      xdsMaxResourcesPerStream: 1_000,
      xdsDnsRefreshMs: 30_000,
      xdsDnsMaxHosts: 10_000,
      xdsDnsConcurrency: 4,
      xdsDnsTimeoutMs: 5_000,
      xdsEmptyServiceRetainMs: 600_000,
      xdsMaxEmptyServices: 10_000,
      maxMessageBytes: 4 * 1024 * 1024,
      http2MaxConcurrentStreams: 1_000,
      headersTimeoutMs: 10_000,
      bodyTimeoutMs: 60_000,
      idleTimeoutMs: 300_000,
      goawayGraceMs: 10_000,
      listCacheBytes: 64 * 1024 * 1024,
      probeStartupDelayMs: 0,
      execChecksFile: undefined,
      probeSecretsFile: undefined,
      nats: undefined,
      webhooks: undefined,
      store: "memory",
      etcd: { endpoints: "http://127.0.0.1:2379", prefix: "/discovery/", nodeId: undefined, nodeTtlSeconds: 5, loadReplicationStep: 0.05, loadReplicationIntervalMs: 10_000 },
    });
  });

  test("xDS settings: the policy by name in any case, a bad one named with the choices", () => {
    expect(loadConfig({ XDS_LB_POLICY: "ring_hash", XDS_DNS_REFRESH_SECONDS: "5" })).toMatchObject({ xdsLbPolicy: "RING_HASH", xdsDnsRefreshMs: 5_000 });
    expect(() => loadConfig({ XDS_LB_POLICY: "fastest" })).toThrow('XDS_LB_POLICY must be one of ROUND_ROBIN, RING_HASH, LEAST_REQUEST, RANDOM, MAGLEV (got "fastest")');
    expect(() => loadConfig({ XDS_MAX_STREAMS: "0" })).toThrow("XDS_MAX_STREAMS must be a number from 1 to 10000000");
  });

  test("xDS DNS bounds: hostnames kept, lookups at once and a lookup's time limit, each bad value named with its range", () => {
    expect(loadConfig({ XDS_DNS_MAX_HOSTS: "50" }, { XDS_DNS_CONCURRENCY: "2", XDS_DNS_TIMEOUT_SECONDS: "0.5" })).toMatchObject({
      xdsDnsMaxHosts: 50,
      xdsDnsConcurrency: 2,
      xdsDnsTimeoutMs: 500,
    });
    expect(() => loadConfig({ XDS_DNS_MAX_HOSTS: "0" })).toThrow("XDS_DNS_MAX_HOSTS must be a number from 1 to 10000000");
    expect(() => loadConfig({}, { XDS_DNS_CONCURRENCY: "0" })).toThrow("--xds-dns-concurrency must be a number from 1 to 1000");
    expect(() => loadConfig({ XDS_DNS_TIMEOUT_SECONDS: "soon" })).toThrow("XDS_DNS_TIMEOUT_SECONDS must be a number from 0.1 to 300");
  });

  test("reads the peer limits from their variables and flags", () => {
    const config = loadConfig(
      { DISCOVERY_MAX_MESSAGE_BYTES: "1048576", HTTP2_MAX_CONCURRENT_STREAMS: "50", HTTP_HEADERS_TIMEOUT_SECONDS: "2.5", HTTP_IDLE_TIMEOUT_SECONDS: "0" },
      { HTTP2_GOAWAY_GRACE_SECONDS: "3", DISCOVERY_LIST_CACHE_BYTES: "1000" },
    );
    expect(config).toMatchObject({ maxMessageBytes: 1_048_576, http2MaxConcurrentStreams: 50, headersTimeoutMs: 2_500, idleTimeoutMs: 0, goawayGraceMs: 3_000, listCacheBytes: 1_000 });
    expect(() => loadConfig({}, { HTTP2_MAX_CONCURRENT_STREAMS: "0" })).toThrow("--http2-max-concurrent-streams must be a number from 1 to 1000000");
    expect(() => loadConfig({ DISCOVERY_MAX_MESSAGE_BYTES: "12" })).toThrow("DISCOVERY_MAX_MESSAGE_BYTES must be a number from 1024");
  });

  test("reads every variable", () => {
    const config = loadConfig({
      SERVICE_DISCOVERY_PORT: "5000",
      SERVICE_DISCOVERY_HOST: "127.0.0.1",
      SERVICE_DISCOVERY_SECRET: "x",
      SERVICE_REGISTRATION_TTL_SECONDS: "12.5",
      CRITICAL_LOAD_THRESHOLD: "0.9",
      CRITICAL_LOAD_HYSTERESIS: "0.05",
      WATCH_HISTORY_SIZE: "50",
      WATCH_QUEUE_LIMIT: "20",
      DISCOVERY_MAX_INSTANCES: "7",
      DISCOVERY_MAX_WATCHERS: "3",
      LOG_LEVEL: "DEBUG",
    });
    expect(config).toMatchObject({ port: 5000, host: "127.0.0.1", secret: "x", defaultTtlMs: 12_500, criticalLoadThreshold: 0.9 });
    expect(config).toMatchObject({ watchHistorySize: 50, watchQueueLimit: 20, maxInstances: 7, maxWatchers: 3, logLevel: "debug" });
  });

  test("reads the health check defaults and the probe concurrency", () => {
    const config = loadConfig({ HEALTH_CHECK_INTERVAL_SECONDS: "10", HEALTH_CHECK_TIMEOUT_SECONDS: "0.5", HEALTH_CHECK_CONCURRENCY: "64", HEALTH_CHECK_TICK_MS: "20" });
    expect(config).toMatchObject({ healthCheckIntervalMs: 10_000, healthCheckTimeoutMs: 500, probeConcurrency: 64, probeTickMs: 20 });
  });

  test.each([
    [{ HEALTH_CHECK_INTERVAL_SECONDS: "0.5" }, /HEALTH_CHECK_INTERVAL_SECONDS must be a number from 1 to 3600/],
    [{ HEALTH_CHECK_TIMEOUT_SECONDS: "90" }, /HEALTH_CHECK_TIMEOUT_SECONDS must be a number from 0.001 to 60/],
    [{ HEALTH_CHECK_INTERVAL_SECONDS: "2", HEALTH_CHECK_TIMEOUT_SECONDS: "3" }, /must not exceed HEALTH_CHECK_INTERVAL_SECONDS/],
    [{ HEALTH_CHECK_CONCURRENCY: "0" }, /HEALTH_CHECK_CONCURRENCY must be a number from 1/],
    [{ HEALTH_CHECK_TICK_MS: "0" }, /HEALTH_CHECK_TICK_MS must be a number from 1 to 1000/],
  ])("rejects bad probe settings %p", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  test.each([
    [{ SERVICE_DISCOVERY_PORT: "http" }, /SERVICE_DISCOVERY_PORT must be a number/],
    [{ SERVICE_DISCOVERY_PORT: "70000" }, /SERVICE_DISCOVERY_PORT must be a number from 0 to 65535/],
    [{ SERVICE_DISCOVERY_PORT: "30.5" }, /SERVICE_DISCOVERY_PORT must be a whole number/],
    [{ SERVICE_REGISTRATION_TTL_SECONDS: "0" }, /SERVICE_REGISTRATION_TTL_SECONDS must be a number from 1 to 3600/],
    [{ CRITICAL_LOAD_THRESHOLD: "1.5" }, /CRITICAL_LOAD_THRESHOLD/],
    [{ CRITICAL_LOAD_THRESHOLD: "0.1", CRITICAL_LOAD_HYSTERESIS: "0.2" }, /must not exceed CRITICAL_LOAD_THRESHOLD/],
    [{ WATCH_QUEUE_LIMIT: "0" }, /WATCH_QUEUE_LIMIT/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL must be one of/],
    [{ SERVICE_DISCOVERY_HOST: " " }, /SERVICE_DISCOVERY_HOST must not be empty/],
  ])("rejects %j naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test("an empty secret means no secret", () => {
    expect(loadConfig({ SERVICE_DISCOVERY_SECRET: "" }).secret).toBeUndefined();
  });
});

describe("startupWarnings", () => {
  test("warns when there is no secret and the host is beyond loopback", () => {
    expect(startupWarnings(loadConfig({}))).toEqual([expect.stringMatching(/SERVICE_DISCOVERY_SECRET is not set/)]);
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_HOST: "::" }))).toHaveLength(1);
  });

  test("is quiet on loopback or with a secret over TLS", () => {
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_HOST: "127.0.0.1" }))).toEqual([]);
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_HOST: "localhost" }))).toEqual([]);
    const tls = { SERVICE_DISCOVERY_TLS_CERT: "c.pem", SERVICE_DISCOVERY_TLS_KEY: "k.pem" };
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_SECRET: "s", ...tls }))).toEqual([]);
  });

  test("warns that tokens cross the network in clear without TLS beyond loopback", () => {
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_SECRET: "s" }))).toEqual([expect.stringMatching(/TLS is off/)]);
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_SECRET: "s", SERVICE_DISCOVERY_HOST: "127.0.0.1" }))).toEqual([]);
  });
});

describe("security settings", () => {
  test("TLS needs a certificate and its key; a client CA needs both", () => {
    expect(loadConfig({ SERVICE_DISCOVERY_TLS_CERT: "c.pem", SERVICE_DISCOVERY_TLS_KEY: "k.pem", SERVICE_DISCOVERY_TLS_CLIENT_CA: "ca.pem" }).tls).toEqual({
      certFile: "c.pem",
      keyFile: "k.pem",
      clientCaFile: "ca.pem",
    });
    expect(() => loadConfig({ SERVICE_DISCOVERY_TLS_CERT: "c.pem" })).toThrow(new ConfigError("SERVICE_DISCOVERY_TLS_KEY is required with SERVICE_DISCOVERY_TLS_CERT"));
    expect(() => loadConfig({ SERVICE_DISCOVERY_TLS_CLIENT_CA: "ca.pem" })).toThrow(/SERVICE_DISCOVERY_TLS_CLIENT_CA needs/);
  });

  test("read auth needs a secret or a tokens file, and is true or false", () => {
    expect(() => loadConfig({ SERVICE_DISCOVERY_READ_AUTH: "true" })).toThrow(/needs SERVICE_DISCOVERY_SECRET or SERVICE_DISCOVERY_TOKENS_FILE/);
    expect(loadConfig({ SERVICE_DISCOVERY_READ_AUTH: "true", SERVICE_DISCOVERY_TOKENS_FILE: "t.json" })).toMatchObject({ readAuth: true, tokensFile: "t.json" });
    expect(() => loadConfig({ SERVICE_DISCOVERY_READ_AUTH: "yes", SERVICE_DISCOVERY_SECRET: "s" })).toThrow(new ConfigError('SERVICE_DISCOVERY_READ_AUTH must be true or false (got "yes")'));
  });

  test("probe CIDRs are parsed at start and a bad one names its setting (or flag)", () => {
    expect(loadConfig({ DISCOVERY_PROBE_DENY: "10.0.0.0/8, fd00::/8", DISCOVERY_PROBE_ALLOW: "10.1.0.0/16" })).toMatchObject({
      probeDeny: ["10.0.0.0/8", "fd00::/8"],
      probeAllow: ["10.1.0.0/16"],
    });
    expect(() => loadConfig({ DISCOVERY_PROBE_DENY: "10.0.0.0/33" })).toThrow(new ConfigError('DISCOVERY_PROBE_DENY entry "10.0.0.0/33" has a bad prefix length'));
    expect(() => loadConfig({}, { DISCOVERY_PROBE_ALLOW: "example.com" })).toThrow(new ConfigError('--probe-allow entry "example.com" is not an IP address or CIDR'));
  });
});

describe("loadConfig with flags", () => {
  test("a flag overrides its variable; absent flags leave the variable", () => {
    const config = loadConfig({ SERVICE_DISCOVERY_PORT: "5000", SERVICE_DISCOVERY_HOST: "10.0.0.1" }, { SERVICE_DISCOVERY_PORT: "6000", LOG_LEVEL: undefined });
    expect(config).toMatchObject({ port: 6000, host: "10.0.0.1", logLevel: "info" });
  });

  test("a bad flag is reported by its flag name, a bad variable by its own", () => {
    expect(() => loadConfig({ WATCH_QUEUE_LIMIT: "5" }, { WATCH_QUEUE_LIMIT: "0" })).toThrow(new ConfigError('--watch-queue-limit must be a number from 1 to 10000000 (got "0")'));
    expect(() => loadConfig({ WATCH_QUEUE_LIMIT: "0" }, { SERVICE_DISCOVERY_PORT: "1" })).toThrow(new ConfigError('WATCH_QUEUE_LIMIT must be a number from 1 to 10000000 (got "0")'));
  });

  test("DISCOVERY_STORE takes memory (the default) or etcd; anything else is named", () => {
    expect(loadConfig({ DISCOVERY_STORE: "memory" }).store).toBe("memory");
    expect(loadConfig({ DISCOVERY_STORE: " Memory " }).store).toBe("memory");
    expect(loadConfig({ DISCOVERY_STORE: "etcd" }).store).toBe("etcd");
    expect(() => loadConfig({}, { DISCOVERY_STORE: "redis" })).toThrow(new ConfigError('--store must be one of memory, etcd (got "redis")'));
  });

  test("cluster mode's settings have their documented defaults and name the variable or flag of a bad value", () => {
    expect(loadConfig({}).etcd).toEqual({
      endpoints: "http://127.0.0.1:2379",
      prefix: "/discovery/",
      nodeId: undefined,
      nodeTtlSeconds: 5,
      loadReplicationStep: 0.05,
      loadReplicationIntervalMs: 10_000,
    });
    const etcd = loadConfig({}, { ETCD_ENDPOINTS: "http://127.0.0.1:1,http://127.0.0.1:2", DISCOVERY_NODE_ID: "node-a", DISCOVERY_NODE_TTL_SECONDS: "3", LOAD_REPLICATION_STEP: "0.1", LOAD_REPLICATION_INTERVAL_SECONDS: "2" }).etcd;
    expect(etcd).toMatchObject({ endpoints: "http://127.0.0.1:1,http://127.0.0.1:2", nodeId: "node-a", nodeTtlSeconds: 3, loadReplicationStep: 0.1, loadReplicationIntervalMs: 2_000 });
    expect(() => loadConfig({ ETCD_ENDPOINTS: "https://10.0.0.1:2379" })).toThrow(/^ETCD_ENDPOINTS .*only http:\/\/ is supported/);
    expect(() => loadConfig({}, { ETCD_PREFIX: "discovery" })).toThrow(new ConfigError('--etcd-prefix must start and end with "/" (got "discovery")'));
    expect(() => loadConfig({}, { DISCOVERY_NODE_TTL_SECONDS: "1" })).toThrow(new ConfigError('--node-ttl-seconds must be a number from 2 to 3600 (got "1")'));
    expect(() => loadConfig({ DISCOVERY_NODE_ID: "a/b" })).toThrow(/^DISCOVERY_NODE_ID must be/);
  });

  test("DISCOVERY_INSTANCE_LEASE_SECONDS is unset by default (6 node TTLs, at least 30) and, when set, leaves survivors 2 node TTLs to adopt", () => {
    expect(loadConfig({}).etcd.instanceLeaseSeconds).toBeUndefined();
    expect(instanceLeaseSecondsOf(loadConfig({}).etcd)).toBe(30);
    expect(instanceLeaseSecondsOf(loadConfig({ DISCOVERY_NODE_TTL_SECONDS: "10" }).etcd)).toBe(60);
    expect(instanceLeaseSecondsOf(loadConfig({ DISCOVERY_NODE_TTL_SECONDS: "2", DISCOVERY_INSTANCE_LEASE_SECONDS: "5" }).etcd)).toBe(5);
    expect(() => loadConfig({ DISCOVERY_INSTANCE_LEASE_SECONDS: "9" })).toThrow(
      new ConfigError("DISCOVERY_INSTANCE_LEASE_SECONDS must be at least 2 × DISCOVERY_NODE_TTL_SECONDS (survivors adopt a dead node's instances within one node TTL)"),
    );
    expect(() => loadConfig({}, { DISCOVERY_INSTANCE_LEASE_SECONDS: "2.5" })).toThrow(new ConfigError('--instance-lease-seconds must be a whole number from 4 to 86400 (got "2.5")'));
  });
});

describe("sink and probe settings", () => {
  test("NATS and webhooks are off until their URL is set; then their settings are read with defaults", () => {
    expect(loadConfig({ NATS_SUBJECT_PREFIX: "x" })).toMatchObject({ nats: undefined, webhooks: undefined });
    expect(loadConfig({ NATS_URL: "127.0.0.1:4222" }).nats).toEqual({ url: "127.0.0.1:4222", subjectPrefix: "discovery", summaryIntervalMs: 15_000, bufferLimit: 10_000 });
    const config = loadConfig({
      NATS_URL: "nats://a:4222",
      NATS_SUBJECT_PREFIX: "hub.eu-1",
      NATS_SUMMARY_INTERVAL_SECONDS: "2.5",
      NATS_BUFFER_LIMIT: "50",
      DISCOVERY_WEBHOOK_URLS: "http://a/hook, https://b:8443/x",
      DISCOVERY_WEBHOOK_EVENTS: "expired,registered",
      DISCOVERY_WEBHOOK_SECRET: "k",
      DISCOVERY_WEBHOOK_MAX_ATTEMPTS: "2",
      HEALTH_CHECK_STARTUP_DELAY_SECONDS: "10",
      DISCOVERY_EXEC_CHECKS_FILE: "/etc/discovery/checks.json",
    });
    expect(config.nats).toEqual({ url: "nats://a:4222", subjectPrefix: "hub.eu-1", summaryIntervalMs: 2_500, bufferLimit: 50 });
    expect(config.webhooks).toMatchObject({ events: ["EXPIRED", "REGISTERED"], secret: "k", maxAttempts: 2, queueLimit: 1_000, concurrency: 4, timeoutMs: 5_000 });
    expect(config.webhooks?.urls.map((u) => u.href)).toEqual(["http://a/hook", "https://b:8443/x"]);
    expect(config).toMatchObject({ probeStartupDelayMs: 10_000, execChecksFile: "/etc/discovery/checks.json", probeSecretsFile: undefined });
  });

  test.each([
    [{ NATS_URL: "x", NATS_SUBJECT_PREFIX: "a.*" }, "NATS_SUBJECT_PREFIX must be dot-separated tokens"],
    [{ NATS_URL: "x", NATS_BUFFER_LIMIT: "0" }, "NATS_BUFFER_LIMIT must be a number from 1"],
    [{ DISCOVERY_WEBHOOK_URLS: "not a url" }, 'DISCOVERY_WEBHOOK_URLS entry "not a url" is not a URL'],
    [{ DISCOVERY_WEBHOOK_URLS: "http://a", DISCOVERY_WEBHOOK_EVENTS: "RESET" }, 'DISCOVERY_WEBHOOK_EVENTS entry "RESET" is not one of'],
    [{ HEALTH_CHECK_STARTUP_DELAY_SECONDS: "-1" }, "HEALTH_CHECK_STARTUP_DELAY_SECONDS must be a number from 0 to 3600"],
  ])("a bad value stops it naming the variable (%#)", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
