import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { buildLayers } from "../../layers/registry.js";
import type { Layer } from "../../layers/types.js";
import { createPipeline } from "../../src/pipeline/pipeline.js";
import { jsonOf, makeTestApp, registerAgent, type TestApp } from "../helpers/test-app.js";

/** True when a generated value holds a key the API refuses anywhere in params. */
function hasForbiddenKey(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  return Object.entries(value).some(
    ([k, v]) => k === "__proto__" || k === "constructor" || k === "prototype" || hasForbiddenKey(v),
  );
}

async function agent(t: TestApp) {
  const { apiKey, agentId } = await registerAgent(t);
  return { agentId, headers: { "x-api-key": apiKey } };
}

function protect(t: TestApp, headers: Record<string, string>, body: unknown) {
  return t.call("POST", "/api/protect", { headers, body });
}

describe("POST /api/protect", () => {
  test("the reference example: read_file /etc/passwd is a BLOCK, as data (200)", async () => {
    const t = makeTestApp();
    const { headers, agentId } = await agent(t);
    const res = await protect(t, headers, { action: "read_file", target: "/etc/passwd" });
    assert.equal(res.status, 200);
    const body = await jsonOf(res);
    assert.equal(body.decision, "BLOCK");
    assert.equal(body.agent_id, agentId);
    const threats = body.threats_found as {
      layer: string;
      code: string;
      severity: string;
      message: string;
    }[];
    assert.ok(threats.length > 0);
    assert.ok(
      threats.some((x) => x.layer === "path" && x.severity === "BLOCK"),
      JSON.stringify(threats),
    );
  });

  test("answers the documented shape", async () => {
    const t = makeTestApp();
    const { headers } = await agent(t);
    const res = await protect(t, headers, {
      action: "read_file",
      target: "docs/getting-started.md",
    });
    const body = await jsonOf(res);
    assert.deepEqual(Object.keys(body).sort(), [
      "agent_id",
      "confidence_scoring",
      "decision",
      "latency_ms",
      "layers_checked",
      "policy",
      "request_id",
      "threats_found",
      "timestamp",
    ]);
    assert.equal(body.decision, "ALLOW");
    assert.equal(body.layers_checked, 12);
    assert.equal(body.request_id, res.headers.get("x-request-id"));
    assert.equal(typeof body.latency_ms, "number");
    assert.ok((body.latency_ms as number) >= 0 && (body.latency_ms as number) < 1000);
    assert.deepEqual(body.threats_found, []);
    const scoring = body.confidence_scoring as { score: number; tier: string };
    assert.ok(scoring.score >= 0 && scoring.score <= 1);
    assert.ok(["high", "medium", "low"].includes(scoring.tier));
    assert.equal(body.timestamp, new Date(t.clock.now()).toISOString());
    assert.equal((body.policy as { id: string }).id, "default");
  });

  test("accepts params, context and the caller's own agent_id", async () => {
    const t = makeTestApp();
    const { headers, agentId } = await agent(t);
    const res = await protect(t, headers, {
      action: "http_request",
      target: "https://api.example.com/v1/orders",
      params: { method: "GET", headers: { accept: "application/json" }, retries: [1, 2, 3] },
      context: { source: "agent", session_id: "s-1" },
      agent_id: agentId,
    });
    assert.equal(res.status, 200);
    assert.equal((await jsonOf(res)).decision, "ALLOW");
  });

  describe("bad input gets a clear 4xx, never a 500 and never an ALLOW", () => {
    const cases: [string, unknown, string][] = [
      ["missing action", { target: "x" }, "VALIDATION_FAILED"],
      ["empty action", { action: "" }, "VALIDATION_FAILED"],
      ["action over 128 characters", { action: "a".repeat(129) }, "VALIDATION_FAILED"],
      ["wrong types", { action: 42, target: ["x"] }, "VALIDATION_FAILED"],
      ["unknown field", { action: "read_file", rm: true }, "VALIDATION_FAILED"],
      ["params not an object", { action: "x", params: [1, 2] }, "VALIDATION_FAILED"],
      ["unknown source", { action: "x", context: { source: "kernel" } }, "VALIDATION_FAILED"],
      ["unknown context field", { action: "x", context: { trust: "high" } }, "VALIDATION_FAILED"],
    ];
    for (const [name, body, code] of cases) {
      test(name, async () => {
        const t = makeTestApp();
        const { headers } = await agent(t);
        const res = await protect(t, headers, body);
        assert.equal(res.status, 400, name);
        assert.equal((await jsonOf(res)).code, code);
      });
    }

    test("params nested deeper than 32 levels", async () => {
      const t = makeTestApp();
      const { headers } = await agent(t);
      const nest = (depth: number): unknown => (depth === 0 ? "leaf" : { a: nest(depth - 1) });
      const ok = await protect(t, headers, { action: "x", params: nest(32) as object });
      assert.equal(ok.status, 200, "32 levels of objects, params itself included, are accepted");
      const deep = await protect(t, headers, { action: "x", params: nest(33) as object });
      assert.equal(deep.status, 400);
      const body = await jsonOf(deep);
      assert.match(String((body.details as { message: string }[])[0]?.message), /deeper than 32/);
    });

    test("__proto__, constructor and prototype keys anywhere in params", async () => {
      const t = makeTestApp();
      const { headers } = await agent(t);
      for (const raw of [
        '{"action":"x","params":{"__proto__":{"admin":true}}}',
        '{"action":"x","params":{"a":[{"constructor":{"prototype":{}}}]}}',
        '{"action":"x","params":{"b":{"prototype":1}}}',
      ]) {
        const res = await t.call("POST", "/api/protect", {
          raw,
          headers: { ...headers, "content-type": "application/json" },
        });
        assert.equal(res.status, 400, raw);
        assert.equal(({} as { admin?: boolean }).admin, undefined, "no prototype pollution");
      }
    });

    test("malformed JSON, invalid UTF-8 and a non-JSON body", async () => {
      const t = makeTestApp();
      const { headers } = await agent(t);
      const json = { ...headers, "content-type": "application/json" };
      assert.equal(
        (await t.call("POST", "/api/protect", { raw: '{"action":', headers: json })).status,
        400,
      );
      const utf8 = await t.call("POST", "/api/protect", {
        raw: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0x22, 0x7d]),
        headers: json,
      });
      assert.equal(utf8.status, 400);
      assert.equal((await jsonOf(utf8)).code, "INVALID_UTF8");
      const text = await t.call("POST", "/api/protect", {
        raw: "action=read_file",
        headers: { ...headers, "content-type": "text/plain" },
      });
      assert.equal(text.status, 415);
    });

    test("a body over AIEGIS_MAX_BODY, declared or chunked, is 413 with the limit", async () => {
      const t = makeTestApp({ AIEGIS_MAX_BODY: "4096" });
      const { headers } = await agent(t);
      const big = JSON.stringify({ action: "llm_prompt", content: "x".repeat(5000) });
      const declared = await t.call("POST", "/api/protect", {
        raw: big,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(big.length),
        },
      });
      assert.equal(declared.status, 413);
      assert.equal((await jsonOf(declared)).limit, 4096);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < big.length; i += 1000)
            controller.enqueue(new TextEncoder().encode(big.slice(i, i + 1000)));
          controller.close();
        },
      });
      const chunked = await t.call("POST", "/api/protect", {
        raw: stream,
        headers: { ...headers, "content-type": "application/json" },
      });
      assert.equal(chunked.status, 413);
      const fits = await protect(t, headers, { action: "llm_prompt", content: "y".repeat(3000) });
      assert.equal(
        fits.status,
        200,
        "a 3 KB body fits a 4 KB limit although public endpoints stop at 2000",
      );
    });

    test("property: random and mutated requests never get a 5xx, and invalid ones never a 200", async () => {
      const t = makeTestApp();
      const { headers } = await agent(t);
      const valid = fc.record(
        {
          action: fc.string({ minLength: 1, maxLength: 40 }),
          target: fc.string({ maxLength: 200 }),
          content: fc.string({ maxLength: 400 }),
          params: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 4 })),
        },
        { requiredKeys: ["action"] },
      );
      // One unknown member (any JSON value) makes an otherwise valid body invalid.
      const mutated = fc
        .tuple(valid, fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }))
        .map(([body, key, junk]) => ({ ...body, [`x_${key}`]: junk }));
      const raw = fc.oneof(
        fc.string().map((s) => s),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
        valid.map((b) => JSON.stringify(b).slice(0, -1)),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            valid.map((b) => ({ kind: "valid", body: b })),
            mutated.map((b) => ({ kind: "mutated", body: b })),
            raw.map((r) => ({ kind: "raw", body: r })),
          ),
          async ({ kind, body }) => {
            const res =
              kind === "raw"
                ? await t.call("POST", "/api/protect", {
                    raw: body as string,
                    headers: { ...headers, "content-type": "application/json" },
                  })
                : await protect(t, headers, body);
            assert.ok(res.status < 500, `${res.status} for ${JSON.stringify(body).slice(0, 200)}`);
            const json = await jsonOf(res);
            if (kind === "valid" && !hasForbiddenKey(body)) {
              assert.equal(res.status, 200, JSON.stringify(json));
              assert.ok(["ALLOW", "WARN", "BLOCK"].includes(String(json.decision)));
            } else if (kind === "valid") {
              assert.equal(res.status, 400, "prototype-polluting keys are refused");
            } else if (res.status === 200) {
              assert.fail(`invalid request answered 200: ${JSON.stringify(body).slice(0, 200)}`);
            } else {
              assert.equal(typeof json.code, "string");
            }
          },
        ),
        { numRuns: 250 },
      );
    });
  });

  test("rate limit: 30 per minute per key, each agent its own budget", async () => {
    const t = makeTestApp({
      AIEGIS_RATE_LIMITS: "on",
      AIEGIS_RATE_LIMIT_DEFAULT: "1000/1m",
      AIEGIS_RATE_LIMIT_REGISTER: "100/1h",
    });
    const a = await agent(t);
    const b = await agent(t);
    for (let i = 0; i < 30; i++) {
      const res = await protect(t, a.headers, { action: "read_file", target: "notes.txt" });
      assert.equal(res.status, 200, `call ${i + 1}`);
      assert.equal(res.headers.get("x-ratelimit-limit"), "30");
    }
    const limited = await protect(t, a.headers, { action: "read_file", target: "notes.txt" });
    assert.equal(limited.status, 429);
    assert.equal((await jsonOf(limited)).error, "rate_limited");
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.equal(
      (await protect(t, b.headers, { action: "read_file", target: "notes.txt" })).status,
      200,
    );
  });
});

