// Debian's Chromium (/usr/bin/chromium) driven by playwright-core, which never
// downloads a browser. Each launch gets a fresh profile in a temp folder.
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** ignoreHTTPSErrors: for a server with a certificate from a test's throwaway CA. */
export async function launchChromium(viewport = { width: 1280, height: 800 }, options: { ignoreHTTPSErrors?: boolean } = {}): Promise<Chromium> {
  const profile = mkdtempSync(path.join(os.tmpdir(), "discovery-chromium-"));
  // launchPersistentContext is how playwright takes a --user-data-dir of our choosing.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS, viewport, ignoreHTTPSErrors: options.ignoreHTTPSErrors });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
