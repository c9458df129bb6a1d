import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { addSigningKey, DirectoryKeyring } from "../../src/crypto/signing-keys.js";
import { databasePath, openStore } from "../../src/store/store.js";
import { tempDirs } from "../helpers/temp-dir.js";
import {
  ADMIN_KEY,
  jsonOf,
  makeTestApp,
  type Registered,
  registerAgent,
  type TestApp,
} from "../helpers/test-app.js";

type Json = Record<string, unknown>;

const tempDir = tempDirs("aiegis-passports-");

const issueBody = (agent: Registered, extra: Json = {}): Json => ({
  agent_id: agent.agentId,
  operator: "Acme Corp",
  jurisdiction: "EU",
  policy: "default",
  ...extra,
});

async function issue(t: TestApp, agent: Registered, extra: Json = {}, key = agent.apiKey) {
  return t.call("POST", "/api/agent/issue", {
    headers: { "x-api-key": key },
    body: issueBody(agent, extra),
  });
}

async function issued(t: TestApp, agent: Registered, extra: Json = {}) {
  const res = await issue(t, agent, extra);
  const body = await jsonOf(res);
  assert.equal(res.status, 201, JSON.stringify(body));
  return body as { passport: string; passport_id: string; kid: string; expires_at: string };
}

async function verify(t: TestApp, passport: unknown) {
  const res = await t.call("POST", "/api/agent/verify", { body: { passport } });
  const body = await jsonOf(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

async function revoke(t: TestApp, key: string, body: Json) {
  return t.call("POST", "/registry/revoke", { headers: { "x-api-key": key }, body });
}

function protect(t: TestApp, agent: Registered, passport: string | undefined, body: Json) {
  const headers: Record<string, string> = { "x-api-key": agent.apiKey };
  if (passport !== undefined) headers["x-agent-passport"] = passport;
  return t.call("POST", "/api/protect", { headers, body });
}

async function quarantine(t: TestApp, agentId: string, action = "quarantine") {
  const res = await t.call("POST", `/api/agents/${agentId}/${action}`, {
    headers: { "x-api-key": ADMIN_KEY },
    body: { reason: "test" },
  });
  assert.equal(res.status, 200);
}

async function expectValidation(res: Response, field: string) {
  const body = await jsonOf(res);
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.code, "VALIDATION_FAILED");
  const details = body.details as { field: string }[];
  assert.ok(
    details.some((d) => d.field === field || d.field.startsWith(`${field}.`)),
    JSON.stringify(details),
  );
}

describe("POST /api/agent/issue", () => {
  test("201 with the passport, its id, kid and expiry; the passport verifies", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const res = await issue(t, agent, { ttl_s: 600 });
    assert.equal(res.status, 201);
    const body = await jsonOf(res);
    assert.match(String(body.passport), /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.match(String(body.passport_id), /^psp_\w{22}$/);
    assert.equal(body.kid, t.keyring.active.kid);
    assert.equal(body.expires_at, new Date(t.clock.now() + 600_000).toISOString());
    const verdict = await verify(t, body.passport);
    assert.equal(verdict.valid, true);
    assert.equal(verdict.agent_id, agent.agentId);
    assert.equal(verdict.passport_id, body.passport_id);
    assert.equal(verdict.operator, "Acme Corp");
    assert.equal(verdict.jurisdiction, "EU");
    assert.equal(verdict.expires_at, body.expires_at);
    assert.equal((verdict.policy as Json).id, "default");
  });

  test("each shipped bundle can be named; the passport carries its rules and hash", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const hashes = new Set<string>();
    for (const name of ["default", "read-only", "eu-strict"]) {
      const { passport } = await issued(t, agent, { policy: name });
      const verdict = await verify(t, passport);
      const policy = verdict.policy as { id: string; hash: string; rules: Json };
      assert.equal(policy.id, name);
      assert.equal(policy.rules.id, name);
      assert.equal(policy.rules.$comment, undefined, "comments are not part of the rules");
      assert.match(policy.hash, /^[0-9a-f]{64}$/);
      hashes.add(policy.hash);
    }
    assert.equal(hashes.size, 3);
  });

  test("an inline bundle is validated by the bundle schema and carried as sent", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const inline = { id: "calendar-only", actions: { allow: ["calendar_*"] } };
    const { passport } = await issued(t, agent, { policy: inline });
    const policy = (await verify(t, passport)).policy as { id: string; rules: Json };
    assert.equal(policy.id, "calendar-only");
    assert.deepEqual((policy.rules.actions as Json).allow, ["calendar_*"]);
    await expectValidation(await issue(t, agent, { policy: { id: "x", bogus: true } }), "policy");
    await expectValidation(
      await issue(t, agent, { policy: { id: "x", thresholds: { block: 2 } } }),
      "policy.thresholds.block",
    );
    await expectValidation(
      await issue(t, agent, { policy: { id: "x", layers: { nonsense: { mode: "off" } } } }),
      "policy",
    );
    const proto = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": agent.apiKey, "content-type": "application/json" },
      raw: JSON.stringify(issueBody(agent, { policy: "__P__" })).replace(
        '"__P__"',
        '{"__proto__":{"actions":{"allow":["*"]}},"id":"sneaky"}',
      ),
    });
    await expectValidation(proto, "policy.__proto__");
    // A shipped bundle's id cannot name other rules: the decision log would lie.
    await expectValidation(
      await issue(t, agent, { policy: { id: "read-only", actions: { allow: ["*"] } } }),
      "policy.id",
    );
  });

  test("400 for an unknown bundle name, a bad jurisdiction, a bad ttl or an unknown field", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    await expectValidation(await issue(t, agent, { policy: "anything-goes" }), "policy");
    await expectValidation(await issue(t, agent, { policy: 42 }), "policy");
    for (const jurisdiction of ["Europe", "XX", "E", "", "U S", 7]) {
      await expectValidation(await issue(t, agent, { jurisdiction }), "jurisdiction");
    }
    for (const ttl_s of [59, 30 * 86_400 + 1, 1.5, "3600"]) {
      await expectValidation(await issue(t, agent, { ttl_s }), "ttl_s");
    }
    await expectValidation(await issue(t, agent, { scope: "all" }), "scope");
    await expectValidation(await issue(t, agent, { operator: "" }), "operator");
  });

  test("jurisdictions: regions, countries and subdivisions, normalised to upper case", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    for (const [sent, kept] of [
      ["eu", "EU"],
      ["US", "US"],
      ["de", "DE"],
      ["US-CA", "US-CA"],
      ["GLOBAL", "GLOBAL"],
    ]) {
      const { passport } = await issued(t, agent, { jurisdiction: sent });
      assert.equal((await verify(t, passport)).jurisdiction, kept);
    }
  });

  test("an agent key may issue for its owner's other agents; an admin key for any agent", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const sibling = await registerAgent(t);
    const stranger = await registerAgent(t, { overrides: { owner_email: "eve@example.org" } });
    const res = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": agent.apiKey },
      body: issueBody(sibling),
    });
    assert.equal(res.status, 201);
    assert.equal((await verify(t, (await jsonOf(res)).passport)).agent_id, sibling.agentId);
    const foreign = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": agent.apiKey },
      body: issueBody(stranger),
    });
    assert.equal(foreign.status, 403);
    assert.equal((await jsonOf(foreign)).error, "agent_id mismatch");
    const admin = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": ADMIN_KEY },
      body: issueBody(stranger),
    });
    assert.equal(admin.status, 201);
  });

  test("404 for an admin naming an unknown agent", async () => {
    const t = makeTestApp();
    const res = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": ADMIN_KEY },
      body: issueBody({ agentId: "agt_0000000000000000000000" } as Registered),
    });
    assert.equal(res.status, 404);
    assert.equal((await jsonOf(res)).code, "NOT_FOUND");
  });

  test("403 for an agent that is pending verification or quarantined", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const pending = await registerAgent(t, { verify: false });
    const res = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": agent.apiKey },
      body: issueBody(pending),
    });
    assert.equal(res.status, 403);
    assert.equal((await jsonOf(res)).code, "EMAIL_UNVERIFIED");
    const sibling = await registerAgent(t);
    await quarantine(t, sibling.agentId);
    const blocked = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": agent.apiKey },
      body: issueBody(sibling),
    });
    assert.equal(blocked.status, 403);
    const body = await jsonOf(blocked);
    assert.equal(body.code, "AGENT_QUARANTINED");
    assert.equal(body.decision, "DENY");
  });

  test("an inline bundle too large for a passport header is a 400, and nothing is stored", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const globs = Array.from({ length: 120 }, (_, i) => `tool_${i}_${"x".repeat(40)}`);
    const res = await issue(t, agent, { policy: { id: "huge", actions: { allow: globs } } });
    await expectValidation(res, "policy");
    const count = t.store.db.prepare("SELECT COUNT(*) FROM passports").pluck().get();
    assert.equal(count, 0);
  });

  test("only the token's hash is stored, never the token", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const { passport, passport_id } = await issued(t, agent);
    const row = t.store.db.prepare("SELECT * FROM passports WHERE id = ?").get(passport_id) as Json;
    assert.ok(row);
    for (const value of Object.values(row)) assert.notEqual(value, passport);
    assert.ok(!t.logs.some((line) => line.includes(passport)), "no log line holds the token");
  });
});

