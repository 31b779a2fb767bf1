// The settings table is the one source: Config, `discovery serve --help` and the
// README's configuration table must say the same thing as it does.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError, GROUP_SWITCHES, loadConfig, SETTINGS } from "../../src/config";
import { createProgram } from "../../src/cli/program";
import { helpLine, markdownTable, pathOf, type Setting } from "../../src/settings/table";

const README = readFileSync(path.join(__dirname, "../../README.md"), "utf8");
const squash = (text: string) => text.replace(/\s+/g, " ");
const ROWS: readonly Setting[] = SETTINGS;
const ungrouped = ROWS.filter((row) => row.group === undefined);
const groups = [...new Set(ROWS.flatMap((row) => (row.group === undefined ? [] : [row.group])))];

describe("the settings table", () => {
  test("the README's configuration table is the one generated from it", () => {
    const start = README.indexOf("<!-- settings-table:start");
    const end = README.indexOf("<!-- settings-table:end -->");
    expect(start).toBeGreaterThan(0);
    const inReadme = README.slice(README.indexOf("\n", start) + 1, end);
    expect(inReadme).toBe(markdownTable(SETTINGS));
  });

  test("`discovery serve --help` lists every setting's flag with its help, range, default and variable", () => {
    const serve = createProgram().commands.find((command) => command.name() === "serve");
    const help = squash(serve?.helpInformation() ?? "");
    for (const row of SETTINGS) expect(help).toContain(squash(`--${row.flag} <value> ${helpLine(row)}`));
  });

  test("Config has one field per ungrouped row, each at the row's default, and one object per group: off by default, or always on at its rows' defaults", () => {
    const config: Record<string, unknown> = loadConfig({});
    expect(Object.keys(config).sort()).toEqual([...ungrouped.map((row) => row.key), ...groups].sort());
    for (const row of ungrouped) expect(config[row.key]).toEqual(row.kind.fallback);
    for (const group of groups) {
      if (group in GROUP_SWITCHES) expect(config[group]).toBeUndefined();
      else expect(config[group]).toEqual(Object.fromEntries(ROWS.filter((row) => row.group === group).map((row) => [row.key, row.kind.fallback])));
    }
  });

  test("a group that is on has one field per row of the group", () => {
    const on = { NATS_URL: "127.0.0.1:4222", DISCOVERY_WEBHOOK_URLS: "http://127.0.0.1:1/x", SERVICE_DISCOVERY_TLS_CERT: "c.pem", SERVICE_DISCOVERY_TLS_KEY: "k.pem" };
    const config: Record<string, unknown> = loadConfig(on);
    for (const group of groups) {
      const rows = ROWS.filter((row) => row.group === group);
      expect(Object.keys(config[group] as object).sort()).toEqual(rows.map((row) => row.key).sort());
    }
  });

  test("every default, written as the table shows it, reads back as the default", () => {
    for (const row of ungrouped.filter((r) => r.kind.defaultText !== "unset")) {
      const config: Record<string, unknown> = loadConfig({ [row.env]: row.kind.defaultText });
      expect(config[row.key]).toEqual(row.kind.fallback);
    }
  });

  test("variables, flags and Config paths are unique", () => {
    expect(new Set(SETTINGS.map((row) => row.env)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map((row) => row.flag)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map(pathOf)).size).toBe(SETTINGS.length);
  });

  test("a given value is checked even while its group is off", () => {
    expect(() => loadConfig({ NATS_BUFFER_LIMIT: "0" })).toThrow(new ConfigError('NATS_BUFFER_LIMIT must be a number from 1 to 10000000 (got "0")'));
  });

  test("the default lists are copies: changing one Config does not change the next", () => {
    loadConfig({}).probeDeny.push("10.0.0.0/8");
    expect(loadConfig({}).probeDeny).not.toContain("10.0.0.0/8");
  });
});

describe("settings that had no flag or no setting", () => {
  test("the four health check settings have flags that override their variables", () => {
    const config = loadConfig(
      { HEALTH_CHECK_INTERVAL_SECONDS: "60", HEALTH_CHECK_CONCURRENCY: "8" },
      { HEALTH_CHECK_INTERVAL_SECONDS: "10", HEALTH_CHECK_TIMEOUT_SECONDS: "2", HEALTH_CHECK_CONCURRENCY: "16", HEALTH_CHECK_TICK_MS: "5" },
    );
    expect(config).toMatchObject({ healthCheckIntervalMs: 10_000, healthCheckTimeoutMs: 2_000, probeConcurrency: 16, probeTickMs: 5 });
    expect(() => loadConfig({}, { HEALTH_CHECK_TICK_MS: "0" })).toThrow(new ConfigError('--health-check-tick-ms must be a number from 1 to 1000 (got "0")'));
  });

  test("the HTTP/2 keepalive ping timeout is a setting (default 10 s) with a flag", () => {
    expect(loadConfig({}).http2KeepAliveTimeoutMs).toBe(10_000);
    expect(loadConfig({ HTTP2_KEEPALIVE_TIMEOUT_SECONDS: "2.5" }).http2KeepAliveTimeoutMs).toBe(2_500);
    expect(loadConfig({}, { HTTP2_KEEPALIVE_TIMEOUT_SECONDS: "3" }).http2KeepAliveTimeoutMs).toBe(3_000);
    expect(() => loadConfig({ HTTP2_KEEPALIVE_TIMEOUT_SECONDS: "0" })).toThrow(
      new ConfigError('HTTP2_KEEPALIVE_TIMEOUT_SECONDS must be a number from 0.001 to 600 (got "0")'),
    );
  });

  test("a check across two settings names each by where its value came from", () => {
    expect(() => loadConfig({ HEALTH_CHECK_INTERVAL_SECONDS: "2" }, { HEALTH_CHECK_TIMEOUT_SECONDS: "3" })).toThrow(
      new ConfigError("--health-check-timeout-seconds must not exceed HEALTH_CHECK_INTERVAL_SECONDS"),
    );
    expect(() => loadConfig({}, { SERVICE_DISCOVERY_TLS_KEY: "k.pem" })).toThrow(new ConfigError("SERVICE_DISCOVERY_TLS_CERT is required with --tls-key"));
  });
});
