// settle keeps a synchronous answer synchronous (the heartbeat path) and waits
// for a promised one; errors, thrown or rejected, go to onError either way.
import type { CallContext } from "../../src/transport/contract";
import { settle } from "../../src/transport/settle";

const context: CallContext = { signal: new AbortController().signal, requestHeader: new Headers(), responseHeader: new Headers(), responseTrailer: new Headers(), shutdownSignal: new AbortController().signal };
const onValue = (value: unknown, state: string) => `${state}:value:${String(value)}`;
const onError = (error: unknown, state: string) => `${state}:error:${(error as Error).message}`;

describe("settle", () => {
  test("a synchronous answer is handed on at once, not as a promise", () => {
    expect(settle(() => 42, undefined, context, "s", onValue, onError)).toBe("s:value:42");
  });

  test("a synchronous throw goes to onError at once", () => {
    const thrower = () => {
      throw new Error("bad");
    };
    expect(settle(thrower, undefined, context, "s", onValue, onError)).toBe("s:error:bad");
  });

  test("a promised answer or rejection is handed on when it settles", async () => {
    const answered = settle(async () => 7, undefined, context, "p", onValue, onError);
    expect(answered).toBeInstanceOf(Promise);
    await expect(answered).resolves.toBe("p:value:7");
    await expect(settle(() => Promise.reject(new Error("no")), undefined, context, "p", onValue, onError)).resolves.toBe("p:error:no");
  });

  test("the handler gets the input and the call's context", () => {
    const seen: unknown[] = [];
    settle((input, ctx) => seen.push(input, ctx), "in", context, "s", onValue, onError);
    expect(seen).toEqual(["in", context]);
  });
});
