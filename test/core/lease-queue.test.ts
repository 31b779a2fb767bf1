import { LeaseQueue } from "../../src/core/lease-queue";

describe("LeaseQueue", () => {
  test("pops keys in deadline order and only once they are due", () => {
    const q = new LeaseQueue<string>();
    q.set("c", 30);
    q.set("a", 10);
    q.set("b", 20);
    expect(q.popDue(5)).toBeUndefined();
    expect(q.popDue(25)).toBe("a");
    expect(q.popDue(25)).toBe("b");
    expect(q.popDue(25)).toBeUndefined();
    expect(q.peek()).toBe(30);
  });

  test("renewing moves a key later and earlier", () => {
    const q = new LeaseQueue<string>();
    q.set("a", 10);
    q.set("b", 20);
    q.set("a", 40); // renewed past b
    expect(q.popDue(100)).toBe("b");
    q.set("c", 50);
    q.set("c", 5); // moved earlier
    expect(q.popDue(100)).toBe("c");
    expect(q.popDue(100)).toBe("a");
    expect(q.size).toBe(0);
  });

  test("delete removes a key from anywhere in the heap", () => {
    const q = new LeaseQueue<number>();
    for (let i = 0; i < 100; i++) q.set(i, (i * 37) % 100);
    for (let i = 0; i < 100; i += 3) expect(q.delete(i)).toBe(true);
    expect(q.delete(0)).toBe(false);
    const popped: number[] = [];
    for (let k = q.popDue(1000); k !== undefined; k = q.popDue(1000)) popped.push(q.deadlineOf(k) ?? (k * 37) % 100);
    expect(popped).toHaveLength(100 - 34);
    expect([...popped].sort((x, y) => x - y)).toEqual(popped);
  });

  test("stays ordered under random renewals (heap invariant)", () => {
    const q = new LeaseQueue<number>();
    const deadlines = new Map<number, number>();
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 5000; step++) {
      const key = Math.floor(rand() * 500);
      if (rand() < 0.2) {
        q.delete(key);
        deadlines.delete(key);
      } else {
        const deadline = Math.floor(rand() * 10_000);
        q.set(key, deadline);
        deadlines.set(key, deadline);
      }
    }
    expect(q.size).toBe(deadlines.size);
    let last = -1;
    for (let key = q.popDue(Infinity); key !== undefined; key = q.popDue(Infinity)) {
      const deadline = deadlines.get(key)!;
      expect(deadline).toBeGreaterThanOrEqual(last);
      last = deadline;
    }
  });
});
