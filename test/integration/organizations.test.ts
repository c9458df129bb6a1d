import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { verifyStoredLog } from "../../src/audit/jobs.js";
import { createOrgAgent, createOrgKey, logInAgain, signUpOperator } from "../helpers/operators.js";
import {
  ADMIN_KEY,
  jsonOf,
  makeTestApp,
  registerAgent,
  type TestApp,
} from "../helpers/test-app.js";

type Json = Record<string, unknown>;

async function answer(res: Response, status: number): Promise<Json> {
  const body = await jsonOf(res);
  assert.equal(res.status, status, JSON.stringify(body));
  return body;
}

/** The machine code of a v1 error answer. */
async function errorType(res: Response, status: number): Promise<string> {
  const body = await answer(res, status);
  return String((body.error as Json).type);
}

const ALLOW_ACTION = { action: "file.read", target: "/srv/app/README.md" };

function protectAs(t: TestApp, key: string, body: Json) {
  return t.call("POST", "/api/v1/protect", { headers: { "x-api-key": key }, body });
}

describe("organizations and members", () => {
  test("signing up makes an organization its operator owns; more can be created and listed", async () => {
    const t = makeTestApp();
    const ada = await signUpOperator(t, { organization: "Acme" });
    const list = await answer(
      await t.call("GET", "/api/v1/organizations", { headers: ada.auth }),
      200,
    );
    assert.deepEqual(
      (list.organizations as Json[]).map((o) => [o.id, o.name, o.role]),
      [[ada.orgId, "Acme", "owner"]],
    );
    const created = await answer(
      await t.call("POST", "/api/v1/organizations", { headers: ada.auth, body: { name: "Beta" } }),
      201,
    );
    assert.match(String(created.id), /^org_[0-9A-Za-z]{22}$/);
    assert.equal(created.role, "owner");
    const one = await answer(
      await t.call("GET", `/api/v1/organizations/${created.id}`, { headers: ada.auth }),
      200,
    );
    assert.equal(one.name, "Beta");
    // Someone else's organization is indistinguishable from one that does not exist.
    const eve = await signUpOperator(t);
    const foreign = await t.call("GET", `/api/v1/organizations/${ada.orgId}`, {
      headers: eve.auth,
    });
    assert.equal(await errorType(foreign, 404), "NOT_FOUND");
    const unknown = await t.call("GET", "/api/v1/organizations/org_0000000000000000000000", {
      headers: eve.auth,
    });
    assert.equal(await errorType(unknown, 404), "NOT_FOUND");
  });

  test("roles decide who may add and remove members, and the last owner stays", async () => {
    const t = makeTestApp();
    const owner = await signUpOperator(t);
    const admin = await signUpOperator(t);
    const member = await signUpOperator(t);
    const viewer = await signUpOperator(t);
    const outsider = await signUpOperator(t);
    const members = `/api/v1/organizations/${owner.orgId}/members`;
    const add = (as: typeof owner, email: string, role: string) =>
      t.call("POST", members, { headers: as.auth, body: { email, role } });

    const added = await answer(await add(owner, admin.email.toUpperCase(), "admin"), 201);
    assert.equal(added.operator_id, admin.operatorId);
    assert.equal(added.role, "admin");
    await answer(await add(admin, member.email, "member"), 201);
    await answer(await add(admin, viewer.email, "viewer"), 201);
    assert.equal(await errorType(await add(admin, outsider.email, "owner"), 403), "FORBIDDEN");
    assert.equal(await errorType(await add(owner, member.email, "viewer"), 409), "CONFLICT");
    assert.equal(
      await errorType(await add(owner, "nobody@example.com", "viewer"), 404),
      "NOT_FOUND",
    );
    assert.equal(await errorType(await add(member, outsider.email, "viewer"), 403), "FORBIDDEN");
    assert.equal(await errorType(await add(viewer, outsider.email, "viewer"), 403), "FORBIDDEN");
    assert.equal(await errorType(await add(outsider, outsider.email, "owner"), 404), "NOT_FOUND");
    const invalid = await answer(await add(owner, "not-an-email", "superuser"), 400);
    const fields = ((invalid.error as Json).details as Json[]).map((d) => d.field).sort();
    assert.deepEqual(fields, ["email", "role"]);

    const listed = await answer(await t.call("GET", members, { headers: viewer.auth }), 200);
    assert.deepEqual(
      (listed.members as Json[]).map((m) => m.role),
      ["owner", "admin", "member", "viewer"],
    );

    const change = (as: typeof owner, who: string, role: string) =>
      t.call("PATCH", `${members}/${who}`, { headers: as.auth, body: { role } });
    const promoted = await answer(await change(admin, viewer.operatorId, "member"), 200);
    assert.equal(promoted.role, "member");
    await answer(await change(admin, viewer.operatorId, "viewer"), 200);
    assert.equal(
      await errorType(await change(admin, viewer.operatorId, "owner"), 403),
      "FORBIDDEN",
    );
    assert.equal(
      await errorType(await change(admin, owner.operatorId, "viewer"), 403),
      "FORBIDDEN",
    );
    assert.equal(
      await errorType(await change(member, viewer.operatorId, "member"), 403),
      "FORBIDDEN",
    );
    assert.equal(await errorType(await change(owner, owner.operatorId, "admin"), 409), "CONFLICT");
    assert.equal(
      await errorType(await change(owner, outsider.operatorId, "viewer"), 404),
      "NOT_FOUND",
    );
    assert.equal(
      await errorType(await change(owner, viewer.operatorId, "root"), 400),
      "VALIDATION_FAILED",
    );
    // Unchanged is not an error, and is not audited.
    await answer(await change(owner, viewer.operatorId, "viewer"), 200);

    const remove = (as: typeof owner, who: string) =>
      t.call("DELETE", `${members}/${who}`, { headers: as.auth });
    assert.equal(await errorType(await remove(admin, owner.operatorId), 403), "FORBIDDEN");
    assert.equal(await errorType(await remove(member, viewer.operatorId), 403), "FORBIDDEN");
    // The last owner can neither leave nor be removed.
    assert.equal(await errorType(await remove(owner, owner.operatorId), 409), "CONFLICT");
    // Anyone may leave.
    await answer(await remove(viewer, viewer.operatorId), 200);
    await answer(await remove(admin, member.operatorId), 200);
    assert.equal(await errorType(await remove(owner, member.operatorId), 404), "NOT_FOUND");
    // A member who left no longer sees the organization.
    const gone = await t.call("GET", members, { headers: member.auth });
    assert.equal(await errorType(gone, 404), "NOT_FOUND");
    // A second owner may then remove the first.
    await answer(await add(owner, outsider.email, "owner"), 201);
    await answer(await remove(outsider, owner.operatorId), 200);
    assert.ok(verifyStoredLog(t.store, t.keyring).ok);
    const actions = t.store.audit.query({}, 0, 500).map((e) => e.action);
    assert.equal(actions.filter((a) => a === "member.added").length, 4);
    assert.equal(actions.filter((a) => a === "member.removed").length, 3);
    assert.equal(actions.filter((a) => a === "member.role_changed").length, 2);
  });
});

