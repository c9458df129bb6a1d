import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { issueApiKey } from "../../src/crypto/api-key.js";
import {
  ADMIN_KEY,
  jsonOf,
  makeTestApp,
  registerAgent,
  type TestApp,
} from "../helpers/test-app.js";

const admin = { "x-api-key": ADMIN_KEY };

function quarantine(t: TestApp, agentId: string, reason = "prompt-injection spree") {
  return t.call("POST", `/api/agents/${agentId}/quarantine`, { headers: admin, body: { reason } });
}

describe("POST /api/agents/login", () => {
  test("200 with the agent id for the owner's e-mail and the key", async () => {
    const t = makeTestApp();
    const { agentId, apiKey } = await registerAgent(t);
    const res = await t.call("POST", "/api/agents/login", {
      body: { email: "ADA@example.com", api_key: apiKey },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), { status: "ok", agent_id: agentId });
  });

  test("401 with one message whether the e-mail or the key is wrong", async () => {
    const t = makeTestApp();
    const { apiKey } = await registerAgent(t);
    const attempts = [
      { email: "eve@example.com", api_key: apiKey },
      { email: "ada@example.com", api_key: issueApiKey().key },
      { email: "ada@example.com", api_key: "ak_short" },
      { email: "ada@example.com", api_key: ADMIN_KEY },
    ];
    const messages = new Set<string>();
    for (const body of attempts) {
      const res = await t.call("POST", "/api/agents/login", { body });
      assert.equal(res.status, 401, JSON.stringify(body));
      const json = await jsonOf(res);
      assert.equal(json.decision, "DENY");
      messages.add(String(json.error));
    }
    assert.deepEqual([...messages], ["Invalid email or API key"]);
  });

  test("403 Email unverified for a matching but unverified key", async () => {
    const t = makeTestApp();
    const { apiKey, email } = await registerAgent(t, { verify: false });
    const res = await t.call("POST", "/api/agents/login", { body: { email, api_key: apiKey } });
    assert.equal(res.status, 403);
    assert.equal((await jsonOf(res)).error, "Email unverified");
  });

  test("403 Agent quarantined for a quarantined agent", async () => {
    const t = makeTestApp();
    const { apiKey, email, agentId } = await registerAgent(t);
    await quarantine(t, agentId);
    const res = await t.call("POST", "/api/agents/login", { body: { email, api_key: apiKey } });
    assert.equal(res.status, 403);
    assert.deepEqual({ error: (await jsonOf(res)).error }, { error: "Agent quarantined" });
  });

  test("400 for a missing field or an unknown one", async () => {
    const t = makeTestApp();
    assert.equal(
      (await t.call("POST", "/api/agents/login", { body: { email: "a@b.co" } })).status,
      400,
    );
    const extra = await t.call("POST", "/api/agents/login", {
      body: { email: "a@b.co", api_key: "x", remember: true },
    });
    assert.equal(extra.status, 400);
  });
});

