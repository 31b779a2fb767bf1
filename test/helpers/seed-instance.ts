// Puts an instance straight into a test server's registry (no RPC): for tests
// of what clients see, where how it got there does not matter. The memory store
// applies the write before this returns; await the promise for the instance.
import type { RegisterInput } from "../../src/core/types";
import type { TestServer } from "./server-fixture";

export function seedInstance(server: TestServer, serviceName: string, instanceId: string, extra: Partial<RegisterInput> = {}) {
  return server.registry.register({ serviceName, instanceId, host: "127.0.0.1", port: 7000, healthEndpoint: "", metadata: {}, ttlMs: 30_000, load: undefined, ...extra });
}