describe("adding members needs a verified address", () => {
  test("an unverified operator cannot be added until they follow their link", async () => {
    const t = makeTestApp();
    const owner = await signUpOperator(t);
    // Someone signed up with a colleague's address but cannot read that mailbox.
    const squatter = await signUpOperator(t, { email: "carol@example.com", verify: false });
    const add = () =>
      t.call("POST", `/api/v1/organizations/${owner.orgId}/members`, {
        headers: owner.auth,
        body: { email: "carol@example.com", role: "admin" },
      });
    const refused = await answer(await add(), 404);
    assert.match(String((refused.error as Json).message), /verified/);
    const me = await answer(
      await t.call("GET", "/api/v1/auth/me", { headers: squatter.auth }),
      200,
    );
    assert.equal((me.operator as Json).email_verified, false);
    // The mailbox's owner follows the link: now the address is proven.
    const token = t.mailer.lastToken("carol@example.com");
    await answer(await t.call("GET", `/api/v1/auth/verify-email?token=${token}`), 200);
    await answer(await add(), 201);
  });
});

describe("organization agents", () => {
  test("operators create active agents whose key works at once; names are unique per organization", async () => {
    const t = makeTestApp();
    const ada = await signUpOperator(t);
    const res = await t.call("POST", `/api/v1/organizations/${ada.orgId}/agents`, {
      headers: ada.auth,
      body: { name: "Expense Bot", type: "finance-assistant" },
    });
    const agent = await answer(res, 201);
    assert.equal(agent.status, "ACTIVE");
    assert.equal(agent.org_id, ada.orgId);
    assert.match(String(agent.api_key), /^ak_[0-9A-Za-z]{49}$/);
    const decision = await answer(await protectAs(t, String(agent.api_key), ALLOW_ACTION), 200);
    assert.equal(decision.decision, "ALLOW");
    const again = await t.call("POST", `/api/v1/organizations/${ada.orgId}/agents`, {
      headers: ada.auth,
      body: { name: "EXPENSE BOT", type: "assistant" },
    });
    assert.equal(await errorType(again, 409), "CONFLICT");
    // Another organization may use the same name.
    const bob = await signUpOperator(t);
    await answer(
      await t.call("POST", `/api/v1/organizations/${bob.orgId}/agents`, {
        headers: bob.auth,
        body: { name: "Expense Bot", type: "assistant" },
      }),
      201,
    );
    const one = await answer(
      await t.call("GET", `/api/v1/organizations/${ada.orgId}/agents/${agent.agent_id}`, {
        headers: ada.auth,
      }),
      200,
    );
    assert.equal(one.name, "Expense Bot");
    assert.equal(one.api_key, undefined);
    const foreign = await t.call(
      "GET",
      `/api/v1/organizations/${bob.orgId}/agents/${agent.agent_id}`,
      {
        headers: bob.auth,
      },
    );
    assert.equal(await errorType(foreign, 404), "NOT_FOUND");
    assert.ok(t.store.audit.query({ action: "agent.registered" }, 0, 10).length >= 2);
  });

  test("the list pages with an opaque cursor and shows the organization's agents only", async () => {
    const t = makeTestApp();
    const ada = await signUpOperator(t);
    const bob = await signUpOperator(t);
    const mine = [
      await createOrgAgent(t, ada),
      await createOrgAgent(t, ada),
      await createOrgAgent(t, ada),
    ];
    await createOrgAgent(t, bob);
    await registerAgent(t);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "?limit=2" : `?limit=2&cursor=${cursor}`;
      const page = await answer(
        await t.call("GET", `/api/v1/organizations/${ada.orgId}/agents${query}`, {
          headers: ada.auth,
        }),
        200,
      );
      seen.push(...(page.agents as Json[]).map((a) => String(a.agent_id)));
      cursor = page.next_cursor as string | null;
    } while (cursor !== null);
    assert.deepEqual(
      seen,
      mine.map((a) => a.agentId),
    );
    const bad = await t.call("GET", `/api/v1/organizations/${ada.orgId}/agents?cursor=zzz`, {
      headers: ada.auth,
    });
    assert.equal(await errorType(bad, 400), "VALIDATION_FAILED");
  });

  test("a viewer may list agents but not create them", async () => {
    const t = makeTestApp();
    const owner = await signUpOperator(t);
    const viewer = await signUpOperator(t);
    await t.call("POST", `/api/v1/organizations/${owner.orgId}/members`, {
      headers: owner.auth,
      body: { email: viewer.email, role: "viewer" },
    });
    const denied = await t.call("POST", `/api/v1/organizations/${owner.orgId}/agents`, {
      headers: viewer.auth,
      body: { name: "x", type: "assistant" },
    });
    assert.equal(await errorType(denied, 403), "FORBIDDEN");
    await answer(
      await t.call("GET", `/api/v1/organizations/${owner.orgId}/agents`, { headers: viewer.auth }),
      200,
    );
  });
});

