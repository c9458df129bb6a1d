import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ACCESS_TOKEN_TYP, signAccessToken } from "../../src/crypto/access-token.js";
import { hashSecret } from "../../src/crypto/api-key.js";
import { signJwt } from "../../src/crypto/jwt.js";
import { PASSPORT_TYP } from "../../src/crypto/passport.js";
import { scryptPasswordHasher } from "../../src/crypto/password.js";
import { ephemeralKeyring } from "../../src/crypto/signing-keys.js";
import { entryOf } from "../../src/store/audit-log.js";
import {
  ADMIN_KEY,
  jsonOf,
  makeTestApp,
  registerAgent,
  type TestApp,
} from "../helpers/test-app.js";

const V1 = "/api/v1/auth";
const PASSWORD = "correct horse battery staple";

type Json = Record<string, unknown>;
type Tokens = {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
};

let counter = 0;

function signupBody(overrides: Json = {}): Json {
  counter++;
  return {
    email: `operator-${counter}@example.com`,
    password: PASSWORD,
    name: "Grace Hopper",
    organization: `Acme ${counter}`,
    ...overrides,
  };
}

/** The machine code of an error in either envelope (v1: error.type; legacy: code). */
function errorCode(json: Json): unknown {
  const error = json.error as Json | string;
  return typeof error === "object" ? error.type : json.code;
}

async function expectError(res: Response, status: number, code: string): Promise<Json> {
  const json = await jsonOf(res);
  assert.equal(res.status, status, JSON.stringify(json));
  assert.equal(errorCode(json), code, JSON.stringify(json));
  return json;
}

async function signup(t: TestApp, overrides: Json = {}) {
  const body = signupBody(overrides);
  const res = await t.call("POST", `${V1}/signup`, { body });
  const json = await jsonOf(res);
  assert.equal(res.status, 201, JSON.stringify(json));
  return { body, json } as {
    body: { email: string; password: string; name: string; organization: string };
    json: { operator: Json; organization: Json };
  };
}

async function login(t: TestApp, email: string, password = PASSWORD): Promise<Tokens> {
  const res = await t.call("POST", `${V1}/login`, { body: { email, password } });
  const json = await jsonOf(res);
  assert.equal(res.status, 200, JSON.stringify(json));
  return json as unknown as Tokens;
}

function refresh(t: TestApp, refreshToken: string) {
  return t.call("POST", `${V1}/refresh`, { body: { refresh_token: refreshToken } });
}

