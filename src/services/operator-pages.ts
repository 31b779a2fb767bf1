// The operator's HTTP/1.1 pages on the RPC port: the dashboard (an HTML page and
// the assets esbuild bundled into dist/dashboard) and /metrics for Prometheus.
// Anything else goes to the next handler.
import { existsSync, readFileSync } from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";
import type { Registry as PromRegistry } from "prom-client";
import type { Logger } from "pino";
import { DiscoveryError } from "../core/errors";
import { requestCredentials } from "../transport/http1/request-credentials";
import type { Authorizer } from "./access/authorizer";

export interface OperatorPagesOptions {
  metrics: PromRegistry;
  /** The folder of the built dashboard (index.html, app.js, style.css). */
  dashboardDir?: string;
  next: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  logger: Logger;
  /** /metrics is a read: with SERVICE_DISCOVERY_READ_AUTH it needs a token with `read`. The dashboard's files hold no data. */
  authorize?: Authorizer;
}

/** Files of the dashboard, by URL path, with their content types. */
const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

/**
 * Where `npm run build` puts the dashboard: dist/dashboard, found from this
 * file whether it runs compiled (dist/src/services) or from source (src/services).
 */
export function defaultDashboardDir(): string {
  const compiled = path.resolve(__dirname, "../../dashboard");
  return existsSync(path.join(compiled, "index.html")) ? compiled : path.resolve(__dirname, "../../dist/dashboard");
}

export function createOperatorPages(options: OperatorPagesOptions): (request: http.IncomingMessage, response: http.ServerResponse) => void {
  const dir = options.dashboardDir ?? defaultDashboardDir();
  // Read once: the files are small and change only with a rebuild and restart.
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [route, asset] of Object.entries(ASSETS)) {
    const file = path.join(dir, asset.file);
    if (existsSync(file)) files.set(route, { body: readFileSync(file), type: asset.type });
  }
  if (files.size < Object.keys(ASSETS).length) options.logger.warn({ dir }, "dashboard not built (npm run build); / answers 503");

  return (request, response) => {
    const route = (request.url ?? "/").split("?", 1)[0]!;
    const readOnly = request.method === "GET" || request.method === "HEAD";
    if (route === "/metrics" && readOnly) {
      if (!allowedToRead(options.authorize, request, response)) return;
      options.metrics.metrics().then(
        (text) => send(response, request, 200, options.metrics.contentType, text),
        (error: unknown) => {
          options.logger.error({ err: error }, "metrics collection failed");
          send(response, request, 500, "text/plain; charset=utf-8", "metrics collection failed\n");
        },
      );
      return;
    }
    if (route in ASSETS && readOnly) {
      const file = files.get(route);
      if (file === undefined) send(response, request, 503, "text/plain; charset=utf-8", "dashboard not built: run npm run build\n");
      else send(response, request, 200, file.type, file.body);
      return;
    }
    options.next(request, response);
  };
}

function send(response: http.ServerResponse, request: http.IncomingMessage, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, { "content-type": type, "cache-control": "no-cache", "x-content-type-options": "nosniff" });
  response.end(request.method === "HEAD" ? undefined : body);
}

/** Answers 401 or 403 (and false) when the request may not read. */
function allowedToRead(authorize: Authorizer | undefined, request: http.IncomingMessage, response: http.ServerResponse): boolean {
  if (authorize === undefined) return true;
  try {
    authorize({ kind: "read", credentials: requestCredentials(request) });
    return true;
  } catch (error) {
    if (!(error instanceof DiscoveryError)) throw error;
    const status = error.reason === "permission-denied" ? 403 : 401;
    response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "www-authenticate": "Bearer" });
    response.end(`${error.message}\n`);
    return false;
  }
}