describe("decision log", () => {
  test("records every decision with digests, findings without evidence, latency and policy hash", async () => {
    const t = makeTestApp();
    const { headers, agentId } = await agent(t);
    const secretContent = "unique-content-7f3a9c: the quarterly plan";
    const res = await protect(t, headers, {
      action: "read_file",
      target: "/etc/shadow",
      content: secretContent,
    });
    const { request_id } = (await jsonOf(res)) as { request_id: string };
    assert.equal(t.decisionLog.pending, 1, "queued, not written on the response path");
    t.decisionLog.flush();
    const row = t.decisionLog.byRequestId(request_id);
    assert.ok(row);
    assert.equal(row.agentId, agentId);
    assert.equal(row.action, "read_file");
    assert.equal(row.decision, "BLOCK");
    assert.match(String(row.targetSha256), /^[0-9a-f]{64}$/);
    assert.match(String(row.contentSha256), /^[0-9a-f]{64}$/);
    assert.match(row.policyHash, /^[0-9a-f]{64}$/);
    assert.ok(row.latencyUs >= 0);
    const findings = JSON.parse(row.findings) as Record<string, unknown>[];
    assert.ok(findings.length > 0);
    for (const f of findings)
      assert.deepEqual(Object.keys(f).sort(), ["code", "confidence", "layer", "severity"]);
    const dump = t.store.db.serialize();
    assert.equal(dump.indexOf("unique-content-7f3a9c"), -1, "request text is not stored");
    assert.equal(dump.indexOf("/etc/shadow"), -1, "targets are stored as digests");
  });

  test("flushes by itself within its interval", async () => {
    const t = makeTestApp();
    const { headers } = await agent(t);
    await protect(t, headers, { action: "read_file", target: "a.txt" });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(t.decisionLog.pending, 0);
    assert.equal(t.decisionLog.recent(5).length, 1);
  });
});

