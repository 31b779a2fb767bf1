// When probes run: a tiny timer abstraction so that tests can hold probe
// schedules in their hands (and fire them) instead of waiting real intervals,
// and so that real probes due close together start together.
import { DEFAULT_PROBE_TICK_MS } from "./probe-defaults";

/** A pending task; cancel() is idempotent. */
export interface ScheduledTask {
  cancel(): void;
}

export interface Scheduler {
  /**
   * Runs `task` after `delayMs` unless cancelled first. It may tell the task how
   * many ms late it runs, so that a fixed cadence does not drift by that much.
   */
  schedule(delayMs: number, task: (lateMs?: number) => void): ScheduledTask;
}

/**
 * One unref'd timer for every task: tasks wait in buckets of `tickMs` and a
 * bucket runs at the first tick at or after the due time of all its tasks (never early).
 * The timer runs only while tasks are pending.
 */
export function createTickScheduler(tickMs: number = DEFAULT_PROBE_TICK_MS, now: () => number = () => performance.now()): Scheduler {
  if (!(tickMs > 0)) throw new RangeError(`tickMs must be positive, got ${tickMs}`);
  const buckets = new Map<number, Set<(at: number) => void>>();
  let pending = 0;
  /** Ticks up to this one have run. */
  let done = Math.floor(now() / tickMs);
  let timer: NodeJS.Timeout | undefined;

  const sweep = () => {
    const at = now();
    const current = Math.floor(at / tickMs);
    while (done < current) {
      done++;
      const bucket = buckets.get(done);
      if (bucket === undefined) continue;
      buckets.delete(done);
      pending -= bucket.size;
      for (const task of bucket) task(at);
    }
    if (pending === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    schedule(delayMs, task) {
      if (pending === 0 && timer === undefined) done = Math.floor(now() / tickMs);
      const dueAt = now() + Math.max(0, delayMs);
      // A task scheduled from a running bucket with no delay waits for the next tick, not this one.
      const at = Math.max(Math.ceil(dueAt / tickMs), done + 1);
      // Each task gets its own function so that the same callback may be scheduled twice.
      const entry = (ranAt: number) => task(ranAt - dueAt);
      let bucket = buckets.get(at);
      if (bucket === undefined) buckets.set(at, (bucket = new Set()));
      bucket.add(entry);
      pending++;
      if (timer === undefined) {
        timer = setInterval(sweep, tickMs);
        timer.unref();
      }
      let live = true;
      return {
        cancel: () => {
          if (!live) return;
          live = false;
          const holder = buckets.get(at);
          if (holder === undefined || !holder.delete(entry)) return;
          pending--;
          if (holder.size === 0) buckets.delete(at);
        },
      };
    },
  };
}
