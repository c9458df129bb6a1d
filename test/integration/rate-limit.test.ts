import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsonOf, makeTestApp, registration, type TestApp } from "../helpers/test-app.js";

const LOGIN = { email: "ada@example.com", api_key: "ak_wrong" };

function login(t: TestApp, ip: string, headers: Record<string, string> = {}) {
  return t.call("POST", "/api/agents/login", { body: LOGIN, ip, headers });
}

function assertLimitHeaders(res: Response, limit: number, remaining: number) {
  assert.equal(res.headers.get("x-ratelimit-limit"), String(limit));
  assert.equal(res.headers.get("x-ratelimit-remaining"), String(remaining));
  assert.match(res.headers.get("x-ratelimit-reset") ?? "", /^\d{10}$/);
}

describe("rate limits", () => {
  test("login: 5 per minute per IP, then 429 rate_limited with Retry-After", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "on" });
    for (let i = 0; i < 5; i++) {
      const res = await login(t, "198.51.100.7");
      assert.equal(res.status, 401);
      assertLimitHeaders(res, 5, 4 - i);
    }
    const limited = await login(t, "198.51.100.7");
    assert.equal(limited.status, 429);
    assertLimitHeaders(limited, 5, 0);
    assert.equal(limited.headers.get("retry-after"), "60");
    const body = await jsonOf(limited);
    assert.equal(body.error, "rate_limited");
    assert.equal(body.code, "RATE_LIMITED");
    assert.equal((await login(t, "198.51.100.8")).status, 401, "another IP has its own budget");
  });

  test("the window slides: no burst of twice the limit across a minute boundary", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "on" });
    t.clock.advance(59_000);
    for (let i = 0; i < 5; i++) assert.equal((await login(t, "203.0.113.9")).status, 401);
    t.clock.advance(2_000); // a fixed window would have reset here
    assert.equal((await login(t, "203.0.113.9")).status, 429);
    t.clock.advance(57_999);
    const still = await login(t, "203.0.113.9");
    assert.equal(still.status, 429);
    assert.equal(still.headers.get("retry-after"), "1");
    t.clock.advance(1);
    assert.equal((await login(t, "203.0.113.9")).status, 401);
  });

  test("register: 5 per hour per IP", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "on" });
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await t.call("POST", "/api/register", { body: registration(), ip: "192.0.2.50" })).status,
        201,
      );
    }
    const res = await t.call("POST", "/api/register", { body: registration(), ip: "192.0.2.50" });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "3600");
    t.clock.advance(3_600_000);
    assert.equal(
      (await t.call("POST", "/api/register", { body: registration(), ip: "192.0.2.50" })).status,
      201,
    );
  });

  test("everything else: 60 per minute per IP, and 404s count too", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "on" });
    for (let i = 0; i < 60; i++) {
      const res = await t.call("GET", i % 2 ? "/api/health" : "/nope", { ip: "192.0.2.77" });
      assert.notEqual(res.status, 429, `request ${i + 1}`);
    }
    const res = await t.call("GET", "/api/health", { ip: "192.0.2.77" });
    assert.equal(res.status, 429);
    assertLimitHeaders(res, 60, 0);
  });

  test("limits are overridable by environment", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "on", AIEGIS_RATE_LIMIT_LOGIN: "2/10s" });
    assert.equal((await login(t, "192.0.2.1")).status, 401);
    assert.equal((await login(t, "192.0.2.1")).status, 401);
    const limited = await login(t, "192.0.2.1");
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "10");
  });

  test("X-Forwarded-For is ignored unless the socket is a trusted proxy", async () => {
    const untrusted = makeTestApp({ AIEGIS_RATE_LIMITS: "on" });
    for (let i = 0; i < 5; i++) {
      await login(untrusted, "198.51.100.1", { "x-forwarded-for": `10.9.9.${i}` });
    }
    assert.equal(
      (await login(untrusted, "198.51.100.1", { "x-forwarded-for": "10.9.9.99" })).status,
      429,
    );

    const proxied = makeTestApp({
      AIEGIS_RATE_LIMITS: "on",
      AIEGIS_TRUSTED_PROXIES: "10.0.0.0/8, ::1",
    });
    for (let i = 0; i < 5; i++) {
      await login(proxied, "10.0.0.2", { "x-forwarded-for": "203.0.113.5" });
    }
    assert.equal(
      (await login(proxied, "10.0.0.2", { "x-forwarded-for": "203.0.113.5" })).status,
      429,
    );
    assert.equal(
      (await login(proxied, "::ffff:10.0.0.3", { "x-forwarded-for": "203.0.113.6" })).status,
      401,
      "a different client behind the proxy has its own budget",
    );
    // A client cannot escape its budget by forging a left-most hop: the right-most untrusted one counts.
    assert.equal(
      (await login(proxied, "10.0.0.2", { "x-forwarded-for": "1.2.3.4, 203.0.113.5" })).status,
      429,
    );
    assert.equal(
      (await login(proxied, "10.0.0.2", { "x-forwarded-for": "203.0.113.5, 10.1.1.1" })).status,
      429,
      "trusted hops on the right are skipped",
    );
  });

  test("AIEGIS_RATE_LIMITS=off removes every limit and its headers", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "off" });
    for (let i = 0; i < 20; i++) {
      const res = await login(t, "192.0.2.1");
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("x-ratelimit-limit"), null);
    }
  });
});
