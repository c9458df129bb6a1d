import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createLocalJWKSet, jwtVerify } from "jose";
import { issueApiKey } from "../../src/crypto/api-key.js";
import { addSigningKey, DirectoryKeyring } from "../../src/crypto/signing-keys.js";
import { canonicalJson, sha256Hex } from "../../src/score/canonical.js";
import { scoreAgent } from "../../src/score/engine.js";
import { defaultPack } from "../../src/score/pack.js";
import {
  ADMIN_KEY,
  jsonOf,
  makeTestApp,
  type Registered,
  registerAgent,
  type TestApp,
} from "../helpers/test-app.js";

type Json = Record<string, unknown>;

const HIRING =
  "A recruiting agent that screens CVs, filters out applicants who do not match and ranks the remaining candidates for the hiring manager.";
const SOCIAL_SCORE =
  "A municipal platform that assigns every resident a social score based on their online behaviour; residents with low scores are denied public housing.";
const VAGUE = "The agent assesses people and decides on their applications.";
const CHATBOT =
  "A customer support chatbot on our web shop that answers questions about orders and returns. We show a banner saying you are chatting with an AI assistant.";

const RESULT_KEYS = [
  "grade",
  "score",
  "risk_tier",
  "tier_basis",
  "findings",
  "obligations",
  "recommended_controls",
  "open_questions",
  "capped",
  "pack",
  "input_sha256",
  "generated_at",
];

function free(t: TestApp, body: unknown, ip?: string) {
  return t.call("POST", "/api/score/free", { body, ip });
}

function deep(t: TestApp, key: string, body: unknown) {
  return t.call("POST", "/api/score/deep", { headers: { "x-api-key": key }, body });
}

async function ok(res: Response, status = 200): Promise<Json> {
  const body = await jsonOf(res);
  assert.equal(res.status, status, JSON.stringify(body));
  return body;
}

async function expectInvalid(res: Response, field: string) {
  const body = await jsonOf(res);
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.code, "VALIDATION_FAILED");
  const fields = (body.details as { field: string }[]).map((d) => d.field);
  assert.ok(fields.includes(field), `expected a detail for ${field}, got ${fields.join(", ")}`);
}

describe("POST /api/score/free", () => {
  test("answers the result contract, capped and unsigned", async () => {
    const t = makeTestApp();
    const body = await ok(await free(t, { description: HIRING, agent_name: "Ranker" }));
    assert.deepEqual(Object.keys(body), RESULT_KEYS);
    assert.equal(body.capped, true);
    assert.equal(body.pack, "eu-ai-act-v1");
    assert.equal(body.risk_tier, "high");
    assert.match(String(body.input_sha256), /^[0-9a-f]{64}$/);
    assert.equal(body.generated_at, "2026-11-23T12:00:00.000Z");
    assert.equal("signature" in body, false);
    const basis = body.tier_basis as { ref: string; evidence: string }[];
    assert.ok(basis.some((b) => b.ref === "Art. 6(2), Annex III, point 4(a)"));
    for (const f of body.findings as Json[]) {
      assert.deepEqual(Object.keys(f), ["severity", "title", "articles", "status"]);
    }
  });

  test("caps the grade at B and the findings at three (plus what must never be hidden)", async () => {
    const t = makeTestApp();
    const strong =
      "Internal agent that summarises engineering meeting notes into the team wiki. It has read-only access, every tool call is logged, a human approves each wiki edit, a kill switch can stop it at once, prompt injection defences filter untrusted content, keys are stored in a vault, personal data is masked and rate limits cap its calls.";
    const full = scoreAgent(defaultPack(), { description: strong }, "deep", 0);
    assert.equal(full.grade, "A", "the uncapped grade");
    const body = await ok(await free(t, { description: strong }));
    assert.equal(body.risk_tier, "minimal");
    assert.equal(body.grade, "B");
    assert.equal(body.score, 89);
    const unlimited = await ok(await free(t, { description: HIRING }));
    assert.ok((unlimited.findings as unknown[]).length <= 3 + 2);
    assert.ok((unlimited.recommended_controls as unknown[]).length <= 3);
  });

  test("a prohibited practice shows as F with its Art. 5 finding, however many findings exist", async () => {
    const t = makeTestApp();
    const body = await ok(await free(t, { description: SOCIAL_SCORE }));
    assert.equal(body.risk_tier, "prohibited");
    assert.equal(body.grade, "F");
    const findings = body.findings as { severity: string; articles: string[] }[];
    assert.ok(
      findings.some((f) => f.severity === "critical" && f.articles.includes("Art. 5(1)(c)")),
    );
  });

  test("an undetermined tier keeps all its open questions", async () => {
    const t = makeTestApp();
    const body = await ok(await free(t, { description: VAGUE }));
    assert.equal(body.risk_tier, "undetermined");
    assert.ok((body.open_questions as string[]).length >= 3);
  });

  test("a bank's marketing chatbot is not high-risk for being in banking", async () => {
    const t = makeTestApp();
    const body = await ok(
      await free(t, {
        description:
          "A bank's marketing chatbot that answers questions about branch opening hours and promotes our new savings account.",
      }),
    );
    assert.equal(body.risk_tier, "limited");
  });

  test("4xx for bad input: short, long, unknown fields, wrong types, no body, not JSON", async () => {
    const t = makeTestApp();
    await expectInvalid(await free(t, { description: "too short" }), "description");
    await expectInvalid(await free(t, { description: "x".repeat(2001) }), "description");
    await expectInvalid(await free(t, { description: HIRING, tools: ["x"] }), "tools");
    await expectInvalid(await free(t, { description: 42 }), "description");
    await expectInvalid(await free(t, {}), "description");
    await expectInvalid(await free(t, { description: HIRING, agent_name: "" }), "agent_name");
    await expectInvalid(await free(t, { description: `${HIRING}\u0007` }), "description");
    const none = await t.call("POST", "/api/score/free");
    assert.equal(none.status, 400);
    assert.equal((await jsonOf(none)).code, "BODY_REQUIRED");
    const bad = await t.call("POST", "/api/score/free", {
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    assert.equal(bad.status, 400);
    assert.equal((await jsonOf(bad)).code, "MALFORMED_JSON");
    const huge = await free(t, { description: "y".repeat(40_000) });
    assert.equal(huge.status, 413);
    const array = await free(t, [HIRING]);
    assert.equal(array.status, 400);
  });

  test("2000 characters of multi-byte text fit the body limit", async () => {
    const t = makeTestApp();
    const description = `Agent für Lebensläufe: ${"é".repeat(1970)}`.slice(0, 2000);
    await ok(await free(t, { description }));
  });

  test("is rate limited per IP (AIEGIS_RATE_LIMIT_SCORE_FREE)", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "on", AIEGIS_RATE_LIMIT_SCORE_FREE: "2/1h" });
    await ok(await free(t, { description: CHATBOT }, "198.51.100.7"));
    await ok(await free(t, { description: CHATBOT }, "198.51.100.7"));
    const limited = await free(t, { description: CHATBOT }, "198.51.100.7");
    assert.equal(limited.status, 429);
    assert.equal((await jsonOf(limited)).code, "RATE_LIMITED");
    await ok(await free(t, { description: CHATBOT }, "198.51.100.8"));
  });
});

