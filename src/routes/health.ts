import type { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { publicJwk } from "../crypto/signing-keys.js";
import type { RouteContext } from "./route-context.js";

/** GET /api/health for watchdogs, and GET /.well-known/jwks.json for token verifiers. */
export function mountHealth(app: Hono<AppEnv>, ctx: RouteContext): void {
  app.get("/api/health", (c) => {
    const databaseOk = ctx.store.ping();
    // A layer that failed its canary fails closed (BLOCKs everything it sees), so the gateway is
    // up but not doing its job: watchdogs must hear about it as loudly as a dead database.
    const layersOk = ctx.pipeline.operationalLayers === ctx.pipeline.layers.length;
    return c.json(
      {
        status: databaseOk ? (layersOk ? "ok" : "degraded") : "unavailable",
        layers: ctx.pipeline.operationalLayers,
        layers_total: ctx.pipeline.layers.length,
        uptime_s: Math.floor((ctx.clock.now() - ctx.startedAt) / 1000),
        version: ctx.version,
        checks: { database: databaseOk ? "ok" : "failing", layers: layersOk ? "ok" : "failing" },
      },
      databaseOk && layersOk ? 200 : 503,
    );
  });

  // Every key still needed: the active one, and older ones until the passports they signed expire.
  app.get("/.well-known/jwks.json", (c) => {
    const jwks = JSON.stringify({ keys: ctx.passports.publishedKeys().map(publicJwk) });
    c.header("Cache-Control", "public, max-age=300");
    return c.body(jwks, 200, { "Content-Type": "application/jwk-set+json" });
  });
}
