import type { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import type { RouteContext } from "./route-context.js";

/**
 * GET /metrics in the Prometheus text format, public like /api/health (the gateway listens on
 * loopback by default; put it behind the proxy's access rules when it does not). Not mounted
 * when AIEGIS_METRICS=off, so the path then answers 404 like any unknown one.
 */
export function mountMetrics(app: Hono<AppEnv>, ctx: RouteContext): void {
  if (!ctx.config.metrics) return;
  app.get("/metrics", async (c) => {
    const { body, contentType } = await ctx.metrics.render();
    return c.body(body, 200, { "Content-Type": contentType });
  });
}
