// Timing a handler as the transports call it, shared by the in-process handler
// benchmarks (heartbeat-observer.mjs, heartbeat-ab.mjs): ns per call, medians.
const context = { signal: new AbortController().signal, requestHeader: new Headers(), responseHeader: new Headers(), responseTrailer: new Headers(), shutdownSignal: new AbortController().signal };

/** Calls `handlers.heartbeat` `calls` times over `requests` in turn; resolves with ns per call. */
export async function timeHeartbeats({ handlers, requests }, calls) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await handlers.heartbeat(requests[i % requests.length], context);
  return Number(process.hrtime.bigint() - start) / calls;
}

export const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
