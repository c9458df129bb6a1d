import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLocalJWKSet, jwtVerify } from "jose";
import { isWellFormedApiKey } from "../../src/crypto/api-key.js";
import { jsonOf, makeTestApp, registerAgent, registration } from "../helpers/test-app.js";

describe("POST /api/register", () => {
  test("201 with agent_id, a one-time ak_ key, PENDING_VERIFICATION and a signed tag", async () => {
    const t = makeTestApp();
    const res = await t.call("POST", "/api/register", { body: registration() });
    assert.equal(res.status, 201);
    const body = await jsonOf(res);
    assert.deepEqual(Object.keys(body).sort(), ["agent_id", "api_key", "status", "tag"]);
    assert.match(String(body.agent_id), /^agt_[0-9A-Za-z]{22}$/);
    assert.equal(body.status, "PENDING_VERIFICATION");
    assert.ok(isWellFormedApiKey(String(body.api_key)), `not a well-formed key: ${body.api_key}`);
    assert.ok(res.headers.get("x-request-id")?.startsWith("req_"));
  });

  test("the tag is an EdDSA JWT naming the agent that jose verifies against the JWKS", async () => {
    const t = makeTestApp();
    const { agentId, tag } = await registerAgent(t, { verify: false });
    const jwks = await jsonOf(await t.call("GET", "/.well-known/jwks.json"));
    const { payload, protectedHeader } = await jwtVerify(tag, createLocalJWKSet(jwks as never), {
      issuer: "https://gateway.test",
      algorithms: ["EdDSA"],
    });
    assert.equal(payload.sub, agentId);
    assert.equal(protectedHeader.typ, "agent-tag+jwt");
    assert.equal(protectedHeader.kid, t.keyring.active.kid);
  });

  test("sends a verification mail whose link points at AIEGIS_PUBLIC_URL", async () => {
    const t = makeTestApp();
    await t.call("POST", "/api/register", {
      body: registration({ owner_email: "Grace@Example.com" }),
    });
    const mail = t.mailer.sent.at(-1);
    assert.ok(mail);
    assert.equal(mail.to, "grace@example.com");
    assert.match(
      mail.link,
      /^https:\/\/gateway\.test\/api\/verify-email\?token=[A-Za-z0-9_-]{43}$/,
    );
    assert.ok(mail.text.includes(mail.link));
  });

  test("409 when the same owner registers the same name twice, whatever its case or width", async () => {
    const t = makeTestApp();
    const first = registration({ agent_name: "Scheduler" });
    assert.equal((await t.call("POST", "/api/register", { body: first })).status, 201);
    for (const name of ["Scheduler", "scheduler", "Ｓｃｈｅｄｕｌｅｒ"]) {
      const res = await t.call("POST", "/api/register", { body: { ...first, agent_name: name } });
      assert.equal(res.status, 409, name);
      assert.equal((await jsonOf(res)).code, "CONFLICT");
    }
    const otherOwner = { ...first, owner_email: "someone-else@example.com" };
    assert.equal((await t.call("POST", "/api/register", { body: otherOwner })).status, 201);
  });

  test("400 lists every bad field", async () => {
    const t = makeTestApp();
    const res = await t.call("POST", "/api/register", {
      body: {
        agent_name: "",
        agent_type: "assistant",
        description: "too short",
        owner_email: "nope",
      },
    });
    assert.equal(res.status, 400);
    const body = await jsonOf(res);
    assert.equal(body.code, "VALIDATION_FAILED");
    const fields = (body.details as { field: string }[]).map((d) => d.field).sort();
    assert.deepEqual(fields, ["agent_name", "description", "owner_email", "owner_name"]);
  });

  test("400 rejects unknown fields, __proto__ included", async () => {
    const t = makeTestApp();
    for (const raw of [
      JSON.stringify({ ...registration(), is_admin: true }),
      `{"__proto__":{"x":1},${JSON.stringify(registration()).slice(1)}`,
    ]) {
      const res = await t.call("POST", "/api/register", {
        raw,
        headers: { "content-type": "application/json" },
      });
      assert.equal(res.status, 400, raw);
      const body = await jsonOf(res);
      assert.equal((body.details as { message: string }[])[0]?.message, "unknown field");
    }
  });

  test("400 for control characters and bidi overrides in names", async () => {
    const t = makeTestApp();
    for (const agent_name of ["evil\u202Egnp.exe", "line\nbreak", "nul\u0000"]) {
      const res = await t.call("POST", "/api/register", { body: registration({ agent_name }) });
      assert.equal(res.status, 400, JSON.stringify(agent_name));
    }
  });

  test("400 for malformed JSON, invalid UTF-8, a non-object body and an empty body", async () => {
    const t = makeTestApp();
    const json = { "content-type": "application/json" };
    const cases: [RequestInit["body"], string][] = [
      ['{"agent_name": ', "MALFORMED_JSON"],
      [new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), "INVALID_UTF8"],
      ["[1,2,3]", "VALIDATION_FAILED"],
      ["", "BODY_REQUIRED"],
    ];
    for (const [raw, code] of cases) {
      const res = await t.call("POST", "/api/register", { raw, headers: json });
      assert.equal(res.status, 400, code);
      assert.equal((await jsonOf(res)).code, code);
    }
  });

  test("415 for a body that is not JSON", async () => {
    const t = makeTestApp();
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=latin1",
    ]) {
      const res = await t.call("POST", "/api/register", {
        raw: "agent_name=x",
        headers: { "content-type": type },
      });
      assert.equal(res.status, 415, type);
      assert.equal((await jsonOf(res)).code, "UNSUPPORTED_MEDIA_TYPE");
    }
  });

  test("413 with the limit for a body over 2000 bytes, declared or chunked", async () => {
    const t = makeTestApp();
    const big = JSON.stringify(registration({ description: "x".repeat(2100) }));
    const declared = await t.call("POST", "/api/register", {
      raw: big,
      headers: { "content-type": "application/json", "content-length": String(big.length) },
    });
    assert.equal(declared.status, 413);
    const body = await jsonOf(declared);
    assert.equal(body.error, "Body too large");
    assert.equal(body.limit, 2000);

    const chunks = [big.slice(0, 1000), big.slice(1000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const chunked = await t.call("POST", "/api/register", {
      raw: stream,
      headers: { "content-type": "application/json" },
    });
    assert.equal(chunked.status, 413);
  });

  test("stores only a hash and a display prefix of the key", async () => {
    const t = makeTestApp();
    const { apiKey } = await registerAgent(t);
    const dump = t.store.db.serialize();
    assert.equal(dump.indexOf(Buffer.from(apiKey)), -1, "plaintext key found in the database");
    assert.equal(dump.indexOf(Buffer.from(apiKey.slice(3, 20))), -1, "key material found");
    const row = t.store.db.prepare("SELECT prefix, length(hash) AS n FROM api_keys").get() as {
      prefix: string;
      n: number;
    };
    assert.equal(row.n, 32);
    assert.equal(row.prefix, apiKey.slice(0, 11));
    for (const line of t.logs) assert.ok(!line.includes(apiKey.slice(3)), `key in log: ${line}`);
  });
});

