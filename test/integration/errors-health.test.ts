import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { jsonOf, makeTestApp, registration } from "../helpers/test-app.js";

describe("error envelope", () => {
  test("404 is JSON with code, message and request id matching X-Request-Id", async () => {
    const t = makeTestApp();
    const res = await t.call("GET", "/api/nope");
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = await jsonOf(res);
    assert.equal(body.code, "NOT_FOUND");
    assert.equal(typeof body.error, "string");
    assert.equal(body.request_id, res.headers.get("x-request-id"));
  });

  test("405 with an Allow header for a known path and the wrong method", async () => {
    const t = makeTestApp();
    const res = await t.call("GET", "/api/register");
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
    assert.equal((await jsonOf(res)).code, "METHOD_NOT_ALLOWED");
    const del = await t.call("DELETE", "/api/health");
    assert.equal(del.status, 405);
    assert.equal(del.headers.get("allow"), "GET, HEAD");
  });

  test("500 leaks nothing when the store fails, and the failure is logged", async () => {
    const t = makeTestApp();
    t.store.close();
    const res = await t.call("POST", "/api/register", { body: registration() });
    assert.equal(res.status, 500);
    const body = await jsonOf(res);
    assert.deepEqual(Object.keys(body).sort(), ["code", "error", "request_id"]);
    assert.equal(body.error, "Internal error");
    assert.ok(
      t.logs.some((l) => l.includes('"unhandled error"') && l.includes(String(body.request_id))),
    );
  });

  test("random bodies on public endpoints get a 4xx envelope, never a 5xx", async () => {
    const t = makeTestApp();
    const paths = ["/api/register", "/api/agents/login", "/api/verify-email/resend"];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(
          fc.json().map((s) => ({ raw: s })),
          fc.anything().map((v) => ({ raw: JSON.stringify(v) ?? "null" })),
          fc
            .uint8Array({ maxLength: 300 })
            .map((b) => ({ raw: Buffer.from(b).toString("latin1") })),
          fc
            .record(
              {
                agent_name: fc.string(),
                owner_email: fc.string(),
                email: fc.string(),
                api_key: fc.string(),
              },
              { requiredKeys: [] },
            )
            .map((o) => ({ raw: JSON.stringify(o) })),
        ),
        async (path, { raw }) => {
          const res = await t.call("POST", path, {
            raw,
            headers: { "content-type": "application/json" },
          });
          assert.ok(res.status < 500, `${path} ${raw} → ${res.status}`);
          if (res.status >= 400) {
            const body = await jsonOf(res);
            assert.equal(typeof body.code, "string");
            assert.equal(typeof body.request_id, "string");
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("GET /api/health", () => {
  test("reports status, layers, uptime and version", async () => {
    const t = makeTestApp();
    t.clock.advance(42_000);
    const res = await t.call("GET", "/api/health");
    assert.equal(res.status, 200);
    const body = await jsonOf(res);
    assert.equal(body.status, "ok");
    assert.equal(body.uptime_s, 42);
    assert.equal(typeof body.layers, "number");
    assert.match(String(body.version), /^\d+\.\d+\.\d+/);
  });

  test("503 when the database cannot answer", async () => {
    const t = makeTestApp();
    t.store.close();
    const res = await t.call("GET", "/api/health");
    assert.equal(res.status, 503);
    assert.equal((await jsonOf(res)).status, "unavailable");
  });
});
