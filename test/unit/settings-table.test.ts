// The settings table is the one source: Config, `discovery serve --help` and the
// README's configuration table must say the same thing as it does.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError, loadConfig, SETTINGS } from "../../src/config";
import { createProgram } from "../../src/cli/program";
import { helpLine, markdownTable } from "../../src/settings/table";

const README = readFileSync(path.join(__dirname, "../../README.md"), "utf8");
const squash = (text: string) => text.replace(/\s+/g, " ");

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

  test("Config has exactly one field per row, each at the row's default", () => {
    const config = loadConfig({});
    expect(Object.keys(config).sort()).toEqual(SETTINGS.map((row) => row.key).sort());
    for (const row of SETTINGS) expect(config[row.key]).toEqual(row.kind.fallback);
  });

  test("every default, written as the table shows it, reads back as the default", () => {
    for (const row of SETTINGS.filter((r) => r.kind.defaultText !== "unset")) {
      expect(loadConfig({ [row.env]: row.kind.defaultText })[row.key]).toEqual(row.kind.fallback);
    }
  });

  test("variables and flags are unique", () => {
    expect(new Set(SETTINGS.map((row) => row.env)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map((row) => row.flag)).size).toBe(SETTINGS.length);
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
  });
});
