// Takes docs/dashboard.png for the README: a real server (compiled, in this
// process) with a small fleet registered over the Connect protocol, shown in
// Debian's Chromium through playwright-core. Run after `npm run build`:
//   node scripts/dashboard-screenshot.mjs
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const { startServer } = require("../dist/src/server/create-server.js");
const pino = require("pino");

const server = await startServer({ host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
const base = `http://127.0.0.1:${server.port}/discovery.v1.DiscoveryService`;
const call = async (method, body) => {
  const response = await fetch(`${base}/${method}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method}: ${await response.text()}`);
};

const fleet = [
  ["api-gateway", "gw-eu-1", "10.0.1.10", 8443, 0.42],
  ["api-gateway", "gw-eu-2", "10.0.1.11", 8443, 0.38],
  ["orders", "orders-7f9c", "10.0.2.21", 9090, 0.91],
  ["orders", "orders-a41d", "10.0.2.22", 9090, 0.55],
  ["orders", "orders-c3e0", "10.0.2.23", 9090, 0.12],
  ["payments", "pay-1", "10.0.3.5", 7000, 0.27],
  ["payments", "pay-2", "10.0.3.6", 7000, 0.64],
  ["users", "users-1", "10.0.4.7", 8080, 0.35],
  ["users", "users-2", "10.0.4.8", 8080, 0.2],
];
for (const [serviceName, instanceId, host, port, loadPercentage] of fleet) {
  await call("Register", { serviceName, instanceId, host, port, loadPercentage, ttl: "300s", metadata: { zone: "eu-west-1" } });
}
await call("Heartbeat", { serviceName: "payments", instanceId: "pay-2", status: "HEALTH_STATUS_UNHEALTHY" });
await call("Heartbeat", { serviceName: "users", instanceId: "users-2", status: "HEALTH_STATUS_DEGRADED" });

const profile = mkdtempSync(path.join(os.tmpdir(), "discovery-shot-"));
const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const context = await chromium.launchPersistentContext(profile, { executablePath: "/usr/bin/chromium", headless: true, args, viewport: { width: 1280, height: 720 } });
try {
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.locator('#connection[data-state="live"]').waitFor();
  await page.locator('tr[data-instance="users/users-2"]').waitFor();
  // Let the heartbeat times read "a few seconds ago", as they would on a live fleet.
  await page.waitForTimeout(3000);
  await page.screenshot({ path: "docs/dashboard.png", fullPage: true });
  console.log("wrote docs/dashboard.png");
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  await server.close();
}
