// Property tests of the validation layer (issue 9, item 9): whatever a client
// puts in a Register or Heartbeat, validation either accepts it or refuses it
// with INVALID_ARGUMENT naming the field; it never throws anything else.
import fc from "fast-check";
import { DiscoveryError } from "../../src/core/errors";
import type { RegisterInput } from "../../src/core/types";
import { validateHeartbeat, validateRegister } from "../../src/core/validate";

const DEFAULTS = { healthCheckIntervalMs: 30_000, healthCheckTimeoutMs: 5_000 };

/** Strings a client may send: short, long, unicode, control characters, reserved words. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.constantFrom("", "__proto__", "constructor", "users", "10.0.0.1", "::1", "a".repeat(300), "\u001b[2J", "x\u0000y"),
);
const anyNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 65535, 65536, Number.NaN, Infinity, -Infinity, 2 ** 53));
const metadata = fc.dictionary(text, text, { maxKeys: 8 });

function expectFieldRefusal(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DiscoveryError);
    expect((error as DiscoveryError).reason).toBe("invalid-argument");
    expect((error as DiscoveryError).field).toEqual(expect.any(String));
  }
}

test("Register: any input is accepted or refused with INVALID_ARGUMENT naming a field", () => {
  fc.assert(
    fc.property(text, text, text, anyNumber, text, metadata, fc.option(anyNumber, { nil: undefined }), fc.option(anyNumber, { nil: undefined }), (serviceName, instanceId, host, port, healthEndpoint, meta, ttlMs, load) => {
      const input: RegisterInput = { serviceName, instanceId, host, port, healthEndpoint, metadata: meta, ttlMs, load };
      expectFieldRefusal(() => validateRegister(input, DEFAULTS));
    }),
    { numRuns: 2000 },
  );
});

test("Register: a metadata key __proto__ is refused or kept as a plain key, never merged into the prototype", () => {
  fc.assert(
    fc.property(text, (value) => {
      const meta = JSON.parse(`{"__proto__": ${JSON.stringify(value)}, "zone": "a"}`) as Record<string, string>;
      try {
        const valid = validateRegister({ serviceName: "users", instanceId: "a", host: "10.0.0.1", port: 80, healthEndpoint: "", metadata: meta, ttlMs: undefined, load: undefined }, DEFAULTS);
        expect(Object.getPrototypeOf(valid.metadata)).not.toBe(value);
        expect(({} as Record<string, unknown>).zone).toBeUndefined();
      } catch (error) {
        expect(error).toBeInstanceOf(DiscoveryError);
      }
    }),
    { numRuns: 200 },
  );
});

test("Heartbeat: any input is accepted or refused with INVALID_ARGUMENT naming a field", () => {
  fc.assert(
    fc.property(text, text, fc.option(anyNumber, { nil: undefined }), fc.option(fc.integer({ min: -5, max: 20 }), { nil: undefined }), (serviceName, instanceId, load, status) => {
      expectFieldRefusal(() => validateHeartbeat({ serviceName, instanceId, load, status } as never));
    }),
    { numRuns: 2000 },
  );
});