describe("POST /api/agent/verify", () => {
  test("valid:false with a reason for each kind of bad passport", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const { passport } = await issued(t, agent);
    const [h, p, s] = passport.split(".") as [string, string, string];
    const flipped = Buffer.from(s, "base64url");
    flipped[5]! ^= 1;
    assert.deepEqual(await verify(t, `${h}.${p}.${flipped.toString("base64url")}`), {
      valid: false,
      reason: "bad_signature",
    });
    assert.deepEqual(await verify(t, "not-a-token"), { valid: false, reason: "malformed" });
    assert.deepEqual(await verify(t, agent.tag), { valid: false, reason: "malformed" });
    const other = makeTestApp();
    const stranger = await registerAgent(other);
    const foreignPassport = (await issued(other, stranger)).passport;
    assert.deepEqual(await verify(t, foreignPassport), { valid: false, reason: "unknown_key" });
  });

  test("expired once exp plus 60 s has passed; not_yet_valid when the clock is behind", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const { passport } = await issued(t, agent, { ttl_s: 120 });
    assert.equal((await verify(t, passport)).valid, true);
    t.clock.advance(120_000 + 59_000);
    assert.equal((await verify(t, passport)).valid, true, "within the leeway");
    t.clock.advance(1_000);
    assert.deepEqual(await verify(t, passport), { valid: false, reason: "expired" });
    t.clock.advance(-(120_000 + 60_000) - 61_000);
    assert.deepEqual(await verify(t, passport), { valid: false, reason: "not_yet_valid" });
  });

  test("agent_quarantined while the agent is quarantined, valid again when lifted", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const { passport } = await issued(t, agent);
    assert.equal((await verify(t, passport)).valid, true);
    await quarantine(t, agent.agentId);
    assert.deepEqual(await verify(t, passport), { valid: false, reason: "agent_quarantined" });
    await quarantine(t, agent.agentId, "unquarantine");
    assert.equal((await verify(t, passport)).valid, true);
  });

  test("a passport this gateway has no record of is not honoured", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const { passport, passport_id } = await issued(t, agent);
    t.store.db.prepare("DELETE FROM passports WHERE id = ?").run(passport_id);
    assert.deepEqual(await verify(t, passport), { valid: false, reason: "revoked" });
  });

  test("400 for a missing or non-string passport or an unknown field; public (no key)", async () => {
    const t = makeTestApp();
    for (const body of [{}, { passport: 1 }, { passport: null }, { passport: "x", extra: 1 }]) {
      const res = await t.call("POST", "/api/agent/verify", { body });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const empty = await t.call("POST", "/api/agent/verify", {});
    assert.equal(empty.status, 400);
    assert.equal((await jsonOf(empty)).code, "BODY_REQUIRED");
    const big = await t.call("POST", "/api/agent/verify", {
      body: { passport: "a".repeat(20_000) },
    });
    assert.equal(big.status, 413);
  });
});

