// The baseline for bench/load.bench.ts: bare Hono on @hono/node-server answering the gateway's
// routes with the same JSON shape as an ALLOW, after parsing the body (so JSON parsing is not
// counted as gateway overhead). Started as a child process by the load bench; it prints the
// same "listening" log line as the gateway so the same start-up helper can wait for it.
import { randomUUID } from "node:crypto";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const port = Number(process.env.PORT ?? "0");
const startedAt = Date.now();
const app = new Hono();

app.get("/api/health", (c) =>
  c.json({ status: "ok", uptime_s: Math.round((Date.now() - startedAt) / 1000), layers: 12 }),
);

app.post("/api/protect", async (c) => {
  const started = performance.now();
  await c.req.json();
  const requestId = randomUUID();
  return c.json({
    decision: "ALLOW",
    agent_id: "agt_bare",
    request_id: requestId,
    layers_checked: 12,
    latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
    threats_found: [],
    confidence_scoring: { score: 0, tier: "low" },
    policy: { id: "default", hash: "0".repeat(64) },
    timestamp: new Date().toISOString(),
  });
});

serve({ fetch: app.fetch, hostname: "127.0.0.1", port }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: info.port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
