// When probes run: a tiny timer abstraction so that tests can hold probe
// schedules in their hands (and fire them) instead of waiting real intervals.

/** A pending task; cancel() is idempotent. */
export interface ScheduledTask {
  cancel(): void;
}

export interface Scheduler {
  /** Runs `task` after `delayMs` unless cancelled first. */
  schedule(delayMs: number, task: () => void): ScheduledTask;
}

/** Real timers, unref'd so that probe schedules never keep the process alive. */
export const systemScheduler: Scheduler = {
  schedule(delayMs, task) {
    const timer = setTimeout(task, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
