// The list cache keeps one answer per service and kind, and all of them within
// DISCOVERY_LIST_CACHE_BYTES (issue 9, item 2): polling a service whose stamp
// changes on every heartbeat no longer piles up answers.
import { create } from "@bufbuild/protobuf";
import { ListInstancesResponseSchema } from "../../gen/discovery/v1/discovery_pb";
import { ListCache } from "../../src/services/discovery/list-cache";

function answer(instances: number) {
  return create(ListInstancesResponseSchema, {
    instances: Array.from({ length: instances }, (_, i) => ({ serviceName: "users", instanceId: `i${i}`, host: "10.0.0.1", port: 8080 })),
    revision: 1n,
  });
}

test("one answer per service and kind: a newer stamp replaces the older answer", () => {
  const cache = new ListCache(64 * 1024 * 1024);
  for (let stamp = 1; stamp <= 400; stamp++) cache.get("all", "users", stamp, ListInstancesResponseSchema, () => answer(20));
  expect(cache.size).toBe(1);
  cache.get("healthy", "users", 400, ListInstancesResponseSchema, () => answer(20));
  expect(cache.size).toBe(2);
});

test("the same stamp is served from the cache, built once", () => {
  const cache = new ListCache();
  let builds = 0;
  const first = cache.get("all", "users", 7, ListInstancesResponseSchema, () => (builds++, answer(3)));
  const second = cache.get("all", "users", 7, ListInstancesResponseSchema, () => (builds++, answer(3)));
  expect(second).toBe(first);
  expect(builds).toBe(1);
});

test("answers of many services stay within the byte budget, least recently used out first", () => {
  const cache = new ListCache(100_000);
  for (let service = 0; service < 500; service++) cache.get("all", `svc-${service}`, 1, ListInstancesResponseSchema, () => answer(20));
  expect(cache.bytes).toBeLessThanOrEqual(100_000);
  expect(cache.size).toBeGreaterThan(10);
  expect(cache.size).toBeLessThan(500);
});

test("a service that no longer exists (stamp 0) drops its cached answer", () => {
  const cache = new ListCache();
  cache.get("all", "users", 3, ListInstancesResponseSchema, () => answer(5));
  cache.get("all", "users", 0, ListInstancesResponseSchema, () => answer(0));
  expect(cache.size).toBe(0);
});