describe("auto-quarantine", () => {
  test("N BLOCKs within the window quarantine the agent; its key then gets 403 DENY", async () => {
    const t = makeTestApp({ AIEGIS_AUTO_QUARANTINE: "3/10m" });
    const { headers, agentId } = await agent(t);
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await jsonOf(await protect(t, headers, { action: "read_file", target: "README.md" })))
          .decision,
        "ALLOW",
      );
    }
    for (let i = 0; i < 3; i++) {
      const res = await protect(t, headers, { action: "read_file", target: "/etc/shadow" });
      assert.equal(res.status, 200);
      assert.equal((await jsonOf(res)).decision, "BLOCK");
    }
    const after = await protect(t, headers, { action: "read_file", target: "README.md" });
    assert.equal(after.status, 403);
    const body = await jsonOf(after);
    assert.equal(body.error, "Agent quarantined");
    assert.equal(body.decision, "DENY");
    const change = t.store.db
      .prepare("SELECT actor, reason FROM agent_status_changes WHERE agent_id = ?")
      .get(agentId) as {
      actor: string;
      reason: string;
    };
    assert.equal(change.actor, "auto-quarantine");
    assert.match(change.reason, /3 BLOCK decisions within 10 min/);
  });

  test("BLOCKs spread beyond the window do not add up", async () => {
    const t = makeTestApp({ AIEGIS_AUTO_QUARANTINE: "3/10m" });
    const { headers } = await agent(t);
    for (let i = 0; i < 6; i++) {
      assert.equal(
        (await protect(t, headers, { action: "read_file", target: "/etc/shadow" })).status,
        200,
        `block ${i + 1}`,
      );
      t.clock.advance(5 * 60_000 + 1);
    }
  });

  test("AIEGIS_AUTO_QUARANTINE=off never quarantines", async () => {
    const t = makeTestApp({ AIEGIS_AUTO_QUARANTINE: "off" });
    const { headers } = await agent(t);
    for (let i = 0; i < 12; i++) {
      assert.equal(
        (await protect(t, headers, { action: "read_file", target: "/etc/shadow" })).status,
        200,
      );
    }
  });
});

