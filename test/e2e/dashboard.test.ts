// The dashboard in a real headless Chromium: it lists what the test registers
// and follows changes live through the Watch stream, without a reload.
import type { Page } from "playwright-core";
import { DiscoveryService, HealthStatus } from "../../gen/discovery/v1/discovery_pb";
import { launchChromium, type Chromium } from "../helpers/chromium";
import { GrpcTestClient } from "../helpers/grpc-client";
import { startTestServer, type TestServer } from "../helpers/server-fixture";

const M = DiscoveryService.method;

describe("dashboard in Chromium", () => {
  let browser: Chromium;
  let server: TestServer;
  let client: GrpcTestClient<typeof DiscoveryService>;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
  });
  beforeEach(async () => {
    server = await startTestServer();
    client = new GrpcTestClient(DiscoveryService, server.target);
    page = await browser.context.newPage();
  });
  afterEach(async () => {
    await page.close();
    client.close();
    await server.close();
  });

  const row = (key: string) => page.locator(`tr[data-instance="${key}"]`);

  async function open(): Promise<void> {
    await page.goto(server.baseUrl);
    await page.locator('#connection[data-state="live"]').waitFor();
    // Marks this page load: a reload would lose it.
    await page.evaluate(() => ((window as unknown as { loadMark: number }).loadMark = 42));
  }

  async function sameLoad(): Promise<void> {
    expect(await page.evaluate(() => (window as unknown as { loadMark?: number }).loadMark)).toBe(42);
  }

  test("lists the instances registered before and after the page opened, grouped by service", async () => {
    await client.unary(M.register, { serviceName: "users", instanceId: "users-1", host: "10.0.0.1", port: 8080, loadPercentage: 0.3 });
    await open();
    await row("users/users-1").waitFor();
    await client.unary(M.register, { serviceName: "orders", instanceId: "orders-1", host: "10.0.0.2", port: 9090 });
    await client.unary(M.register, { serviceName: "users", instanceId: "users-2", host: "10.0.0.3", port: 8080 });
    await row("orders/orders-1").waitFor();
    await row("users/users-2").waitFor();

    expect(await page.locator("section.service h2").allTextContents()).toEqual(["orders", "users"]);
    expect(await page.locator('section[data-service="users"] tr[data-instance]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-instance")))).toEqual([
      "users/users-1",
      "users/users-2",
    ]);
    const first = row("users/users-1");
    await expect(first.locator(".col-status").textContent()).resolves.toBe("Healthy");
    await expect(first.locator(".col-address").textContent()).resolves.toBe("10.0.0.1:8080");
    await expect(first.locator(".col-load .value").textContent()).resolves.toBe("30%");
    await expect(first.locator(".col-heartbeat").textContent()).resolves.toMatch(/just now|\d+ s ago/);

    await client.unary(M.unregister, { serviceName: "orders", instanceId: "orders-1" });
    await page.locator('section[data-service="orders"]').waitFor({ state: "detached" });
    await sameLoad();
  });

  test("turns an instance red when it becomes unhealthy, and marks it when its load goes critical", async () => {
    await client.unary(M.register, { serviceName: "users", instanceId: "users-1", host: "10.0.0.1", port: 8080, loadPercentage: 0.2 });
    await open();
    const target = row("users/users-1");
    await target.and(page.locator('[data-status="healthy"][data-critical="false"]')).waitFor();

    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "users-1", status: HealthStatus.UNHEALTHY });
    await target.and(page.locator('[data-status="unhealthy"]')).waitFor();
    await expect(target.locator(".col-status").textContent()).resolves.toBe("Unhealthy");
    const red = await target.locator(".col-status .badge").evaluate((el) => getComputedStyle(el).color);
    expect(red).toBe("rgb(165, 29, 36)");

    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "users-1", loadPercentage: 0.95 });
    await target.and(page.locator('[data-critical="true"]')).waitFor();
    await expect(target.locator(".critical-badge").textContent()).resolves.toBe("Critical");
    await expect(target.locator(".col-load .value").textContent()).resolves.toBe("95%");
    await expect(page.locator("#totals").textContent()).resolves.toContain("1 at critical load");
    await sameLoad();
  });

  test("filters by name and by status", async () => {
    for (const [service, id] of [["users", "users-1"], ["users", "users-2"], ["orders", "orders-1"]] as const) {
      await client.unary(M.register, { serviceName: service, instanceId: id, host: "10.0.0.1", port: 8080 });
    }
    await client.unary(M.heartbeat, { serviceName: "users", instanceId: "users-2", status: HealthStatus.UNHEALTHY });
    await open();
    await row("users/users-2").waitFor();
    const shown = () => page.locator("tr[data-instance]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-instance")).sort());

    await page.fill("#filter", "ord");
    await settle(shown, ["orders/orders-1"]);
    await page.fill("#filter", "");
    await page.selectOption("#status-filter", "unhealthy");
    await settle(shown, ["users/users-2"]);
    await page.fill("#filter", "orders");
    await settle(shown, []);
    await expect(page.locator("#empty").textContent()).resolves.toBe("No instance matches the filter.");
  });

  test("Check now says so clearly when the server does not run health checks", async () => {
    await client.unary(M.register, { serviceName: "users", instanceId: "users-1", host: "10.0.0.1", port: 8080 });
    await open();
    await row("users/users-1").locator("button.check-now").click();
    const notice = row("users/users-1").locator(".notice");
    await notice.and(page.locator(".notice-error")).waitFor();
    expect(await notice.textContent()).toMatch(/^(Health checks are not available on this server|Nothing to check: )/);
  });

  test("shows when it is disconnected and catches up after the server restarts on the same port", async () => {
    await client.unary(M.register, { serviceName: "users", instanceId: "users-1", host: "10.0.0.1", port: 8080 });
    await open();
    await row("users/users-1").waitFor();
    const port = server.port;
    client.close();
    await server.close();
    await page.locator('#connection[data-state="disconnected"]').waitFor();
    await expect(page.locator("#connection").textContent()).resolves.toMatch(/^Disconnected, reconnecting/);

    // A new registry on the same port: the old revision means nothing there, so the page resets to its state.
    server = await startTestServer({ port });
    client = new GrpcTestClient(DiscoveryService, server.target);
    await client.unary(M.register, { serviceName: "orders", instanceId: "orders-1", host: "10.0.0.2", port: 9090 });
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
    await row("orders/orders-1").waitFor();
    await row("users/users-1").waitFor({ state: "detached" });
    await sameLoad();
  });
});

/** Waits until `read` returns `expected` (the page renders on its next frame), then asserts it. */
async function settle<T>(read: () => Promise<T>, expected: T, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = await read();
  }
  expect(last).toEqual(expected);
}