describe("POST /registry/revoke", () => {
  test("revokes one passport: the next verify fails, other passports stay valid", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const first = await issued(t, agent);
    const second = await issued(t, agent);
    assert.equal((await verify(t, first.passport)).valid, true, "verified and cached");
    const res = await revoke(t, agent.apiKey, {
      agent_id: agent.agentId,
      passport_id: first.passport_id,
      reason: "leaked in a log",
    });
    const body = await jsonOf(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.revoked, 1);
    assert.deepEqual(body.passport_ids, [first.passport_id]);
    assert.deepEqual(await verify(t, first.passport), { valid: false, reason: "revoked" });
    assert.equal((await verify(t, second.passport)).valid, true);
    const again = await jsonOf(
      await revoke(t, agent.apiKey, {
        agent_id: agent.agentId,
        passport_id: first.passport_id,
        reason: "again",
      }),
    );
    assert.equal(again.revoked, 0, "idempotent");
  });

  test("without passport_id, revokes every passport issued so far, not later ones", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const sibling = await registerAgent(t);
    const a = await issued(t, agent);
    const b = await issued(t, agent);
    const theirs = await issued(t, sibling);
    const res = await revoke(t, agent.apiKey, { agent_id: agent.agentId, reason: "compromised" });
    const body = await jsonOf(res);
    assert.equal(body.revoked, 2);
    assert.deepEqual(
      new Set(body.passport_ids as string[]),
      new Set([a.passport_id, b.passport_id]),
    );
    for (const p of [a, b]) assert.equal((await verify(t, p.passport)).reason, "revoked");
    assert.equal((await verify(t, theirs.passport)).valid, true, "another agent's passport");
    t.clock.advance(1);
    const later = await issued(t, agent);
    assert.equal((await verify(t, later.passport)).valid, true);
  });

  test("the revocation and who made it are recorded", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    await issued(t, agent);
    await revoke(t, ADMIN_KEY, { agent_id: agent.agentId, reason: "incident 42" });
    const row = t.store.db.prepare("SELECT * FROM revocations").get() as Json;
    assert.equal(row.reason, "incident 42");
    assert.equal(row.actor, "env:AIEGIS_ADMIN_KEY");
    assert.equal(row.revoked, 1);
  });

  test("404 for a passport that is not the agent's; 400 without a reason", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const sibling = await registerAgent(t);
    const theirs = await issued(t, sibling);
    const res = await revoke(t, agent.apiKey, {
      agent_id: agent.agentId,
      passport_id: theirs.passport_id,
      reason: "x",
    });
    assert.equal(res.status, 404);
    assert.equal((await verify(t, theirs.passport)).valid, true);
    const noReason = await revoke(t, agent.apiKey, { agent_id: agent.agentId });
    await expectValidation(noReason, "reason");
  });

  test("a revocation made through one process is seen at once by another sharing the database", async () => {
    const dir = tempDir();
    const storeA = openStore(databasePath(dir));
    const storeB = openStore(databasePath(dir));
    const keyring = new DirectoryKeyring(dir, Date.now());
    const a = makeTestApp({}, { store: storeA, keyring });
    const b = makeTestApp({}, { store: storeB, keyring: new DirectoryKeyring(dir, Date.now()) });
    try {
      const agent = await registerAgent(a);
      const { passport } = await issued(a, agent);
      assert.equal((await verify(a, passport)).valid, true);
      assert.equal((await verify(b, passport)).valid, true, "cached in b as well");
      const res = await revoke(b, agent.apiKey, { agent_id: agent.agentId, reason: "stolen" });
      assert.equal(res.status, 200);
      assert.deepEqual(await verify(a, passport), { valid: false, reason: "revoked" });
      const blocked = await protect(a, agent, passport, { action: "read_file", target: "x" });
      assert.equal(blocked.status, 403);
    } finally {
      storeA.close();
      storeB.close();
    }
  });
});