describe("fail closed", () => {
  const broken: Layer = {
    name: "sql",
    maxInputChars: 1_000_000,
    check: () => {
      throw new Error("boom");
    },
  };

  test("a layer that throws makes the decision BLOCK, naming the layer", async () => {
    const layers = buildLayers().map((l) => (l.name === "sql" ? broken : l));
    const t = makeTestApp({}, { pipeline: createPipeline(layers) });
    const { headers } = await agent(t);
    const body = await jsonOf(
      await protect(t, headers, { action: "read_file", target: "README.md" }),
    );
    assert.equal(body.decision, "BLOCK");
    const threats = body.threats_found as { layer: string; code: string }[];
    assert.deepEqual(
      threats.map((x) => [x.layer, x.code]),
      [["sql", "LAYER_ERROR"]],
    );
  });

  test("input beyond a layer's bound is a BLOCK naming the layer", async () => {
    const layers = buildLayers().map((l) => (l.name === "pii" ? { ...l, maxInputChars: 100 } : l));
    const t = makeTestApp({}, { pipeline: createPipeline(layers) });
    const { headers } = await agent(t);
    const body = await jsonOf(
      await protect(t, headers, { action: "llm_prompt", content: "hello ".repeat(40) }),
    );
    assert.equal(body.decision, "BLOCK");
    assert.ok(
      (body.threats_found as { layer: string; code: string }[]).some(
        (x) => x.layer === "pii" && x.code === "LAYER_INPUT_BOUND",
      ),
    );
  });

  test("/api/health counts operational layers and answers 503 degraded when one fails", async () => {
    const t = makeTestApp();
    const healthy = await t.call("GET", "/api/health");
    assert.equal(healthy.status, 200);
    const ok = await jsonOf(healthy);
    assert.equal(ok.layers, 12);
    assert.equal(ok.layers_total, 12);
    assert.equal(ok.status, "ok");
    const layers = buildLayers().map((l) => (l.name === "sql" ? broken : l));
    const degraded = makeTestApp({}, { pipeline: createPipeline(layers) });
    const res = await degraded.call("GET", "/api/health");
    assert.equal(res.status, 503);
    const body = await jsonOf(res);
    assert.equal(body.layers, 11);
    assert.equal(body.status, "degraded");
    assert.deepEqual(body.checks, { database: "ok", layers: "failing" });
  });
});
