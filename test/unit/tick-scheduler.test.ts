// The tick scheduler under an injected clock (jest's fake timers): tasks run at the
// first tick at or after their due time, never early, together, and cancel() holds.
import { createTickScheduler } from "../../src/health/scheduler";

describe("createTickScheduler", () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());
  const now = () => Date.now();

  test("runs a task at the first tick at or after its due time, never early", () => {
    const scheduler = createTickScheduler(50, now);
    const ran: number[] = [];
    scheduler.schedule(120, () => ran.push(Date.now() - 1_000_000));
    jest.advanceTimersByTime(119);
    expect(ran).toEqual([]);
    jest.advanceTimersByTime(100);
    expect(ran).toHaveLength(1);
    expect(ran[0]).toBeGreaterThanOrEqual(120);
    expect(ran[0]).toBeLessThanOrEqual(120 + 50);
  });

  test("tells each task how late it runs", () => {
    const scheduler = createTickScheduler(50, now);
    const late: number[] = [];
    scheduler.schedule(120, (lateMs) => late.push(lateMs!));
    scheduler.schedule(149, (lateMs) => late.push(lateMs!));
    jest.advanceTimersByTime(300);
    expect(late).toHaveLength(2);
    expect(late[0]! - late[1]!).toBe(29);
    expect(late.every((ms) => ms >= 0 && ms < 100)).toBe(true);
  });

  test("tasks due within one tick run in the same turn", () => {
    const scheduler = createTickScheduler(50, now);
    const ran: [string, number][] = [];
    scheduler.schedule(101, () => ran.push(["a", Date.now()]));
    scheduler.schedule(149, () => ran.push(["b", Date.now()]));
    scheduler.schedule(151, () => ran.push(["c", Date.now()]));
    jest.advanceTimersByTime(300);
    expect(ran.map(([name]) => name)).toEqual(["a", "b", "c"]);
    expect(ran[0]![1]).toBe(ran[1]![1]);
    expect(ran[2]![1]).toBeGreaterThan(ran[1]![1]);
  });

  test("a cancelled task never runs; cancel is idempotent and harmless after running", () => {
    const scheduler = createTickScheduler(50, now);
    const ran: string[] = [];
    const a = scheduler.schedule(100, () => ran.push("a"));
    const b = scheduler.schedule(100, () => ran.push("b"));
    a.cancel();
    a.cancel();
    jest.advanceTimersByTime(500);
    b.cancel();
    expect(ran).toEqual(["b"]);
  });

  test("a task scheduled with no delay from a running task waits for the next tick", () => {
    const scheduler = createTickScheduler(50, now);
    let runs = 0;
    const again = () => {
      runs++;
      if (runs < 3) scheduler.schedule(0, again);
    };
    scheduler.schedule(0, again);
    jest.advanceTimersByTime(50);
    expect(runs).toBe(1);
    jest.advanceTimersByTime(100);
    expect(runs).toBe(3);
  });

  test("keeps no timer while nothing is pending, and starts again later", () => {
    const scheduler = createTickScheduler(50, now);
    const ran: string[] = [];
    scheduler.schedule(10, () => ran.push("first"));
    jest.advanceTimersByTime(200);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(10_000);
    scheduler.schedule(60, () => ran.push("second"));
    jest.advanceTimersByTime(59);
    expect(ran).toEqual(["first"]);
    jest.advanceTimersByTime(60);
    expect(ran).toEqual(["first", "second"]);
  });

  test("rejects a tick that is not positive", () => {
    expect(() => createTickScheduler(0)).toThrow(/tickMs must be positive/);
  });
});