describe("passport state is never served stale", () => {
  test("any write, through this connection or another, is seen by the next verify", async () => {
    const dir = tempDir();
    const store = openStore(databasePath(dir));
    const other = openStore(databasePath(dir));
    try {
      const t = makeTestApp({}, { store, keyring: new DirectoryKeyring(dir, Date.now()) });
      const agent = await registerAgent(t);
      const { passport, passport_id } = await issued(t, agent);
      const quarantine = (db: typeof store.db, at: number | null) =>
        db.prepare("UPDATE agents SET quarantined_at = ? WHERE id = ?").run(at, agent.agentId);
      assert.equal((await verify(t, passport)).valid, true);
      assert.equal((await verify(t, passport)).valid, true, "remembered");
      quarantine(other.db, Date.now());
      assert.equal((await verify(t, passport)).reason, "agent_quarantined", "other connection");
      quarantine(other.db, null);
      assert.equal((await verify(t, passport)).valid, true);
      quarantine(store.db, Date.now());
      assert.equal((await verify(t, passport)).reason, "agent_quarantined", "same connection");
      quarantine(store.db, null);
      assert.equal((await verify(t, passport)).valid, true);
      other.db.prepare("UPDATE passports SET revoked_at = 1 WHERE id = ?").run(passport_id);
      assert.equal((await verify(t, passport)).reason, "revoked");
    } finally {
      store.close();
      other.close();
    }
  });
});

