// Polls a condition until it holds: for waiting on real sockets and processes,
// never for sleeping through a lease (tests use short real TTLs or a manual clock).
// The probe may be async (e.g. it scrapes /metrics); polls never overlap.
export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 5000, what = "condition"): Promise<Awaited<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