describe("POST /api/score/deep and GET /api/assessments/:id", () => {
  async function setup() {
    const t = makeTestApp();
    const self = await registerAgent(t);
    const sibling = await registerAgent(t);
    const stranger = await registerAgent(t, { overrides: { owner_email: "eve@example.org" } });
    return { t, self, sibling, stranger };
  }

  async function assess(t: TestApp, agent: Registered, body: Json = { description: HIRING }) {
    return ok(await deep(t, agent.apiKey, body), 201);
  }

  test("answers the full, uncapped result with an id, a complianceScore and a signature", async () => {
    const { t, self } = await setup();
    const body = await assess(t, self, {
      description: HIRING,
      agent_name: "Ranker",
      tools: ["read_cv", "send_email", "update_ats_stage"],
      data_categories: ["employment history", "health"],
      deployment: { role: "deployer", user_facing: false, regions: ["EU"] },
    });
    assert.match(String(body.assessment_id), /^asm_[A-Za-z0-9]+$/);
    assert.equal(body.agent_id, self.agentId);
    assert.equal(body.capped, false);
    assert.equal(body.risk_tier, "high");
    assert.equal(typeof body.complianceScore, "number");
    for (const key of RESULT_KEYS) assert.ok(key in body, key);
    const titles = (body.findings as { title: string }[]).map((f) => f.title);
    assert.ok(
      titles.some((x) => x.startsWith("Irreversible tools")),
      titles.join("\n"),
    );
    assert.ok(
      titles.some((x) => x.startsWith("Special-category")),
      titles.join("\n"),
    );
    // Deployer of a high-risk system: Art. 26 applies; a provider-only obligation does not.
    const refs = (body.obligations as { ref: string }[]).map((o) => o.ref);
    assert.ok(refs.includes("Art. 26"));
    assert.ok(!refs.includes("Art. 43, Art. 49"));
  });

  test("the signature verifies with jose against /.well-known/jwks.json and binds the result", async () => {
    const { t, self } = await setup();
    const body = await assess(t, self);
    const jwks = await jsonOf(await t.call("GET", "/.well-known/jwks.json"));
    const { payload, protectedHeader } = await jwtVerify(
      String(body.signature),
      createLocalJWKSet(jwks as never),
      { issuer: "https://gateway.test", typ: "aiegis-assessment+jwt", algorithms: ["EdDSA"] },
    );
    assert.equal(protectedHeader.alg, "EdDSA");
    assert.equal(payload.sub, self.agentId);
    assert.equal(payload.jti, body.assessment_id);
    assert.equal(payload.risk_tier, "high");
    const result: Json = {};
    for (const key of RESULT_KEYS) result[key] = body[key];
    assert.equal(payload.result_sha256, sha256Hex(canonicalJson(result)));
    // A changed result no longer matches what was signed.
    result.grade = "A";
    assert.notEqual(payload.result_sha256, sha256Hex(canonicalJson(result)));
  });

  test("the key that signed an assessment stays published after a rotation", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aiegis-score-"));
    try {
      const keyring = new DirectoryKeyring(dir, Date.parse("2026-11-23T11:00:00Z"));
      const t = makeTestApp({}, { keyring });
      const self = await registerAgent(t);
      const oldKid = keyring.active.kid;
      const body = await assess(t, self);
      const header = JSON.parse(
        Buffer.from(String(body.signature).split(".")[0]!, "base64url").toString(),
      ) as { kid: string };
      assert.equal(header.kid, oldKid);
      const added = addSigningKey(dir, t.clock.now() + 1);
      t.clock.advance(86_400_000);
      const jwks = await jsonOf(await t.call("GET", "/.well-known/jwks.json"));
      const kids = (jwks.keys as { kid: string }[]).map((k) => k.kid);
      assert.deepEqual(new Set(kids), new Set([oldKid, added.kid]));
      await jwtVerify(String(body.signature), createLocalJWKSet(jwks as never));
      const next = await assess(t, self);
      assert.notEqual(String(next.signature).split(".")[0], String(body.signature).split(".")[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("GET returns the stored assessment to its agent, a sibling agent of the owner and an admin", async () => {
    const { t, self, sibling } = await setup();
    const created = await assess(t, self);
    const path = `/api/assessments/${String(created.assessment_id)}`;
    for (const key of [self.apiKey, sibling.apiKey, ADMIN_KEY]) {
      const body = await ok(await t.call("GET", path, { headers: { "x-api-key": key } }));
      assert.deepEqual(body, created);
    }
    const admin = issueApiKey();
    t.store.apiKeys.createAdmin(
      { id: "adm_score", name: "ops", hash: admin.hash, prefix: admin.prefix },
      0,
    );
    await ok(await t.call("GET", path, { headers: { "x-api-key": admin.key } }));
  });

  test("404 for another owner's assessment, an unknown id and a malformed id", async () => {
    const { t, self, stranger } = await setup();
    const created = await assess(t, self);
    const paths = [
      `/api/assessments/${String(created.assessment_id)}`,
      "/api/assessments/asm_0000000000000000000000",
      "/api/assessments/not-an-id",
    ];
    for (const [i, path] of paths.entries()) {
      const res = await t.call("GET", path, {
        headers: { "x-api-key": i === 0 ? stranger.apiKey : self.apiKey },
      });
      const body = await jsonOf(res);
      assert.equal(res.status, 404, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.code, "NOT_FOUND");
      assert.equal(body.error, "Assessment not found");
    }
  });

  test("401 without a key; 403 for an admin key on deep", async () => {
    const { t } = await setup();
    const res = await t.call("POST", "/api/score/deep", { body: { description: HIRING } });
    assert.equal(res.status, 401);
    const admin = await deep(t, ADMIN_KEY, { description: HIRING });
    assert.equal(admin.status, 403);
    const get = await t.call("GET", "/api/assessments/asm_x");
    assert.equal(get.status, 401);
  });

  test("4xx for bad deep input", async () => {
    const { t, self } = await setup();
    const k = self.apiKey;
    await expectInvalid(await deep(t, k, { description: "short" }), "description");
    await expectInvalid(await deep(t, k, { description: HIRING, tools: "send_email" }), "tools");
    await expectInvalid(await deep(t, k, { description: HIRING, tools: [""] }), "tools.0");
    await expectInvalid(
      await deep(t, k, { description: HIRING, tools: Array(65).fill("t") }),
      "tools",
    );
    await expectInvalid(
      await deep(t, k, { description: HIRING, deployment: { role: "owner" } }),
      "deployment.role",
    );
    await expectInvalid(
      await deep(t, k, { description: HIRING, deployment: { cloud: "aws" } }),
      "deployment.cloud",
    );
    await expectInvalid(await deep(t, k, { description: HIRING, extra: 1 }), "extra");
    await expectInvalid(
      await deep(t, k, { description: HIRING, data_categories: [1] }),
      "data_categories.0",
    );
  });

  test("is limited to 30 an hour per agent key by default", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "on", AIEGIS_RATE_LIMIT_DEFAULT: "1000/1m" });
    assert.deepEqual(t.config.rateLimits.rules.scoreDeep, { limit: 30, windowMs: 3_600_000 });
    const self = await registerAgent(t);
    const other = await registerAgent(t);
    for (let i = 0; i < 30; i++) await assess(t, self, { description: CHATBOT });
    const limited = await deep(t, self.apiKey, { description: CHATBOT });
    assert.equal(limited.status, 429);
    assert.equal((await jsonOf(limited)).code, "RATE_LIMITED");
    // Another agent's key has its own budget; an hour later the first has one again.
    await assess(t, other, { description: CHATBOT });
    t.clock.advance(3_600_001);
    await assess(t, self, { description: CHATBOT });
  });

  test("the free limit defaults to 20 an hour per IP", () => {
    const t = makeTestApp();
    assert.deepEqual(t.config.rateLimits.rules.scoreFree, { limit: 20, windowMs: 3_600_000 });
  });
});
