// Registry events as pino lines: one key per field, so JSON parsers (which keep
// the last of duplicate keys) see the server's "service" and the instance's
// service name apart.
import { Writable } from "node:stream";
import pino from "pino";
import { Registry } from "../../src/core/registry";
import { logRegistryEvents } from "../../src/services/discovery/event-logging";
import { MemoryStore } from "../../src/store/memory/memory-store";
import { ManualClock } from "../helpers/manual-clock";
import { input } from "../core/registry-contract";

test("an event line keeps the base service key and names the instance's service as serviceName", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  // The same base as `discovery serve`; a synchronous destination so the line is here at once.
  const logger = pino({ base: { service: "discovery" } }, sink);
  const store = new MemoryStore({ baseRevision: 1_000, historySize: 100 });
  const registry = new Registry({ store, clock: new ManualClock(), newInstanceId: () => "generated" });
  logRegistryEvents(store, logger.child({ module: "registry" }));
  await registry.register(input({ serviceName: "users", instanceId: "u1" }));

  expect(lines).toHaveLength(1);
  const line = lines[0]!;
  expect(line.match(/"service":/g)).toHaveLength(1);
  expect(JSON.parse(line)).toMatchObject({ service: "discovery", module: "registry", serviceName: "users", instanceId: "u1", msg: "registered users/u1" });
});