describe("scoped organization API keys", () => {
  test("a key is shown once, listed by prefix, and acts for its organization's agents only", async () => {
    const t = makeTestApp();
    const ada = await signUpOperator(t);
    const bob = await signUpOperator(t);
    const agent = await createOrgAgent(t, ada);
    const foreign = await createOrgAgent(t, bob);
    const selfRegistered = await registerAgent(t);
    const key = await createOrgKey(t, ada, ["protect"]);
    assert.match(key.key, /^ak_live_[0-9A-Za-z]{49}$/);

    const listed = await answer(
      await t.call("GET", `/api/v1/organizations/${ada.orgId}/api-keys`, { headers: ada.auth }),
      200,
    );
    const [info] = listed.api_keys as Json[];
    assert.equal(info?.id, key.id);
    assert.ok(key.key.startsWith(String(info?.prefix)));
    assert.deepEqual(info?.scopes, ["protect"]);
    assert.equal(info?.last_used_at, null);
    assert.ok(!JSON.stringify(listed).includes(key.key));
    const row = t.store.db.prepare("SELECT * FROM org_api_keys").get() as Json;
    assert.ok(!JSON.stringify(row).includes(key.key.slice(8)), "the key is stored only as a hash");

    const allowed = await answer(
      await protectAs(t, key.key, { ...ALLOW_ACTION, agent_id: agent.agentId }),
      200,
    );
    assert.equal(allowed.decision, "ALLOW");
    const missing = await protectAs(t, key.key, ALLOW_ACTION);
    assert.equal(await errorType(missing, 400), "VALIDATION_FAILED");
    for (const other of [foreign.agentId, selfRegistered.agentId, "agt_0000000000000000000000"]) {
      const res = await protectAs(t, key.key, { ...ALLOW_ACTION, agent_id: other });
      assert.equal(await errorType(res, 404), "NOT_FOUND");
    }
    // Scopes are deny by default: protect does not grant issuing passports.
    const issue = await t.call("POST", "/api/v1/agent/issue", {
      headers: { "x-api-key": key.key },
      body: { agent_id: agent.agentId, operator: "Acme", jurisdiction: "EU", policy: "default" },
    });
    assert.equal(await errorType(issue, 403), "INSUFFICIENT_SCOPE");

    t.clock.advance(5_000);
    const used = await answer(
      await t.call("GET", `/api/v1/organizations/${ada.orgId}/api-keys`, { headers: ada.auth }),
      200,
    );
    assert.notEqual((used.api_keys as Json[])[0]?.last_used_at, null);
  });

  test("revoking refuses the key on the very next request", async () => {
    const t = makeTestApp();
    const ada = await signUpOperator(t);
    const agent = await createOrgAgent(t, ada);
    const key = await createOrgKey(t, ada, ["protect"]);
    await answer(await protectAs(t, key.key, { ...ALLOW_ACTION, agent_id: agent.agentId }), 200);
    const revoked = await answer(
      await t.call("DELETE", `/api/v1/organizations/${ada.orgId}/api-keys/${key.id}`, {
        headers: ada.auth,
      }),
      200,
    );
    assert.equal(revoked.id, key.id);
    assert.equal(typeof revoked.revoked_at, "string");
    const refused = await protectAs(t, key.key, { ...ALLOW_ACTION, agent_id: agent.agentId });
    assert.equal(await errorType(refused, 401), "INVALID_API_KEY");
    const rotate = await t.call(
      "POST",
      `/api/v1/organizations/${ada.orgId}/api-keys/${key.id}/rotate`,
      {
        headers: ada.auth,
        body: {},
      },
    );
    assert.equal(await errorType(rotate, 409), "CONFLICT");
    assert.ok(t.store.audit.query({ action: "api_key.revoked" }, 0, 10).length === 1);
  });

  test("rotation keeps the old key for the grace period (24 h by default, or 0)", async () => {
    const t = makeTestApp();
    const ada = await signUpOperator(t);
    const agent = await createOrgAgent(t, ada);
    const old = await createOrgKey(t, ada, ["protect", "audit:read"]);
    const rotated = await answer(
      await t.call("POST", `/api/v1/organizations/${ada.orgId}/api-keys/${old.id}/rotate`, {
        headers: ada.auth,
        body: {},
      }),
      201,
    );
    assert.equal(rotated.rotated_from, old.id);
    assert.deepEqual(rotated.scopes, ["protect", "audit:read"]);
    assert.equal(
      Date.parse(String(rotated.previous_key_expires_at)) - t.clock.now(),
      24 * 3_600_000,
    );
    const fresh = String(rotated.api_key);
    const act = (key: string) => protectAs(t, key, { ...ALLOW_ACTION, agent_id: agent.agentId });
    await answer(await act(old.key), 200);
    await answer(await act(fresh), 200);
    t.clock.advance(24 * 3_600_000 - 1);
    await answer(await act(old.key), 200);
    t.clock.advance(1);
    assert.equal(await errorType(await act(old.key), 401), "INVALID_API_KEY");
    await answer(await act(fresh), 200);

    // A day has passed: the operator's access token has long expired.
    await logInAgain(t, ada);
    const immediate = await answer(
      await t.call("POST", `/api/v1/organizations/${ada.orgId}/api-keys/${rotated.id}/rotate`, {
        headers: ada.auth,
        body: { grace_seconds: 0 },
      }),
      201,
    );
    assert.equal(await errorType(await act(fresh), 401), "INVALID_API_KEY");
    await answer(await act(String(immediate.api_key)), 200);
    const tooLong = await t.call(
      "POST",
      `/api/v1/organizations/${ada.orgId}/api-keys/${immediate.id}/rotate`,
      {
        headers: ada.auth,
        body: { grace_seconds: 8 * 86_400 },
      },
    );
    assert.equal(await errorType(tooLong, 400), "VALIDATION_FAILED");
  });

  test("an expiring key stops at expires_at; bad scopes and past expiries are 400", async () => {
    const t = makeTestApp();
    const ada = await signUpOperator(t);
    const agent = await createOrgAgent(t, ada);
    const expiresAt = new Date(t.clock.now() + 60_000).toISOString();
    const key = await createOrgKey(t, ada, ["protect"], { expires_at: expiresAt });
    await answer(await protectAs(t, key.key, { ...ALLOW_ACTION, agent_id: agent.agentId }), 200);
    t.clock.advance(60_000);
    const expired = await protectAs(t, key.key, { ...ALLOW_ACTION, agent_id: agent.agentId });
    assert.equal(await errorType(expired, 401), "INVALID_API_KEY");
    for (const body of [
      { name: "k", scopes: [] },
      { name: "k", scopes: ["protect", "protect"] },
      { name: "k", scopes: ["admin"] },
      { name: "k", scopes: ["protect"], expires_at: new Date(t.clock.now() - 1000).toISOString() },
      { name: "k", scopes: ["protect"], expires_at: "tomorrow" },
    ]) {
      const res = await t.call("POST", `/api/v1/organizations/${ada.orgId}/api-keys`, {
        headers: ada.auth,
        body,
      });
      assert.equal(await errorType(res, 400), "VALIDATION_FAILED", JSON.stringify(body));
    }
  });

  test("members and viewers cannot mint keys, and keys cannot manage keys or members", async () => {
    const t = makeTestApp();
    const owner = await signUpOperator(t);
    const member = await signUpOperator(t);
    await t.call("POST", `/api/v1/organizations/${owner.orgId}/members`, {
      headers: owner.auth,
      body: { email: member.email, role: "member" },
    });
    const mint = await t.call("POST", `/api/v1/organizations/${owner.orgId}/api-keys`, {
      headers: member.auth,
      body: { name: "k", scopes: ["protect"] },
    });
    assert.equal(await errorType(mint, 403), "FORBIDDEN");
    const every = await createOrgKey(t, owner, [
      "protect",
      "passports:issue",
      "passports:revoke",
      "agents:manage",
      "agents:quarantine",
      "webhooks:manage",
      "audit:read",
      "score:deep",
    ]);
    const asKey = { authorization: `Bearer ${every.key}` };
    for (const [method, path, body] of [
      ["POST", `/api/v1/organizations/${owner.orgId}/api-keys`, { name: "k", scopes: ["protect"] }],
      ["GET", `/api/v1/organizations/${owner.orgId}/api-keys`, undefined],
      [
        "POST",
        `/api/v1/organizations/${owner.orgId}/members`,
        { email: member.email, role: "owner" },
      ],
      ["GET", `/api/v1/organizations/${owner.orgId}/members`, undefined],
      ["GET", `/api/v1/organizations/${owner.orgId}`, undefined],
    ] as const) {
      const res = await t.call(method, path, { headers: asKey, body });
      assert.equal(res.status, 403, `${method} ${path}`);
    }
    // agents:manage lets a key create its organization's agents, not another's.
    await answer(
      await t.call("POST", `/api/v1/organizations/${owner.orgId}/agents`, {
        headers: asKey,
        body: { name: "made-by-key", type: "assistant" },
      }),
      201,
    );
    // The key may also travel in the body, as on every route that takes keys.
    await answer(
      await t.call("POST", `/api/v1/organizations/${owner.orgId}/agents`, {
        body: { api_key: every.key, name: "made-by-body-key", type: "assistant" },
      }),
      201,
    );
    const other = await signUpOperator(t);
    const elsewhere = await t.call("POST", `/api/v1/organizations/${other.orgId}/agents`, {
      headers: asKey,
      body: { name: "made-by-key", type: "assistant" },
    });
    assert.equal(await errorType(elsewhere, 404), "NOT_FOUND");
  });
});