describe("GET /registry/revocations", () => {
  test("lists revoked, unexpired passports in revocation order, page by page", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await issued(t, agent);
      ids.push(p.passport_id);
      await revoke(t, agent.apiKey, {
        agent_id: agent.agentId,
        passport_id: p.passport_id,
        reason: "r",
      });
    }
    const first = await jsonOf(await t.call("GET", "/registry/revocations?limit=3"));
    const page1 = first.revocations as { passport_id: string; agent_id: string }[];
    assert.deepEqual(
      page1.map((r) => r.passport_id),
      ids.slice(0, 3),
    );
    assert.equal(page1[0]?.agent_id, agent.agentId);
    assert.equal(first.has_more, true);
    const second = await jsonOf(
      await t.call("GET", `/registry/revocations?limit=3&cursor=${first.next_cursor}`),
    );
    assert.deepEqual(
      (second.revocations as { passport_id: string }[]).map((r) => r.passport_id),
      ids.slice(3),
    );
    assert.equal(second.has_more, false);
    // Polling with the last cursor returns only what was revoked since.
    const third = await jsonOf(
      await t.call("GET", `/registry/revocations?cursor=${second.next_cursor}`),
    );
    assert.deepEqual(third.revocations, []);
    assert.equal(third.next_cursor, second.next_cursor);
  });

  test("expired passports leave the list; reasons and owners are not published", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    await issued(t, agent, { ttl_s: 60 });
    await revoke(t, agent.apiKey, { agent_id: agent.agentId, reason: "secret incident" });
    const listed = await t.call("GET", "/registry/revocations");
    const text = await listed.text();
    assert.ok(!text.includes("secret incident") && !text.includes(agent.email));
    assert.equal((JSON.parse(text).revocations as unknown[]).length, 1);
    t.clock.advance(121_000);
    const later = await jsonOf(await t.call("GET", "/registry/revocations"));
    assert.deepEqual(later.revocations, []);
  });

  test("400 for a bad cursor, limit or unknown parameter", async () => {
    const t = makeTestApp();
    for (const query of ["cursor=nope", "limit=0", "limit=1001", "limit=x", "since=1"]) {
      const res = await t.call("GET", `/registry/revocations?${query}`);
      assert.equal(res.status, 400, query);
    }
  });
});

describe("POST /api/protect with X-Agent-Passport", () => {
  test("the passport's bundle drives the policy layer", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const { passport } = await issued(t, agent, { policy: "read-only" });
    const action = { action: "write_file", target: "notes/today.md", content: "hello" };
    const without = await jsonOf(await protect(t, agent, undefined, action));
    assert.equal(without.decision, "ALLOW", JSON.stringify(without));
    assert.equal((without.policy as Json).id, "default");
    const res = await protect(t, agent, passport, action);
    assert.equal(res.status, 200);
    const withPassport = await jsonOf(res);
    assert.equal(withPassport.decision, "BLOCK");
    assert.equal((withPassport.policy as Json).id, "read-only");
    const codes = (withPassport.threats_found as { code: string }[]).map((f) => f.code);
    assert.ok(codes.includes("POLICY_ACTION_DENIED"), JSON.stringify(codes));
    const read = await jsonOf(
      await protect(t, agent, passport, { action: "read_file", target: "a.md" }),
    );
    assert.equal(read.decision, "ALLOW");
  });

  test("an inline bundle drives it too, and the decision log records its id and hash", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const inline = { id: "calendar-only", actions: { allow: ["calendar_*"] } };
    const { passport, passport_id } = await issued(t, agent, { policy: inline });
    const res = await protect(t, agent, passport, { action: "send_email", target: "a@b.test" });
    const body = await jsonOf(res);
    assert.equal(body.decision, "BLOCK");
    const policy = body.policy as { id: string; hash: string };
    assert.equal(policy.id, "calendar-only");
    t.decisionLog.flush();
    const row = t.decisionLog.byRequestId(String(body.request_id));
    assert.equal(row?.policyId, "calendar-only");
    assert.equal(row?.policyHash, policy.hash);
    assert.equal(row?.passportId, passport_id);
    const plain = await jsonOf(
      await protect(t, agent, undefined, { action: "read_file", target: "a" }),
    );
    t.decisionLog.flush();
    assert.equal(t.decisionLog.byRequestId(String(plain.request_id))?.passportId, null);
  });

  test("403 DENY with a reason for a revoked, expired, foreign or invalid passport", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const sibling = await registerAgent(t);
    const action = { action: "read_file", target: "a.md" };
    const expectRejected = async (passport: string, who: Registered, reason: string) => {
      const res = await protect(t, who, passport, action);
      const body = await jsonOf(res);
      assert.equal(res.status, 403, JSON.stringify(body));
      assert.equal(body.decision, "DENY");
      assert.equal(body.reason, reason);
      assert.equal(body.code, "PASSPORT_REJECTED");
      assert.equal(typeof body.error, "string");
    };
    const mine = await issued(t, agent, { ttl_s: 60 });
    assert.equal((await protect(t, agent, mine.passport, action)).status, 200);
    await expectRejected(mine.passport, sibling, "foreign");
    await expectRejected("garbage", agent, "malformed");
    await expectRejected(agent.tag, agent, "malformed");
    await expectRejected("", agent, "malformed");
    const revoked = await issued(t, agent);
    await revoke(t, agent.apiKey, {
      agent_id: agent.agentId,
      passport_id: revoked.passport_id,
      reason: "r",
    });
    await expectRejected(revoked.passport, agent, "revoked");
    t.clock.advance(121_000);
    await expectRejected(mine.passport, agent, "expired");
  });

  test("a quarantined agent's passport verifies as agent_quarantined", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const { passport } = await issued(t, agent);
    await quarantine(t, agent.agentId);
    assert.deepEqual(await verify(t, passport), { valid: false, reason: "agent_quarantined" });
    // The key itself is refused first, as on every authenticated route.
    const res = await protect(t, agent, passport, { action: "read_file", target: "a.md" });
    assert.equal(res.status, 403);
    assert.equal((await jsonOf(res)).error, "Agent quarantined");
  });
});

