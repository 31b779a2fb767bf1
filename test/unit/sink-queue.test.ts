// The sinks' pure parts: the bounded queue that drops its oldest, and the
// retry delays (exponential ceiling, full jitter).
import { backoffDelayMs } from "../../src/sinks/backoff";
import { BoundedQueue } from "../../src/sinks/bounded-queue";

describe("BoundedQueue", () => {
  test("keeps at most its limit, dropping and counting the oldest", () => {
    const queue = new BoundedQueue<number>(3);
    for (let i = 1; i <= 5; i++) queue.push(i);
    expect(queue.length).toBe(3);
    expect(queue.dropped).toBe(2);
    expect(queue.take(10)).toEqual([3, 4, 5]);
  });

  test("a batch put back goes first; what does not fit is dropped oldest first", () => {
    const queue = new BoundedQueue<number>(4);
    for (let i = 1; i <= 4; i++) queue.push(i);
    const batch = queue.take(3);
    queue.push(5);
    queue.push(6);
    queue.unshift(batch);
    expect(queue.take(10)).toEqual([3, 4, 5, 6]);
    expect(queue.dropped).toBe(2);
  });

  test("stays correct across many pushes and shifts (compaction)", () => {
    const queue = new BoundedQueue<number>(10);
    let next = 0;
    for (let i = 0; i < 5000; i++) {
      queue.push(i);
      if (i % 2 === 1) expect(queue.take(2)).toEqual([next++, next++]);
    }
    expect(queue.length).toBe(0);
    expect(queue.dropped).toBe(0);
  });
});

describe("webhook backoff", () => {
  test("the ceiling doubles per attempt up to the maximum; the delay is uniformly jittered below it", () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffDelayMs(a, 500, 30_000, () => 0.999999))).toEqual([499, 999, 1999, 3999, 29999]);
    expect(backoffDelayMs(3, 500, 30_000, () => 0)).toBe(0);
    expect(backoffDelayMs(3, 500, 30_000, () => 0.5)).toBe(1000);
  });
});