describe("GET /api/verify-email", () => {
  test("200 activates the agent; its key then works", async () => {
    const t = makeTestApp();
    const { agentId, apiKey, email } = await registerAgent(t, { verify: false });
    const before = await t.call("GET", "/api/agents/me", { headers: { "x-api-key": apiKey } });
    assert.equal(before.status, 403);
    assert.equal((await jsonOf(before)).error, "Email unverified");

    const token = t.mailer.lastToken(email);
    const res = await t.call("GET", `/api/verify-email?token=${token}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), { status: "ok", agent_id: agentId });

    const after = await t.call("GET", "/api/agents/me", { headers: { "x-api-key": apiKey } });
    assert.equal(after.status, 200);
    assert.equal((await jsonOf(after)).status, "ACTIVE");
  });

  test("400 TOKEN_USED when the link is opened twice", async () => {
    const t = makeTestApp();
    const { email } = await registerAgent(t, { verify: false });
    const token = t.mailer.lastToken(email);
    assert.equal((await t.call("GET", `/api/verify-email?token=${token}`)).status, 200);
    const again = await t.call("GET", `/api/verify-email?token=${token}`);
    assert.equal(again.status, 400);
    const body = await jsonOf(again);
    assert.equal(body.code, "TOKEN_USED");
    assert.match(String(body.error), /already used/);
  });

  test("400 TOKEN_EXPIRED after 24 hours, still valid just before", async () => {
    const t = makeTestApp();
    const a = await registerAgent(t, {
      verify: false,
      overrides: { owner_email: "a@example.com" },
    });
    const b = await registerAgent(t, {
      verify: false,
      overrides: { owner_email: "b@example.com" },
    });
    t.clock.advance(24 * 3_600_000 - 1);
    assert.equal(
      (await t.call("GET", `/api/verify-email?token=${t.mailer.lastToken(a.email)}`)).status,
      200,
    );
    t.clock.advance(1);
    const late = await t.call("GET", `/api/verify-email?token=${t.mailer.lastToken(b.email)}`);
    assert.equal(late.status, 400);
    assert.equal((await jsonOf(late)).code, "TOKEN_EXPIRED");
  });

  test("400 TOKEN_INVALID for an unknown token, VALIDATION_FAILED for none", async () => {
    const t = makeTestApp();
    const unknown = await t.call("GET", "/api/verify-email?token=not-a-token");
    assert.equal(unknown.status, 400);
    assert.equal((await jsonOf(unknown)).code, "TOKEN_INVALID");
    const missing = await t.call("GET", "/api/verify-email");
    assert.equal(missing.status, 400);
    assert.equal((await jsonOf(missing)).code, "VALIDATION_FAILED");
  });

  test("resend: 202 always; a pending agent gets a new link and the old one dies", async () => {
    const t = makeTestApp();
    const { email, agentId } = await registerAgent(t, {
      verify: false,
      overrides: { agent_name: "Mailer Bot" },
    });
    const oldToken = t.mailer.lastToken(email);
    const res = await t.call("POST", "/api/verify-email/resend", {
      body: { owner_email: email, agent_name: "mailer bot" },
    });
    assert.equal(res.status, 202);
    await new Promise((r) => setImmediate(r));
    const newToken = t.mailer.lastToken(email);
    assert.notEqual(newToken, oldToken);
    assert.equal(
      (await jsonOf(await t.call("GET", `/api/verify-email?token=${oldToken}`))).code,
      "TOKEN_USED",
    );
    const ok = await t.call("GET", `/api/verify-email?token=${newToken}`);
    assert.deepEqual(await jsonOf(ok), { status: "ok", agent_id: agentId });

    const sent = t.mailer.sent.length;
    const nobody = await t.call("POST", "/api/verify-email/resend", {
      body: { owner_email: "nobody@example.com", agent_name: "ghost" },
    });
    assert.equal(nobody.status, 202);
    const verifiedAgain = await t.call("POST", "/api/verify-email/resend", {
      body: { owner_email: email, agent_name: "Mailer Bot" },
    });
    assert.equal(verifiedAgain.status, 202);
    await new Promise((r) => setImmediate(r));
    assert.equal(t.mailer.sent.length, sent, "no mail for unknown or already verified agents");
  });
});