describe("signing-key rotation and the JWKS", () => {
  test("a new key signs from then on; the old key stays published until its passports expire", async () => {
    const dir = tempDir();
    const keyring = new DirectoryKeyring(dir, Date.parse("2026-11-23T11:00:00Z"));
    const keyFile = join(dir, "keys", `${keyring.active.kid}.json`);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "keys")).mode & 0o777, 0o700);
    const t = makeTestApp({}, { keyring });
    const agent = await registerAgent(t);
    const oldKid = keyring.active.kid;
    const old = await issued(t, agent, { ttl_s: 3600 });
    assert.equal(old.kid, oldKid);

    const added = addSigningKey(dir, t.clock.now());
    assert.equal(statSync(join(dir, "keys", `${added.kid}.json`)).mode & 0o777, 0o600);
    const fresh = await issued(t, agent, { ttl_s: 7200 });
    assert.equal(fresh.kid, added.kid, "the new key signs the next passport");
    assert.equal((await verify(t, old.passport)).valid, true, "old passports still verify");

    const kids = async () =>
      ((await jsonOf(await t.call("GET", "/.well-known/jwks.json"))).keys as { kid: string }[]).map(
        (k) => k.kid,
      );
    assert.deepEqual(new Set(await kids()), new Set([oldKid, added.kid]));
    t.clock.advance(3600_000 + 59_000);
    assert.deepEqual(new Set(await kids()), new Set([oldKid, added.kid]), "within the leeway");
    t.clock.advance(2_000);
    assert.deepEqual(await kids(), [added.kid], "retired once its last passport expired");
  });

  test("a gateway that has not reloaded yet still verifies passports signed by the new key", async () => {
    const dir = tempDir();
    const store = openStore(databasePath(dir));
    try {
      const a = makeTestApp({}, { store, keyring: new DirectoryKeyring(dir, Date.now()) });
      const b = makeTestApp({}, { store, keyring: new DirectoryKeyring(dir, Date.now()) });
      const agent = await registerAgent(a);
      addSigningKey(dir, Date.now());
      const { passport, kid } = await issued(a, agent);
      assert.notEqual(kid, b.keyring.active.kid, "b still has the old active key");
      assert.equal((await verify(b, passport)).valid, true);
    } finally {
      store.close();
    }
  });

  test("the JWKS keys are RFC 7638 thumbprints of OKP/Ed25519 keys", async () => {
    const t = makeTestApp();
    const res = await t.call("GET", "/.well-known/jwks.json");
    assert.equal(res.headers.get("content-type"), "application/jwk-set+json");
    const { keys } = (await res.json()) as { keys: Json[] };
    assert.equal(keys.length, 1);
    assert.deepEqual(Object.keys(keys[0]!).sort(), ["alg", "crv", "kid", "kty", "use", "x"]);
    assert.equal(keys[0]!.kid, t.keyring.active.kid);
  });
});
