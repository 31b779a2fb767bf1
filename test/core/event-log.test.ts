import { EventLog } from "../../src/core/event-log";
import type { RegistryEvent } from "../../src/core/types";

const BASE = 1000;

function event(revision: number): RegistryEvent {
  return { revision, type: "registered", instance: {} as RegistryEvent["instance"], occurredAt: 0 };
}

function fill(log: EventLog, count: number): number {
  for (let i = 1; i <= count; i++) log.append(event(BASE + i));
  return BASE + count;
}

describe("EventLog", () => {
  test("replays exactly the events after the given revision", () => {
    const log = new EventLog(10, BASE);
    const current = fill(log, 5);
    const result = log.since(BASE + 2, current);
    expect(result).toEqual({ t: "replay", events: [event(BASE + 3), event(BASE + 4), event(BASE + 5)] });
  });

  test("a resume from the base revision replays everything since start", () => {
    const log = new EventLog(10, BASE);
    const current = fill(log, 3);
    expect(log.since(BASE, current)).toEqual({ t: "replay", events: [event(BASE + 1), event(BASE + 2), event(BASE + 3)] });
  });

  test("a resume from the current revision replays nothing", () => {
    const log = new EventLog(10, BASE);
    const current = fill(log, 3);
    expect(log.since(current, current)).toEqual({ t: "replay", events: [] });
  });

  test("refuses a revision older than the retained history", () => {
    const log = new EventLog(3, BASE);
    const current = fill(log, 10); // keeps BASE+8..BASE+10
    expect(log.since(BASE + 7, current)).toEqual({ t: "replay", events: [event(BASE + 8), event(BASE + 9), event(BASE + 10)] });
    expect(log.since(BASE + 6, current)).toEqual({ t: "refused", reason: "history-compacted" });
  });

  test("refuses revisions from before this run and from the future", () => {
    const log = new EventLog(10, BASE);
    const current = fill(log, 2);
    expect(log.since(BASE - 1, current)).toEqual({ t: "refused", reason: "revision-unknown" });
    expect(log.since(current + 1, current)).toEqual({ t: "refused", reason: "revision-from-future" });
  });

  test("a zero-capacity log can only resume from the current revision", () => {
    const log = new EventLog(0, BASE);
    const current = fill(log, 2);
    expect(log.since(current, current)).toEqual({ t: "replay", events: [] });
    expect(log.since(current - 1, current)).toEqual({ t: "refused", reason: "history-compacted" });
  });
});
