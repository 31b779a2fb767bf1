// What the sinks publish after a resync (a view replaced by a fresh load): the
// differences the view finds (src/store/local-view.ts replaceAll) and the events
// made of them (src/sinks/resync-events.ts).
import type { StoreResync } from "../../src/core/store";
import type { InstanceView } from "../../src/core/types";
import { resyncEvents } from "../../src/sinks/resync-events";
import { LocalView } from "../../src/store/local-view";

const instance = (instanceId: string, patch: Partial<InstanceView> = {}): InstanceView =>
  Object.freeze({
    serviceName: "svc", instanceId, host: "10.0.0.1", port: 80, healthEndpoint: "", metadata: {}, status: "healthy",
    load: 0, loadReported: false, critical: false, registeredAt: 1, lastHeartbeat: 1, ttlMs: 30_000,
    healthCheck: undefined, lastHealthCheck: undefined, latencyMs: undefined, uptime: 0, ...patch,
  }) as InstanceView;

test("replacing the view reports what appeared, what left and what was written again, by revision; an instance at the same revision is left out", () => {
  const view = new LocalView({ baseRevision: 100, historySize: 10 });
  view.takeIn("svc", "same", instance("same"), [{ revision: 101, type: "registered", instance: instance("same"), occurredAt: 1 }], 101);
  view.takeIn("svc", "gone", instance("gone"), [{ revision: 102, type: "registered", instance: instance("gone"), occurredAt: 1 }], 102);
  view.takeIn("svc", "moved", instance("moved"), [{ revision: 103, type: "registered", instance: instance("moved"), occurredAt: 1 }], 103);
  view.soften("svc", "moved", { load: 0.4, loadReported: true });
  let heard: StoreResync | undefined;
  view.onResync((resync) => (heard = resync));

  view.replaceAll([
    { instance: instance("same"), revision: 101 },
    { instance: instance("moved", { port: 81 }), revision: 140 },
    { instance: instance("new"), revision: 120 },
  ], 150);

  expect(heard?.revision).toBe(150);
  expect(heard?.differences.map((d) => [d.before?.instanceId, d.after?.instanceId, d.revision])).toEqual([
    [undefined, "new", 120],
    ["moved", "moved", 140],
    ["gone", undefined, 150],
  ]);
  // "before" is the instance as this node last knew it, soft state included.
  expect(heard?.differences[1]!.before?.load).toBe(0.4);
  expect([...view.instancesOf("svc")].map((i) => i.instanceId).sort()).toEqual(["moved", "new", "same"]);
});

test("each difference becomes the event a subscriber would have heard, marked with the load's revision or the instance's last write", () => {
  const changes: StoreResync = {
    revision: 200,
    differences: [
      { before: undefined, after: instance("new"), revision: 150 },
      { before: instance("meta"), after: instance("meta", { metadata: { v: "2" } }), revision: 160 },
      { before: instance("sick"), after: instance("sick", { status: "unhealthy" }), revision: 170 },
      { before: instance("hot"), after: instance("hot", { critical: true, load: 0.95, loadReported: true }), revision: 175 },
      { before: instance("cool", { critical: true }), after: instance("cool"), revision: 176 },
      { before: instance("both"), after: instance("both", { port: 81, status: "degraded" }), revision: 180 },
      { before: instance("back", { registeredAt: 1 }), after: instance("back", { registeredAt: 5 }), revision: 185 },
      { before: instance("lease-moved"), after: instance("lease-moved", { load: 0.3, loadReported: true }), revision: 190 },
      { before: instance("gone"), after: undefined, revision: 200 },
    ],
  };
  const events = resyncEvents(changes, 9_999);
  expect(events.map((e) => [e.type, e.instance.instanceId, e.revision, e.previousStatus])).toEqual([
    ["registered", "new", 150, undefined],
    ["updated", "meta", 160, undefined],
    ["health-changed", "sick", 170, "healthy"],
    ["load-critical", "hot", 175, undefined],
    ["load-normal", "cool", 176, undefined],
    ["updated", "both", 180, undefined],
    ["health-changed", "both", 180, "healthy"],
    ["unregistered", "back", 185, undefined],
    ["registered", "back", 185, undefined],
    ["unregistered", "gone", 200, undefined],
  ]);
  expect(events.every((e) => e.occurredAt === 9_999)).toBe(true);
  // The instance as it now is; as it was for the one that left.
  expect(events[1]!.instance.metadata).toEqual({ v: "2" });
  expect(events[7]!.instance.registeredAt).toBe(1);
  expect(events[8]!.instance.registeredAt).toBe(5);
});
