// Probe schedules held in the test's hands: nothing runs until the test fires it.
import type { ScheduledTask, Scheduler } from "../../src/health/scheduler";

export interface PendingTask {
  readonly delayMs: number;
  readonly run: () => void;
  cancelled: boolean;
}

export class ManualScheduler implements Scheduler {
  readonly tasks: PendingTask[] = [];

  schedule(delayMs: number, run: () => void): ScheduledTask {
    const task: PendingTask = { delayMs, run, cancelled: false };
    this.tasks.push(task);
    return { cancel: () => (task.cancelled = true) };
  }

  /** Tasks scheduled and neither fired nor cancelled. */
  pending(): PendingTask[] {
    return this.tasks.filter((t) => !t.cancelled);
  }

  /** Fires every pending task once (tasks they schedule stay pending). */
  fireAll(): number {
    const due = this.pending();
    for (const task of due) {
      task.cancelled = true;
      task.run();
    }
    return due.length;
  }
}
