import { ConfigError, loadConfig, startupWarnings } from "../../src/config";

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
      healthCheckIntervalMs: 30_000,
      healthCheckTimeoutMs: 5_000,
      probeConcurrency: 256,
      probeTickMs: 50,
      logLevel: "info",
      xdsLbPolicy: "ROUND_ROBIN",
      xdsMaxStreams: 10_000,
      xdsMaxResourcesPerStream: 1_000,
      xdsDnsRefreshMs: 30_000,
      store: "memory",
      etcd: { endpoints: "http://127.0.0.1:2379", prefix: "/discovery/", nodeId: undefined, nodeTtlSeconds: 5, loadReplicationStep: 0.05, loadReplicationIntervalMs: 10_000 },
    });
  });

  test("xDS settings: the policy by name in any case, a bad one named with the choices", () => {
    expect(loadConfig({ XDS_LB_POLICY: "ring_hash", XDS_DNS_REFRESH_SECONDS: "5" })).toMatchObject({ xdsLbPolicy: "RING_HASH", xdsDnsRefreshMs: 5_000 });
    expect(() => loadConfig({ XDS_LB_POLICY: "fastest" })).toThrow('XDS_LB_POLICY must be one of ROUND_ROBIN, RING_HASH, LEAST_REQUEST, RANDOM, MAGLEV (got "fastest")');
    expect(() => loadConfig({ XDS_MAX_STREAMS: "0" })).toThrow("XDS_MAX_STREAMS must be a number from 1 to 10000000");
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

  test("is quiet on loopback or with a secret", () => {
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_HOST: "127.0.0.1" }))).toEqual([]);
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_HOST: "localhost" }))).toEqual([]);
    expect(startupWarnings(loadConfig({ SERVICE_DISCOVERY_SECRET: "s" }))).toEqual([]);
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
});
