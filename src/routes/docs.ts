import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { GatewayError } from "../errors.js";
import { buildOpenApiDocument } from "../openapi/document.js";
import type { RouteContext } from "./route-context.js";

type Asset = Readonly<{ body: Uint8Array<ArrayBuffer>; type: string }>;

/**
 * No inline script, nothing from another origin. Swagger UI's stylesheet is served from here,
 * but its React components set `style` attributes, hence 'unsafe-inline' for styles only;
 * its icons are data: URLs.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AiEGIS API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// In a file of its own so the page needs no inline script.
const INIT = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
`;

let assets: ReadonlyMap<string, Asset> | undefined;

/** Swagger UI's files from the installed package, read once per process (tests build many apps). */
function docsAssets(): ReadonlyMap<string, Asset> {
  if (assets !== undefined) return assets;
  const require = createRequire(import.meta.url);
  const dist = (require("swagger-ui-dist") as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();
  const file = (name: string) => new Uint8Array(readFileSync(join(dist, name)));
  assets = new Map<string, Asset>([
    ["swagger-ui.css", { body: file("swagger-ui.css"), type: "text/css; charset=utf-8" }],
    [
      "swagger-ui-bundle.js",
      { body: file("swagger-ui-bundle.js"), type: "text/javascript; charset=utf-8" },
    ],
    ["favicon-32x32.png", { body: file("favicon-32x32.png"), type: "image/png" }],
    ["init.js", { body: new TextEncoder().encode(INIT), type: "text/javascript; charset=utf-8" }],
  ]);
  return assets;
}

const documents = new Map<string, string>();

/** The serialised document for this server URL and version, built once per process. */
function documentJson(serverUrl: string, version: string): string {
  const key = `${serverUrl}\n${version}`;
  let json = documents.get(key);
  if (json === undefined) {
    json = JSON.stringify(buildOpenApiDocument({ serverUrl, version }));
    documents.set(key, json);
  }
  return json;
}

/** GET /openapi.json (the OpenAPI 3.1 document) and GET /docs (Swagger UI, served locally). */
export function mountDocs(app: Hono<AppEnv>, ctx: RouteContext): void {
  // Built here, at start-up: a schema the converter cannot handle stops the gateway at once.
  const json = documentJson(ctx.config.publicUrl, ctx.version);
  const files = docsAssets();

  app.get("/openapi.json", (c) => {
    c.header("Access-Control-Allow-Origin", "*");
    return c.body(json, 200, { "Content-Type": "application/json" });
  });

  app.get("/docs", (c) => {
    c.header("Content-Security-Policy", CSP);
    return c.body(PAGE, 200, { "Content-Type": "text/html; charset=utf-8" });
  });

  app.get("/docs/:asset", (c) => {
    const asset = files.get(c.req.param("asset"));
    if (asset === undefined) throw new GatewayError("NOT_FOUND", "Route not found");
    c.header("Content-Security-Policy", CSP);
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(asset.body, 200, { "Content-Type": asset.type });
  });
}
