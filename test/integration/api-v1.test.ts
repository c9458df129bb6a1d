import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadConfig } from "../../src/config.js";
import { createOrgAgent, createOrgKey, signUpOperator } from "../helpers/operators.js";
import { ADMIN_KEY, jsonOf, makeTestApp, registerAgent } from "../helpers/test-app.js";

type Json = Record<string, unknown>;

const ALLOW_ACTION = { action: "file.read", target: "/srv/app/README.md" };

describe("/api/v1 serves every endpoint with the structured error envelope", () => {
  test("every /api and /registry route answers under /api/v1 as it does unversioned", async () => {
    const t = makeTestApp();
    const routes = new Set<string>();
    for (const r of t.app.routes) {
      if (r.method !== "ALL" && (r.path.startsWith("/api/") || r.path.startsWith("/registry/"))) {
        routes.add(`${r.method} ${r.path}`);
      }
    }
    assert.ok(routes.size >= 40, `only ${routes.size} routes`);
    for (const route of routes) {
      const [method = "GET", pattern = ""] = route.split(" ");
      const path = pattern.replace(/:[a-z]+/g, "x");
      const versioned = path.startsWith("/api/") ? `/api/v1/${path.slice(5)}` : `/api/v1${path}`;
      const legacy = await t.call(method, path, { ip: "198.51.100.1" });
      const v1 = await t.call(method, versioned, { ip: "198.51.100.2" });
      assert.equal(v1.status, legacy.status, `${route}: ${versioned}`);
      const body = await v1.text();
      assert.ok(!body.includes("Route not found"), `${versioned} is not routed`);
    }
  });

  test("a validation error: numeric code, machine type, field details, request id, timestamp", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const res = await t.call("POST", "/api/v1/protect", {
      headers: { "x-api-key": agent.apiKey },
      body: { action: "", unexpected: 1 },
    });
    assert.equal(res.status, 400);
    const body = (await jsonOf(res)) as { error: Json };
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.equal(body.error.code, 400);
    assert.equal(body.error.type, "VALIDATION_FAILED");
    assert.equal(typeof body.error.message, "string");
    assert.equal(body.error.requestId, res.headers.get("x-request-id"));
    assert.match(String(body.error.requestId), /^req_[0-9a-f]{32}$/);
    assert.ok(!Number.isNaN(Date.parse(String(body.error.timestamp))));
    const fields = (body.error.details as Json[]).map((d) => d.field).sort();
    assert.deepEqual(fields, ["action", "unexpected"]);
    // The unversioned path keeps its envelope.
    const legacy = await jsonOf(
      await t.call("POST", "/api/protect", {
        headers: { "x-api-key": agent.apiKey },
        body: { action: "" },
      }),
    );
    assert.equal(legacy.code, "VALIDATION_FAILED");
    assert.equal(typeof legacy.request_id, "string");
  });

  test("auth denials, unknown routes and wrong methods use the v1 envelope too", async () => {
    const t = makeTestApp();
    const denied = (await jsonOf(
      await t.call("POST", "/api/v1/protect", { body: ALLOW_ACTION }),
    )) as {
      error: Json;
    };
    assert.equal(denied.error.code, 401);
    assert.equal(denied.error.type, "UNAUTHENTICATED");
    assert.equal(denied.error.decision, "DENY");
    assert.deepEqual(denied.error.details, []);
    const missing = await t.call("GET", "/api/v1/no-such-thing");
    assert.equal(missing.status, 404);
    assert.equal(((await jsonOf(missing)).error as Json).type, "NOT_FOUND");
    const wrong = await t.call("GET", "/api/v1/protect");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "POST");
    assert.equal(((await jsonOf(wrong)).error as Json).code, 405);
    // /api/v1 is not a prefix that can be stacked.
    assert.equal((await t.call("GET", "/api/v1/v1/health")).status, 404);
  });
});