function me(t: TestApp, accessToken: string) {
  return t.call("GET", `${V1}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
}

function auditEntries(t: TestApp) {
  return [...t.store.audit.rows()].map(entryOf);
}

function segmentJson(token: string, index: number): Json {
  return JSON.parse(Buffer.from(token.split(".")[index]!, "base64url").toString()) as Json;
}

describe("POST /api/v1/auth/signup", () => {
  test("201 with the operator and the organization they own", async () => {
    const t = makeTestApp();
    const { body, json } = await signup(t, { email: "Grace.Hopper@Example.COM" });
    const { operator, organization } = json;
    assert.match(String(operator.id), /^opr_[0-9A-Za-z]{22}$/);
    assert.deepEqual(operator, {
      id: operator.id,
      email: "grace.hopper@example.com",
      name: "Grace Hopper",
      email_verified: false,
      created_at: "2026-11-23T12:00:00.000Z",
    });
    assert.match(String(organization.id), /^org_[0-9A-Za-z]{22}$/);
    assert.deepEqual(organization, {
      id: organization.id,
      name: body.organization,
      role: "owner",
      created_at: "2026-11-23T12:00:00.000Z",
    });
    const membership = t.store.db
      .prepare("SELECT role FROM memberships WHERE org_id = ? AND operator_id = ?")
      .get(organization.id, operator.id) as { role: string } | undefined;
    assert.deepEqual(membership, { role: "owner" });
  });

  test("the password is stored only as a scrypt hash", async () => {
    const t = makeTestApp();
    const { json } = await signup(t);
    const row = t.store.db
      .prepare("SELECT * FROM operators WHERE id = ?")
      .get(json.operator.id) as Json;
    assert.match(
      String(row.password_hash),
      /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
    );
    assert.ok(!JSON.stringify(row).includes(PASSWORD), "no column holds the password");
    assert.ok(!t.logs.join("\n").includes(PASSWORD), "no log line holds the password");
  });

  test("signup is audited (operator.signed_up, organization.created) without personal data", async () => {
    const t = makeTestApp();
    const { body, json } = await signup(t);
    const entries = auditEntries(t);
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor]),
      [
        ["operator.signed_up", json.operator.id],
        ["organization.created", json.operator.id],
      ],
    );
    assert.equal(entries[1]!.data.org_id, json.organization.id);
    const text = JSON.stringify(entries);
    assert.ok(!text.includes(body.email) && !text.includes(PASSWORD) && !text.includes("Grace"));
  });

  test("409 CONFLICT for an e-mail already signed up, whatever its case; nothing else is written", async () => {
    const t = makeTestApp();
    await signup(t, { email: "dup@example.com" });
    const orgs = () => t.store.db.prepare("SELECT count(*) AS n FROM organizations").get();
    const before = { orgs: orgs(), audit: t.store.audit.head().size };
    const res = await t.call("POST", `${V1}/signup`, {
      body: signupBody({ email: "DUP@Example.com" }),
    });
    await expectError(res, 409, "CONFLICT");
    assert.deepEqual({ orgs: orgs(), audit: t.store.audit.head().size }, before);
  });

  test("400 VALIDATION_FAILED names each bad field", async () => {
    const t = makeTestApp();
    const cases: [Json, string, string?][] = [
      [signupBody({ password: "1234567" }), "password", "at least 8"],
      [signupBody({ password: "x".repeat(257) }), "password", "at most 256"],
      [signupBody({ email: "not-an-email" }), "email"],
      [signupBody({ name: "" }), "name"],
      [signupBody({ organization: "o".repeat(101) }), "organization"],
      [signupBody({ role: "admin" }), "role", "unknown field"],
    ];
    for (const [body, field, message] of cases) {
      const res = await t.call("POST", `${V1}/signup`, { body });
      const json = await expectError(res, 400, "VALIDATION_FAILED");
      const details = (json.error as Json).details as { field: string; message: string }[];
      const detail = details.find((d) => d.field === field);
      assert.ok(detail, `${field}: ${JSON.stringify(details)}`);
      if (message !== undefined) assert.match(detail.message, new RegExp(message));
    }
    const { name: _, ...missingName } = signupBody();
    const res = await t.call("POST", `${V1}/signup`, { body: missingName });
    const json = await expectError(res, 400, "VALIDATION_FAILED");
    assert.deepEqual((json.error as Json).details, [{ field: "name", message: "is required" }]);
    assert.equal(t.store.db.prepare("SELECT count(*) AS n FROM operators").pluck().get(), 0);
  });

  test("an 8-character password is enough, and passwords are not trimmed", async () => {
    const t = makeTestApp();
    const { body } = await signup(t, { password: " 123456 " });
    await login(t, body.email, " 123456 ");
    const res = await t.call("POST", `${V1}/login`, {
      body: { email: body.email, password: "123456" },
    });
    await expectError(res, 401, "INVALID_CREDENTIALS");
  });
});

describe("POST /api/v1/auth/login", () => {
  test("200 with an access token, a refresh token, Bearer and 900 s", async () => {
    const t = makeTestApp();
    const { body, json } = await signup(t);
    const tokens = await login(t, body.email.toUpperCase());
    assert.deepEqual(Object.keys(tokens).sort(), [
      "access_token",
      "expires_in",
      "refresh_token",
      "token_type",
    ]);
    assert.equal(tokens.token_type, "Bearer");
    assert.equal(tokens.expires_in, 900);
    assert.match(tokens.refresh_token, /^rt_[A-Za-z0-9_-]{43}$/);
    const header = segmentJson(tokens.access_token, 0);
    assert.deepEqual(header, { alg: "EdDSA", typ: ACCESS_TOKEN_TYP, kid: t.keyring.active.kid });
    const claims = segmentJson(tokens.access_token, 1);
    assert.equal(claims.sub, json.operator.id);
    assert.equal(claims.aud, "aiegis:operator-api");
    assert.equal(claims.iss, "https://gateway.test");
    assert.match(String(claims.sid), /^ses_[0-9A-Za-z]{22}$/);
    assert.equal(claims.exp, (claims.iat as number) + 900);
  });

  test("the refresh token is stored only as its SHA-256", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const tokens = await login(t, body.email);
    const rows = t.store.db.prepare("SELECT * FROM refresh_tokens").all() as Json[];
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]!.hash, hashSecret(tokens.refresh_token));
    const dump = JSON.stringify([
      rows.map((r) => ({ ...r, hash: Buffer.from(r.hash as Buffer).toString("latin1") })),
      t.store.db.prepare("SELECT * FROM operator_sessions").all(),
      auditEntries(t),
    ]);
    assert.ok(!dump.includes(tokens.refresh_token.slice(3)), "the token itself is nowhere");
    assert.ok(!t.logs.join("\n").includes(tokens.refresh_token.slice(3)), "nor in the logs");
    assert.ok(!t.logs.join("\n").includes(tokens.access_token), "nor the access token");
  });

  test("401 INVALID_CREDENTIALS, same message, for a wrong password and an unknown e-mail", async () => {
    const t = makeTestApp();
    const { body, json } = await signup(t);
    const attempts = [
      { email: body.email, password: "wrong password!" },
      { email: "nobody@example.com", password: PASSWORD },
    ];
    const messages = new Set<unknown>();
    for (const attempt of attempts) {
      const res = await t.call("POST", `${V1}/login`, { body: attempt });
      const error = await expectError(res, 401, "INVALID_CREDENTIALS");
      assert.equal((error.error as Json).decision, "DENY");
      messages.add((error.error as Json).message);
    }
    assert.equal(messages.size, 1);
    const failures = auditEntries(t).filter((e) => e.action === "operator.login_failed");
    assert.equal(failures.length, 2);
    assert.equal(failures[0]!.actor, json.operator.id);
    assert.equal(failures[1]!.actor, null);
    assert.match(String(failures[1]!.data.email_sha256), /^[0-9a-f]{64}$/);
    const text = JSON.stringify(failures);
    for (const secret of [body.email, "nobody@example.com", PASSWORD, "wrong password!"]) {
      assert.ok(!text.includes(secret), `the audit log does not hold ${secret}`);
    }
  });

  test("400 for a missing password or a bad e-mail", async () => {
    const t = makeTestApp();
    for (const body of [{ email: "a@example.com" }, { email: "nope", password: PASSWORD }]) {
      const res = await t.call("POST", `${V1}/login`, { body });
      await expectError(res, 400, "VALIDATION_FAILED");
    }
  });

  test("a hash made with weaker parameters is replaced at the next successful login", async () => {
    const t = makeTestApp();
    const { body, json } = await signup(t);
    const weak = await scryptPasswordHasher({ logN: 10, r: 1, p: 1 }).hash(PASSWORD);
    const stored = () =>
      t.store.db
        .prepare("SELECT password_hash FROM operators WHERE id = ?")
        .pluck()
        .get(json.operator.id) as string;
    t.store.db
      .prepare("UPDATE operators SET password_hash = ? WHERE id = ?")
      .run(weak, json.operator.id);
    await login(t, body.email);
    assert.match(stored(), /^scrypt\$10\$8\$1\$/);
    await login(t, body.email);
  });

  test("the legacy /api/auth/login answers with the legacy envelope", async () => {
    const t = makeTestApp();
    const res = await t.call("POST", "/api/auth/login", {
      body: { email: "nobody@example.com", password: PASSWORD },
    });
    const json = await expectError(res, 401, "INVALID_CREDENTIALS");
    assert.equal(json.error, "Invalid email or password");
  });
});

describe("GET /api/v1/auth/me", () => {
  test("the operator and their organizations with roles", async () => {
    const t = makeTestApp();
    const { json } = await signup(t);
    const tokens = await login(t, String(json.operator.email));
    const res = await me(t, tokens.access_token);
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), {
      operator: json.operator,
      organizations: [json.organization],
    });
  });

  test("401 without a token, with an API key, with garbage", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    await expectError(await t.call("GET", `${V1}/me`), 401, "UNAUTHENTICATED");
    for (const token of [agent.apiKey, ADMIN_KEY, "a.b.c", agent.tag]) {
      await expectError(await me(t, token), 401, "INVALID_ACCESS_TOKEN");
    }
  });

  test("tampered, unsigned, other-typ and foreign-key tokens are refused", async () => {
    const t = makeTestApp();
    const a = await signup(t);
    const b = await signup(t);
    const tokens = await login(t, a.body.email);
    const [h, p, s] = tokens.access_token.split(".") as [string, string, string];
    const claims = segmentJson(tokens.access_token, 1);
    const asB = Buffer.from(JSON.stringify({ ...claims, sub: b.json.operator.id })).toString(
      "base64url",
    );
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: ACCESS_TOKEN_TYP })).toString(
      "base64url",
    );
    const forged = [
      `${h}.${asB}.${s}`,
      `${none}.${p}.`,
      `${none}.${p}.${s}`,
      signJwt(PASSPORT_TYP, claims, t.keyring.active),
      signJwt("JWT", claims, t.keyring.active),
      signJwt(ACCESS_TOKEN_TYP, claims, ephemeralKeyring(t.clock.now()).active),
      signJwt(ACCESS_TOKEN_TYP, { ...claims, aud: "aiegis:agent-api" }, t.keyring.active),
    ];
    for (const token of forged) {
      await expectError(await me(t, token), 401, "INVALID_ACCESS_TOKEN");
    }
    // Re-signed by the gateway's own key, the same claims pass: the refusals are the forgeries'.
    const resigned = signJwt(ACCESS_TOKEN_TYP, claims, t.keyring.active);
    assert.equal((await me(t, resigned)).status, 200);
  });

  test("a token naming another operator's session is refused", async () => {
    const t = makeTestApp();
    const a = await signup(t);
    const b = await signup(t);
    const tokensA = await login(t, a.body.email);
    const sidA = String(segmentJson(tokensA.access_token, 1).sid);
    const { token } = signAccessToken(
      {
        issuer: t.config.publicUrl,
        operatorId: String(b.json.operator.id),
        sessionId: sidA,
        now: t.clock.now(),
        ttlS: 900,
      },
      t.keyring.active,
    );
    await expectError(await me(t, token), 401, "INVALID_ACCESS_TOKEN");
  });

  test("401 ACCESS_TOKEN_EXPIRED after 900 s plus 30 s leeway; a refresh gives a working one", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const tokens = await login(t, body.email);
    t.clock.advance(929_000);
    assert.equal((await me(t, tokens.access_token)).status, 200);
    t.clock.advance(1_000);
    const json = await expectError(await me(t, tokens.access_token), 401, "ACCESS_TOKEN_EXPIRED");
    assert.equal((json.error as Json).decision, "DENY");
    const res = await refresh(t, tokens.refresh_token);
    assert.equal(res.status, 200);
    const renewed = (await jsonOf(res)) as unknown as Tokens;
    assert.equal((await me(t, renewed.access_token)).status, 200);
  });
});

describe("tokens of one kind never stand in for the other", () => {
  test("a passport as Bearer on /api/v1/auth/me is 401", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const issued = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": ADMIN_KEY },
      body: { agent_id: agent.agentId, operator: "Acme", jurisdiction: "EU", policy: "default" },
    });
    assert.equal(issued.status, 201);
    const passport = String((await jsonOf(issued)).passport);
    const verified = await t.call("POST", "/api/agent/verify", { body: { passport } });
    assert.equal((await jsonOf(verified)).valid, true, "the passport itself is good");
    await expectError(await me(t, passport), 401, "INVALID_ACCESS_TOKEN");
  });

  test("an access token is not a valid passport at /api/agent/verify, nor an API key", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const tokens = await login(t, body.email);
    const res = await t.call("POST", "/api/agent/verify", {
      body: { passport: tokens.access_token },
    });
    assert.equal(res.status, 200);
    const verdict = await jsonOf(res);
    assert.equal(verdict.valid, false, JSON.stringify(verdict));
    const asKey = await t.call("GET", "/api/agents/me", {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    await expectError(asKey, 401, "INVALID_API_KEY");
  });
});

describe("POST /api/v1/auth/refresh", () => {
  test("rotates: a new pair, and the old refresh token is spent", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const first = await login(t, body.email);
    t.clock.advance(1_000);
    const res = await refresh(t, first.refresh_token);
    assert.equal(res.status, 200);
    const second = (await jsonOf(res)) as unknown as Tokens;
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.notEqual(second.access_token, first.access_token);
    assert.equal(second.token_type, "Bearer");
    assert.equal(second.expires_in, 900);
    const sid = (token: string) => segmentJson(token, 1).sid;
    assert.equal(sid(second.access_token), sid(first.access_token), "same session");
    const spent = t.store.db
      .prepare("SELECT used_at FROM refresh_tokens WHERE hash = ?")
      .pluck()
      .get(hashSecret(first.refresh_token));
    assert.equal(spent, t.clock.now());
    assert.equal((await me(t, second.access_token)).status, 200);
  });

  test("a spent token presented again: 401 REFRESH_TOKEN_REUSED and the whole family ends", async () => {
    const t = makeTestApp();
    const { body, json } = await signup(t);
    const first = await login(t, body.email);
    const second = (await jsonOf(await refresh(t, first.refresh_token))) as unknown as Tokens;
    const other = await login(t, body.email);

    await expectError(await refresh(t, first.refresh_token), 401, "REFRESH_TOKEN_REUSED");

    await expectError(await refresh(t, second.refresh_token), 401, "INVALID_REFRESH_TOKEN");
    await expectError(await me(t, second.access_token), 401, "INVALID_ACCESS_TOKEN");
    await expectError(await me(t, first.access_token), 401, "INVALID_ACCESS_TOKEN");
    // Another session of the same operator is a different family: untouched.
    assert.equal((await me(t, other.access_token)).status, 200);
    assert.equal((await refresh(t, other.refresh_token)).status, 200);

    const revoked = auditEntries(t).filter((e) => e.action === "operator.session_revoked");
    assert.equal(revoked.length, 1);
    assert.equal(revoked[0]!.actor, json.operator.id);
    assert.equal(revoked[0]!.data.reason, "refresh_token_reused");
    assert.equal(revoked[0]!.data.session_id, segmentJson(first.access_token, 1).sid);
    // A third presentation is plainly invalid: the family is already gone.
    await expectError(await refresh(t, first.refresh_token), 401, "INVALID_REFRESH_TOKEN");
  });

  test("401 INVALID_REFRESH_TOKEN for unknown, malformed and expired tokens; 400 without one", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const tokens = await login(t, body.email);
    for (const token of [`rt_${"A".repeat(43)}`, "rt_short", tokens.access_token]) {
      await expectError(await refresh(t, token), 401, "INVALID_REFRESH_TOKEN");
    }
    await expectError(
      await t.call("POST", `${V1}/refresh`, { body: {} }),
      400,
      "VALIDATION_FAILED",
    );
    t.clock.advance(30 * 86_400_000);
    await expectError(await refresh(t, tokens.refresh_token), 401, "INVALID_REFRESH_TOKEN");
  });

  test("a token just before its 30-day expiry still rotates", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const tokens = await login(t, body.email);
    t.clock.advance(30 * 86_400_000 - 1);
    assert.equal((await refresh(t, tokens.refresh_token)).status, 200);
  });
});

describe("POST /api/v1/auth/logout", () => {
  test("ends the session: its refresh and access tokens are refused at once", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const tokens = await login(t, body.email);
    const other = await login(t, body.email);
    const res = await t.call("POST", `${V1}/logout`, {
      body: { refresh_token: tokens.refresh_token },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), { logged_out: true });
    await expectError(await me(t, tokens.access_token), 401, "INVALID_ACCESS_TOKEN");
    await expectError(await refresh(t, tokens.refresh_token), 401, "INVALID_REFRESH_TOKEN");
    assert.equal((await me(t, other.access_token)).status, 200, "other sessions stay");
    const again = await t.call("POST", `${V1}/logout`, {
      body: { refresh_token: tokens.refresh_token },
    });
    await expectError(again, 401, "INVALID_REFRESH_TOKEN");
    const revoked = auditEntries(t).filter((e) => e.action === "operator.session_revoked");
    assert.deepEqual(
      revoked.map((e) => e.data.reason),
      ["logout"],
    );
  });

  test("with an access token alone, that token's session ends", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const tokens = await login(t, body.email);
    const res = await t.call("POST", `${V1}/logout`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(res.status, 200);
    await expectError(await me(t, tokens.access_token), 401, "INVALID_ACCESS_TOKEN");
    await expectError(await refresh(t, tokens.refresh_token), 401, "INVALID_REFRESH_TOKEN");
  });

  test("401 for an unknown refresh token, 400 with no credential at all", async () => {
    const t = makeTestApp();
    await expectError(
      await t.call("POST", `${V1}/logout`, { body: { refresh_token: `rt_${"B".repeat(43)}` } }),
      401,
      "INVALID_REFRESH_TOKEN",
    );
    await expectError(await t.call("POST", `${V1}/logout`, { body: {} }), 400, "VALIDATION_FAILED");
  });
});

describe("audit chain", () => {
  test("after signups, failures, rotations, reuse and logout the chain still verifies", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    await t.call("POST", `${V1}/login`, { body: { email: body.email, password: "nope nope" } });
    const first = await login(t, body.email);
    await refresh(t, first.refresh_token);
    await refresh(t, first.refresh_token);
    const second = await login(t, body.email);
    await t.call("POST", `${V1}/logout`, { body: { refresh_token: second.refresh_token } });
    const actions = auditEntries(t).map((e) => e.action);
    assert.deepEqual(actions, [
      "operator.signed_up",
      "organization.created",
      "operator.login_failed",
      "operator.session_revoked",
      "operator.session_revoked",
    ]);
    const res = await t.call("GET", "/api/audit/verify", { headers: { "x-api-key": ADMIN_KEY } });
    const verdict = await jsonOf(res);
    assert.equal(res.status, 200);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    assert.equal(verdict.entries, actions.length);
  });
});

describe("operator e-mail verification", () => {
  const verify = (t: ReturnType<typeof makeTestApp>, token: string) =>
    t.call("GET", `/api/v1/auth/verify-email?token=${encodeURIComponent(token)}`);

  test("signup mails a single-use link; following it verifies the address", async () => {
    const t = makeTestApp();
    await signup(t, { email: "ada@example.com" });
    const mail = t.mailer.sent.at(-1);
    assert.equal(mail?.to, "ada@example.com");
    assert.ok(mail?.link.startsWith("https://gateway.test/api/v1/auth/verify-email?token="));
    const token = t.mailer.lastToken("ada@example.com");
    const row = t.store.db.prepare("SELECT hash FROM operator_email_tokens").get() as {
      hash: Buffer;
    };
    assert.ok(!row.hash.toString("latin1").includes(token), "only the token's hash is stored");
    const ok = await verify(t, token);
    assert.equal(ok.status, 200);
    assert.equal((await jsonOf(ok)).status, "ok");
    const again = await verify(t, token);
    assert.equal(again.status, 400);
    assert.equal(((await jsonOf(again)).error as Json).type, "TOKEN_USED");
    const unknown = await verify(t, "nope");
    assert.equal(((await jsonOf(unknown)).error as Json).type, "TOKEN_INVALID");
    assert.equal(
      t.store.audit.query({ action: "operator.verified" }, 0, 10).length,
      1,
      "verified once, audited once",
    );
    assert.notEqual(t.store.operators.byEmail("ada@example.com")?.verifiedAt, null);
  });

  test("a link expires after 24 hours; resending retires the old one and answers 202 for anyone", async () => {
    const t = makeTestApp();
    await signup(t, { email: "bob@example.com" });
    const first = t.mailer.lastToken("bob@example.com");
    t.clock.advance(24 * 3_600_000);
    const late = await verify(t, first);
    assert.equal(((await jsonOf(late)).error as Json).type, "TOKEN_EXPIRED");
    const sent = t.mailer.sent.length;
    for (const email of ["bob@example.com", "nobody@example.com"]) {
      const res = await t.call("POST", "/api/v1/auth/verify-email/resend", { body: { email } });
      assert.equal(res.status, 202);
    }
    // Mails go out without being awaited by the request.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(t.mailer.sent.length, sent + 1, "one new mail, to the address that signed up");
    const second = t.mailer.lastToken("bob@example.com");
    assert.notEqual(second, first);
    assert.equal((await verify(t, second)).status, 200);
    // A verified address gets no more mails.
    await t.call("POST", "/api/v1/auth/verify-email/resend", {
      body: { email: "bob@example.com" },
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(t.mailer.sent.length, sent + 1);
  });
});

describe("passwords: change and reset", () => {
  const errorType = async (res: Response) => ((await jsonOf(res)).error as Json).type;

  test("changing the password needs the current one and ends every other session", async () => {
    const t = makeTestApp();
    const { body } = await signup(t);
    const here = await login(t, body.email);
    const elsewhere = await login(t, body.email);
    const change = (current: string, next: string) =>
      t.call("POST", `${V1}/password`, {
        headers: { authorization: `Bearer ${here.access_token}` },
        body: { current_password: current, new_password: next },
      });
    const wrong = await change("not my password", "a brand new passphrase");
    assert.equal(wrong.status, 401);
    assert.equal(await errorType(wrong), "INVALID_CREDENTIALS");
    const short = await change(PASSWORD, "short");
    assert.equal(short.status, 400);
    assert.equal((await change(PASSWORD, "a brand new passphrase")).status, 200);
    // This session goes on; the other one (and its refresh token) is over.
    assert.equal((await me(t, here.access_token)).status, 200);
    assert.equal((await me(t, elsewhere.access_token)).status, 401);
    assert.equal((await refresh(t, elsewhere.refresh_token)).status, 401);
    const old = await t.call("POST", `${V1}/login`, {
      body: { email: body.email, password: PASSWORD },
    });
    assert.equal(old.status, 401);
    await login(t, body.email, "a brand new passphrase");
    const actions = auditEntries(t).map((e) => e.action);
    assert.ok(actions.includes("operator.password_changed"));
    const noToken = await t.call("POST", `${V1}/password`, {
      body: { current_password: PASSWORD, new_password: "whatever it is now" },
    });
    assert.equal(noToken.status, 401);
  });

  test("a mailed reset token sets a new password once, ends every session and proves the address", async () => {
    const t = makeTestApp();
    // Someone signed up first with Dana's address; Dana never saw the verification mail.
    const { body } = await signup(t, { email: "dana@example.com" });
    const squatter = await login(t, body.email);
    const sent = t.mailer.sent.length;
    for (const email of ["dana@example.com", "nobody@example.com"]) {
      const res = await t.call("POST", `${V1}/password/forgot`, { body: { email } });
      assert.equal(res.status, 202);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(t.mailer.sent.length, sent + 1, "one mail, to the address that signed up");
    const token = t.mailer.lastToken("dana@example.com");
    const reset = (tok: string) =>
      t.call("POST", `${V1}/password/reset`, {
        body: { token: tok, new_password: "dana's own passphrase" },
      });
    const ok = await reset(token);
    assert.equal(ok.status, 200);
    const operatorId = (await jsonOf(ok)).operator_id;
    // The squatter's session is over, and the old password with it.
    assert.equal((await me(t, squatter.access_token)).status, 401);
    assert.equal((await refresh(t, squatter.refresh_token)).status, 401);
    const old = await t.call("POST", `${V1}/login`, {
      body: { email: body.email, password: PASSWORD },
    });
    assert.equal(old.status, 401);
    const dana = await login(t, body.email, "dana's own passphrase");
    const profile = (await jsonOf(await me(t, dana.access_token))).operator as Json;
    assert.equal(profile.id, operatorId);
    assert.equal(profile.email_verified, true, "the reset link reached the mailbox");
    // A token works once, and not after an hour.
    const again = await reset(token);
    assert.equal(again.status, 400);
    assert.equal(await errorType(again), "TOKEN_INVALID");
    await t.call("POST", `${V1}/password/forgot`, { body: { email: body.email } });
    await new Promise((resolve) => setImmediate(resolve));
    const late = t.mailer.lastToken(body.email);
    t.clock.advance(3_600_000);
    assert.equal(await errorType(await reset(late)), "TOKEN_INVALID");
    const actions = auditEntries(t).map((e) => e.action);
    assert.ok(actions.includes("operator.password_reset"));
    assert.ok(actions.includes("operator.verified"));
  });
});