describe("GET /api/agents/public", () => {
  test("lists verified agents without e-mails, owner names or keys", async () => {
    const t = makeTestApp();
    const a = await registerAgent(t, { overrides: { owner_email: "secret.owner@example.com" } });
    await registerAgent(t, { verify: false });
    const res = await t.call("GET", "/api/agents/public");
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const pii of [
      "secret.owner@example.com",
      "Ada Lovelace",
      a.apiKey,
      "owner",
      "api_key",
      "key_prefix",
    ]) {
      assert.ok(!text.includes(pii), `public listing leaks ${pii}`);
    }
    const body = JSON.parse(text) as { agents: { agent_id: string; status: string }[] };
    assert.deepEqual(
      body.agents.map((x) => [x.agent_id, x.status]),
      [[a.agentId, "ACTIVE"]],
      "pending agents are not listed",
    );
  });

  test("filters by status", async () => {
    const t = makeTestApp();
    const active = await registerAgent(t);
    const bad = await registerAgent(t);
    await quarantine(t, bad.agentId);
    const ids = async (status: string) =>
      (
        (await jsonOf(await t.call("GET", `/api/agents/public?status=${status}`))).agents as {
          agent_id: string;
        }[]
      ).map((x) => x.agent_id);
    assert.deepEqual(await ids("ACTIVE"), [active.agentId]);
    assert.deepEqual(await ids("QUARANTINED"), [bad.agentId]);
  });

  test("paginates with limit and an opaque cursor, visiting every agent once", async () => {
    const t = makeTestApp();
    const expected: string[] = [];
    for (let i = 0; i < 7; i++) expected.push((await registerAgent(t)).agentId);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "?limit=3" : `?limit=3&cursor=${cursor}`;
      const body = await jsonOf(await t.call("GET", `/api/agents/public${query}`));
      seen.push(...(body.agents as { agent_id: string }[]).map((x) => x.agent_id));
      cursor = body.next_cursor as string | null;
      pages++;
    } while (cursor !== null);
    assert.deepEqual(seen, expected);
    assert.equal(pages, 3);
  });

  test("400 for a bad status, limit, cursor or an unknown parameter", async () => {
    const t = makeTestApp();
    for (const query of [
      "status=ACTIVE_ISH",
      "status=active",
      "limit=0",
      "limit=101",
      "limit=abc",
      "cursor=zzz",
      "sort=name",
    ]) {
      const res = await t.call("GET", `/api/agents/public?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal((await jsonOf(res)).code, "VALIDATION_FAILED", query);
    }
  });
});

describe("GET /api/agents/me and key rotation", () => {
  test("the owner's view includes the key prefix, never the key", async () => {
    const t = makeTestApp();
    const { apiKey, agentId } = await registerAgent(t);
    const body = await jsonOf(
      await t.call("GET", "/api/agents/me", { headers: { "x-api-key": apiKey } }),
    );
    assert.equal(body.agent_id, agentId);
    assert.equal(body.owner_email, "ada@example.com");
    assert.equal(body.key_prefix, apiKey.slice(0, 11));
    assert.ok(!JSON.stringify(body).includes(apiKey));
  });

  test("rotation returns a new key once; the old key stops at once", async () => {
    const t = makeTestApp();
    const { apiKey } = await registerAgent(t);
    const res = await t.call("POST", "/api/agents/me/rotate-key", {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    assert.equal(res.status, 200);
    const { api_key: fresh } = (await jsonOf(res)) as { api_key: string };
    assert.notEqual(fresh, apiKey);
    assert.equal(
      (await t.call("GET", "/api/agents/me", { headers: { "x-api-key": apiKey } })).status,
      401,
    );
    assert.equal(
      (await t.call("GET", "/api/agents/me", { headers: { "x-api-key": fresh } })).status,
      200,
    );
  });
});

describe("admin: quarantine and unquarantine", () => {
  test("a quarantined key gets 403 DENY everywhere until unquarantined", async () => {
    const t = makeTestApp();
    const { apiKey, agentId } = await registerAgent(t);
    const q = await quarantine(t, agentId, "exfiltration attempts");
    assert.equal(q.status, 200);
    const qBody = await jsonOf(q);
    assert.equal(qBody.status, "QUARANTINED");
    assert.equal(qBody.quarantine_reason, "exfiltration attempts");
    assert.equal(qBody.changed, true);

    const denied = await t.call("GET", "/api/agents/me", { headers: { "x-api-key": apiKey } });
    assert.equal(denied.status, 403);
    const deniedBody = await jsonOf(denied);
    assert.equal(deniedBody.error, "Agent quarantined");
    assert.equal(deniedBody.decision, "DENY");

    const u = await t.call("POST", `/api/agents/${agentId}/unquarantine`, {
      headers: admin,
      body: { reason: "false positive" },
    });
    assert.equal(u.status, 200);
    assert.equal((await jsonOf(u)).status, "ACTIVE");
    assert.equal(
      (await t.call("GET", "/api/agents/me", { headers: { "x-api-key": apiKey } })).status,
      200,
    );
  });

  test("idempotent: a second quarantine changes nothing and keeps the first reason", async () => {
    const t = makeTestApp();
    const { agentId } = await registerAgent(t);
    await quarantine(t, agentId, "first");
    const again = await jsonOf(await quarantine(t, agentId, "second"));
    assert.equal(again.changed, false);
    assert.equal(again.quarantine_reason, "first");
    const rows = t.store.db.prepare("SELECT status, reason, actor FROM agent_status_changes").all();
    assert.deepEqual(rows, [
      { status: "QUARANTINED", reason: "first", actor: "env:AIEGIS_ADMIN_KEY" },
    ]);
  });

  test("an unverified agent returns to PENDING_VERIFICATION when unquarantined", async () => {
    const t = makeTestApp();
    const { agentId } = await registerAgent(t, { verify: false });
    await quarantine(t, agentId);
    const u = await t.call("POST", `/api/agents/${agentId}/unquarantine`, {
      headers: admin,
      body: { reason: "ok" },
    });
    assert.equal((await jsonOf(u)).status, "PENDING_VERIFICATION");
  });

  test("404 for an unknown agent, 400 without a reason", async () => {
    const t = makeTestApp();
    const missing = await quarantine(t, "agt_doesnotexist");
    assert.equal(missing.status, 404);
    assert.equal((await jsonOf(missing)).code, "NOT_FOUND");
    const { agentId } = await registerAgent(t);
    const noReason = await t.call("POST", `/api/agents/${agentId}/quarantine`, {
      headers: admin,
      body: {},
    });
    assert.equal(noReason.status, 400);
    assert.equal(((await jsonOf(noReason)).details as { field: string }[])[0]?.field, "reason");
  });

  test("admin keys made with the CLI work and stop working once revoked", async () => {
    const t = makeTestApp({ AIEGIS_ADMIN_KEY: "" });
    const key = issueApiKey();
    t.store.apiKeys.createAdmin(
      { id: "adm_1", name: "ops", hash: key.hash, prefix: key.prefix },
      0,
    );
    const { agentId } = await registerAgent(t);
    const ok = await t.call("POST", `/api/agents/${agentId}/quarantine`, {
      headers: { "x-api-key": key.key },
      body: { reason: "r" },
    });
    assert.equal(ok.status, 200);
    assert.ok(t.store.apiKeys.revokeAdmin("adm_1", 1));
    const after = await t.call("POST", `/api/agents/${agentId}/unquarantine`, {
      headers: { "x-api-key": key.key },
      body: { reason: "r" },
    });
    assert.equal(after.status, 401);
    const envKeyOff = await t.call("POST", `/api/agents/${agentId}/unquarantine`, {
      headers: admin,
      body: { reason: "r" },
    });
    assert.equal(envKeyOff.status, 401, "no AIEGIS_ADMIN_KEY configured: it must not work");
  });
});
