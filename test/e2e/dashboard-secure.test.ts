// The dashboard in Chromium against a server with TLS and read auth: over
// https (the browser offers h2 and HTTP/1.1; the port picks HTTP/1.1) and
// with the token from the page's fragment; without it, the data is refused.
import { writeFileSync } from "node:fs";
import { launchChromium, type Chromium } from "../helpers/chromium";
import { startTestServer, type TestServer } from "../helpers/server-fixture";
import { createStandardPki, type Pki } from "../helpers/test-pki";

const READER = "dashboard-reader-token-0123";

describe("dashboard over TLS with read auth", () => {
  let pki: Pki;
  let browser: Chromium;
  let server: TestServer;
  beforeAll(async () => {
    pki = createStandardPki();
    writeFileSync(pki.file("tokens.json"), JSON.stringify({ tokens: [{ name: "dashboard", token: READER, scopes: ["read"] }] }));
    server = await startTestServer({
      tls: { certFile: pki.file("server.pem"), keyFile: pki.file("server.key") },
      tokensFile: pki.file("tokens.json"),
      readAuth: true,
      secret: "registrar-secret",
    });
    server.registry.register({ serviceName: "users", instanceId: "u1", host: "10.0.0.1", port: 80, healthEndpoint: "", metadata: {}, ttlMs: undefined, load: undefined, healthCheck: undefined });
    browser = await launchChromium(undefined, { ignoreHTTPSErrors: true });
  });
  afterAll(async () => {
    await browser.close();
    await server.close();
    pki.remove();
  });

  test("with #token= it shows the fleet live over https", async () => {
    const page = await browser.context.newPage();
    try {
      const response = await page.goto(`https://localhost:${server.port}/#token=${READER}`);
      expect(response?.status()).toBe(200);
      await page.locator('#connection[data-state="live"]').waitFor();
      await page.locator('tr[data-instance="users/u1"]').waitFor();
    } finally {
      await page.close();
    }
  });

  test("without a token the page loads but its data is refused", async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`https://localhost:${server.port}/`);
      await page.locator('#connection[data-state="disconnected"]').waitFor();
      expect(await page.locator("tr[data-instance]").count()).toBe(0);
    } finally {
      await page.close();
    }
  });
});
