// The global bound on probes in flight: a FIFO of waiters (operators' CheckNow
// goes to the front). Its length is bounded by the number of probed instances,
// since one instance never has two probes waiting.

export interface Limiter {
  /** Runs `task` once a slot is free; a waiter whose signal aborts leaves the queue. */
  run<T>(task: () => Promise<T>, options: { signal: AbortSignal; urgent?: boolean }): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createLimiter(concurrency: number): Limiter {
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    active--;
    const next = queue.shift();
    if (next !== undefined) next();
  };
  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    async run(task, { signal, urgent }) {
      if (active >= concurrency) {
        await new Promise<void>((resolve, reject) => {
          const start = () => {
            signal.removeEventListener("abort", leave);
            resolve();
          };
          const leave = () => {
            const at = queue.indexOf(start);
            if (at >= 0) queue.splice(at, 1);
            reject(signal.reason);
          };
          if (signal.aborted) return leave();
          signal.addEventListener("abort", leave, { once: true });
          if (urgent === true) queue.unshift(start);
          else queue.push(start);
        });
      }
      active++;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