describe("organization keys on the agent API", () => {
  test("passports, quarantine, audit, scoring and webhooks stay inside the organization", async () => {
    const t = makeTestApp({ AIEGIS_WEBHOOK_ALLOW_PRIVATE: "1" });
    const ada = await signUpOperator(t);
    const bob = await signUpOperator(t);
    const agent = await createOrgAgent(t, ada);
    const foreign = await createOrgAgent(t, bob);
    const key = (
      await createOrgKey(t, ada, [
        "passports:issue",
        "passports:revoke",
        "agents:quarantine",
        "audit:read",
        "score:deep",
        "webhooks:manage",
      ])
    ).key;
    const as = { "x-api-key": key };
    const passport = await answer(
      await t.call("POST", "/api/v1/agent/issue", {
        headers: as,
        body: { agent_id: agent.agentId, operator: "Acme", jurisdiction: "EU", policy: "default" },
      }),
      201,
    );
    assert.equal(typeof passport.passport, "string");
    const foreignIssue = await t.call("POST", "/api/v1/agent/issue", {
      headers: as,
      body: { agent_id: foreign.agentId, operator: "Acme", jurisdiction: "EU", policy: "default" },
    });
    assert.equal(await errorType(foreignIssue, 404), "NOT_FOUND");
    await answer(
      await t.call("POST", "/api/v1/registry/revoke", {
        headers: as,
        body: { agent_id: agent.agentId, passport_id: passport.passport_id, reason: "rotated" },
      }),
      200,
    );

    const hook = await answer(
      await t.call("POST", "/api/v1/webhooks", {
        headers: as,
        body: { url: "http://127.0.0.1:9/hook", events: ["agent.quarantined"] },
      }),
      201,
    );
    assert.equal(hook.org_id, ada.orgId);
    assert.equal(hook.agent_id, null);
    const adminHooks = await answer(
      await t.call("GET", "/api/v1/webhooks", { headers: { "x-api-key": ADMIN_KEY } }),
      200,
    );
    assert.equal((adminHooks.webhooks as Json[]).length, 1);

    for (const target of [agent.agentId, foreign.agentId]) {
      const res = await t.call("POST", `/api/v1/agents/${target}/quarantine`, {
        headers: target === agent.agentId ? as : { "x-api-key": ADMIN_KEY },
        body: { reason: "incident 42" },
      });
      await answer(res, 200);
    }
    // The organization's catch-all endpoint hears its own agent's quarantine, not the other's.
    const deliveries = await answer(
      await t.call("GET", `/api/v1/webhooks/${hook.webhook_id}/deliveries`, { headers: as }),
      200,
    );
    assert.equal((deliveries.deliveries as Json[]).length, 1);
    const foreignQuarantine = await t.call(
      "POST",
      `/api/v1/agents/${foreign.agentId}/unquarantine`,
      {
        headers: as,
        body: { reason: "not mine" },
      },
    );
    assert.equal(await errorType(foreignQuarantine, 404), "NOT_FOUND");
    await answer(
      await t.call("POST", `/api/v1/agents/${agent.agentId}/unquarantine`, {
        headers: as,
        body: { reason: "cleared" },
      }),
      200,
    );

    const audit = await answer(
      await t.call("GET", "/api/v1/audit?limit=500", { headers: as }),
      200,
    );
    const agents = new Set((audit.entries as Json[]).map((e) => e.agent_id));
    assert.ok(agents.has(agent.agentId));
    assert.ok(!agents.has(foreign.agentId));
    const foreignAudit = await t.call("GET", `/api/v1/audit?agent_id=${foreign.agentId}`, {
      headers: as,
    });
    assert.equal(await errorType(foreignAudit, 404), "NOT_FOUND");
    const exported = await t.call("GET", "/api/v1/audit/export", { headers: as });
    assert.equal(exported.status, 200);
    assert.ok(!(await exported.text()).includes(foreign.agentId));

    const description =
      "Screens job applicants' CVs and ranks candidates for interviews at a recruitment agency.";
    const assessed = await answer(
      await t.call("POST", "/api/v1/score/deep", {
        headers: as,
        body: { agent_id: agent.agentId, description },
      }),
      201,
    );
    await answer(
      await t.call("GET", `/api/v1/assessments/${assessed.assessment_id}`, { headers: as }),
      200,
    );
    const foreignScore = await t.call("POST", "/api/v1/score/deep", {
      headers: as,
      body: { agent_id: foreign.agentId, description },
    });
    assert.equal(await errorType(foreignScore, 404), "NOT_FOUND");
    const bobKey = (await createOrgKey(t, bob, ["score:deep"])).key;
    const peek = await t.call("GET", `/api/v1/assessments/${assessed.assessment_id}`, {
      headers: { "x-api-key": bobKey },
    });
    assert.equal(await errorType(peek, 404), "NOT_FOUND");
  });
});