describe("/api/v1 rate limits per credential", () => {
  const limited = (rules: Record<string, string>) =>
    makeTestApp({
      AIEGIS_RATE_LIMITS: "on",
      AIEGIS_RATE_LIMIT_PROTECT: "1000/1m",
      AIEGIS_RATE_LIMIT_DEFAULT: "1000/1m",
      AIEGIS_RATE_LIMIT_LOGIN: "1000/1m",
      AIEGIS_RATE_LIMIT_REGISTER: "1000/1h",
      ...rules,
    });

  test("an API key gets its per-minute budget under /api/v1 only, with Retry-After", async () => {
    const t = limited({ AIEGIS_RATE_LIMIT_V1_KEY: "3/1m" });
    const agent = await registerAgent(t);
    const other = await registerAgent(t);
    const protect = (key: string, path = "/api/v1/protect") =>
      t.call("POST", path, { headers: { "x-api-key": key }, body: ALLOW_ACTION });
    for (let i = 0; i < 3; i++) assert.equal((await protect(agent.apiKey)).status, 200);
    const refused = await protect(agent.apiKey);
    assert.equal(refused.status, 429);
    const body = (await jsonOf(refused)) as { error: Json };
    assert.equal(body.error.type, "RATE_LIMITED");
    assert.equal(body.error.code, 429);
    assert.match(String(body.error.message), /at most 3 per 60 s/);
    assert.equal(refused.headers.get("retry-after"), "60");
    assert.equal(refused.headers.get("x-ratelimit-limit"), "3");
    assert.equal(refused.headers.get("x-ratelimit-remaining"), "0");
    // Another key has its own budget; the unversioned path is not counted by /api/v1's rule.
    assert.equal((await protect(other.apiKey)).status, 200);
    assert.equal((await protect(agent.apiKey, "/api/protect")).status, 200);
    t.clock.advance(60_000);
    assert.equal((await protect(agent.apiKey)).status, 200);
  });

  test("the burst cap refuses the request past it within one second", async () => {
    const t = limited({ AIEGIS_RATE_LIMIT_V1_BURST: "2/1s" });
    const owner = await signUpOperator(t);
    const agent = await createOrgAgent(t, owner);
    const key = await createOrgKey(t, owner, ["protect"]);
    const protect = () =>
      t.call("POST", "/api/v1/protect", {
        headers: { "x-api-key": key.key },
        body: { ...ALLOW_ACTION, agent_id: agent.agentId },
      });
    assert.equal((await protect()).status, 200);
    assert.equal((await protect()).status, 200);
    const refused = await protect();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "1");
    t.clock.advance(1_000);
    assert.equal((await protect()).status, 200);
  });

  test("an operator's access token gets the per-user budget", async () => {
    const t = limited({ AIEGIS_RATE_LIMIT_V1_USER: "2/1m" });
    const ada = await signUpOperator(t);
    const bob = await signUpOperator(t);
    const me = (auth: Record<string, string>) =>
      t.call("GET", "/api/v1/auth/me", { headers: auth });
    assert.equal((await me(ada.auth)).status, 200);
    assert.equal((await me(ada.auth)).status, 200);
    const refused = await me(ada.auth);
    assert.equal(refused.status, 429);
    assert.equal(((await jsonOf(refused)).error as Json).type, "RATE_LIMITED");
    assert.equal((await me(bob.auth)).status, 200);
    // Admin keys are API keys: the per-key rule applies to them, not the per-user one.
    const admin = await t.call("GET", "/api/v1/webhooks", { headers: { "x-api-key": ADMIN_KEY } });
    assert.equal(admin.status, 200);
  });

  test("the documented defaults: 100/min per user, 1,000/min per key, 200/s burst", () => {
    const { rules } = loadConfig({}).rateLimits;
    assert.deepEqual(rules.v1User, { limit: 100, windowMs: 60_000 });
    assert.deepEqual(rules.v1Key, { limit: 1000, windowMs: 60_000 });
    assert.deepEqual(rules.v1Burst, { limit: 200, windowMs: 1000 });
  });
});
