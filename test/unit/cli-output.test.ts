// The CLI colours its output only for a terminal, and never with --json or NO_COLOR.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { EventType, HealthStatus, WatchEventSchema } from "../../gen/discovery/v1/discovery_pb";
import { eventLine } from "../../src/cli/instance-text";
import { createOutput, describeError, safeJson, safeText, table } from "../../src/cli/output";

const tty = { isTTY: true, write: () => true } as unknown as NodeJS.WriteStream;
const pipe = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

const event = create(WatchEventSchema, {
  revision: 7n,
  type: EventType.HEALTH_CHANGED,
  previousStatus: HealthStatus.HEALTHY,
  occurredAt: timestampFromMs(Date.UTC(2026, 0, 1, 12, 0, 1, 250)),
  instance: { serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 80, status: HealthStatus.UNHEALTHY, loadPercentage: 0.95, criticalLoad: true },
});

describe("CLI output", () => {
  test("a terminal gets colour: the new status in red, the critical load in bold red", () => {
    const line = eventLine(createOutput(tty, false, {}), event);
    expect(line).toContain("\x1b[31munhealthy\x1b[39m");
    expect(line).toContain("\x1b[32mhealthy\x1b[39m");
    expect(line).toContain("\x1b[1m\x1b[31m95% CRITICAL\x1b[39m\x1b[22m");
  });

  test("a pipe, --json and NO_COLOR get plain text", () => {
    const plain = "12:00:01.250  HEALTH_CHANGED  users/u1  10.0.0.1:80  healthy -> unhealthy  load 95% CRITICAL";
    expect(eventLine(createOutput(pipe, false, {}), event)).toBe(plain);
    expect(eventLine(createOutput(tty, true, {}), event)).toBe(plain);
    expect(eventLine(createOutput(tty, false, { NO_COLOR: "1" }), event)).toBe(plain);
  });

  test("tables align on visible width, whatever the colour codes", () => {
    const out = createOutput(tty, false, {});
    expect(table([["A", "B"], [out.paint("long", "red"), "x"]]).map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""))).toEqual(["A     B", "long  x"]);
  });
});

describe("safe text", () => {
  test("control characters, C1 and bidirectional overrides are shown as escapes; ordinary text is untouched", () => {
    expect(safeText("a\u001b[2Jb\u0007c\u009bd\u202ee")).toBe("a\\x1b[2Jb\\x07c\\x9bd\\u202ee");
    expect(safeText("users/u1 10.0.0.1:80 zone=eu-west é")).toBe("users/u1 10.0.0.1:80 zone=eu-west é");
  });

  test("JSON output escapes C1 and bidi characters and stays parseable", () => {
    const text = safeJson({ note: "x\u009b\u202e\u001b" });
    expect(text).toBe('{"note":"x\\u009b\\u202e\\u001b"}');
    expect(JSON.parse(text)).toEqual({ note: "x\u009b\u202e\u001b" });
  });

  test("an error message from the server is printed escaped", () => {
    expect(describeError(new Error("bad \u001b[31mred"), "a:1")).toBe("bad \\x1b[31mred");
  });
});
