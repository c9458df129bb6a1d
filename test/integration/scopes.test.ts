import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { SCOPES, type Scope } from "../../src/scopes.js";
import {
  createOrgAgent,
  createOrgKey,
  type Operator,
  signUpOperator,
} from "../helpers/operators.js";
import { jsonOf, makeTestApp, type TestApp } from "../helpers/test-app.js";

type Json = Record<string, unknown>;

/**
 * Who may call each route, written down here independently of the code: a scope an organization
 * key needs, or a class of caller that no organization key is. Every route the app serves must
 * be listed, so a new endpoint cannot slip in without a decision.
 */
type Rule =
  | Readonly<{ kind: "public" }>
  | Readonly<{ kind: "agent-key" }>
  | Readonly<{ kind: "admin-key" }>
  | Readonly<{ kind: "operator" }>
  | Readonly<{ kind: "scope"; scope: Scope }>;

const PUBLIC: Rule = { kind: "public" };
const OPERATOR: Rule = { kind: "operator" };
const scope = (s: Scope): Rule => ({ kind: "scope", scope: s });

const RULES: Readonly<Record<string, Rule>> = {
  "GET /api/health": PUBLIC,
  "GET /.well-known/jwks.json": PUBLIC,
  "GET /metrics": PUBLIC,
  "GET /openapi.json": PUBLIC,
  "POST /api/register": PUBLIC,
  "GET /api/verify-email": PUBLIC,
  "POST /api/verify-email/resend": PUBLIC,
  "POST /api/agents/login": PUBLIC,
  "GET /api/agents/public": PUBLIC,
  "POST /api/agent/verify": PUBLIC,
  "GET /registry/revocations": PUBLIC,
  "POST /api/score/free": PUBLIC,
  "POST /api/auth/signup": PUBLIC,
  "POST /api/auth/login": PUBLIC,
  "POST /api/auth/refresh": PUBLIC,
  "GET /api/auth/verify-email": PUBLIC,
  "POST /api/auth/verify-email/resend": PUBLIC,
  "POST /api/auth/password/forgot": PUBLIC,
  "POST /api/auth/password/reset": PUBLIC,
  // The refresh token in the body is the credential.
  "POST /api/auth/logout": PUBLIC,
  "GET /api/agents/me": { kind: "agent-key" },
  "POST /api/agents/me/rotate-key": { kind: "agent-key" },
  "GET /api/audit/verify": { kind: "admin-key" },
  "GET /api/auth/me": OPERATOR,
  "POST /api/auth/password": OPERATOR,
  "POST /api/organizations": OPERATOR,
  "GET /api/organizations": OPERATOR,
  "GET /api/organizations/:org": OPERATOR,
  "POST /api/organizations/:org/members": OPERATOR,
  "GET /api/organizations/:org/members": OPERATOR,
  "DELETE /api/organizations/:org/members/:operator": OPERATOR,
  "PATCH /api/organizations/:org/members/:operator": OPERATOR,
  "POST /api/organizations/:org/api-keys": OPERATOR,
  "GET /api/organizations/:org/api-keys": OPERATOR,
  "DELETE /api/organizations/:org/api-keys/:id": OPERATOR,
  "POST /api/organizations/:org/api-keys/:id/rotate": OPERATOR,
  "POST /api/protect": scope("protect"),
  "POST /api/agent/issue": scope("passports:issue"),
  "POST /registry/revoke": scope("passports:revoke"),
  "POST /api/agents/:id/quarantine": scope("agents:quarantine"),
  "POST /api/agents/:id/unquarantine": scope("agents:quarantine"),
  "POST /api/organizations/:org/agents": scope("agents:manage"),
  "GET /api/organizations/:org/agents": scope("agents:manage"),
  "GET /api/organizations/:org/agents/:id": scope("agents:manage"),
  "POST /api/webhooks": scope("webhooks:manage"),
  "GET /api/webhooks": scope("webhooks:manage"),
  "DELETE /api/webhooks/:id": scope("webhooks:manage"),
  "POST /api/webhooks/:id/test": scope("webhooks:manage"),
  "GET /api/webhooks/:id/deliveries": scope("webhooks:manage"),
  "GET /api/audit": scope("audit:read"),
  "GET /api/audit/export": scope("audit:read"),
  "POST /api/score/deep": scope("score:deep"),
  "GET /api/assessments/:id": scope("score:deep"),
};

/** Interactive docs and their assets are public pages, whatever their file names. */
function ruleOf(route: string): Rule | undefined {
  return route.startsWith("GET /docs") ? PUBLIC : RULES[route];
}

/** The /api/v1 spelling of a route path. */
function v1(path: string): string {
  if (path.startsWith("/api/")) return `/api/v1/${path.slice(5)}`;
  return path.startsWith("/registry/") ? `/api/v1${path}` : path;
}

type Fixture = {
  t: TestApp;
  owner: Operator;
  agentId: string;
  webhookId: string;
  assessmentId: string;
  /** Rotation and revocation in the matrix act on a key of their own, not on the scoped keys. */
  spareKeyId: string;
  keys: Map<Scope, string>;
};

/** A request that passes every check but the caller's, so a refusal can only be about the caller. */
function requestFor(route: string, f: Fixture): { path: string; body?: Json } {
  const [, pattern = ""] = route.split(" ");
  const path = pattern
    .replace(":org", f.owner.orgId)
    .replace(":operator", f.owner.operatorId)
    .replace(/\/agents\/:id\//, `/agents/${f.agentId}/`)
    .replace(/\/agents\/:id$/, `/agents/${f.agentId}`)
    .replace("/webhooks/:id", `/webhooks/${f.webhookId}`)
    .replace("/assessments/:id", `/assessments/${f.assessmentId}`)
    .replace("/api-keys/:id", `/api-keys/${f.spareKeyId}`);
  const agentId = f.agentId;
  const bodies: Readonly<Record<string, Json>> = {
    "POST /api/protect": { agent_id: agentId, action: "file.read", target: "/srv/README.md" },
    "POST /api/agent/issue": {
      agent_id: agentId,
      operator: "Acme",
      jurisdiction: "EU",
      policy: "default",
    },
    "POST /registry/revoke": { agent_id: agentId, reason: "matrix" },
    "POST /api/agents/:id/quarantine": { reason: "matrix" },
    "POST /api/agents/:id/unquarantine": { reason: "matrix" },
    "POST /api/organizations/:org/agents": { name: `matrix-${Math.random()}`, type: "assistant" },
    "POST /api/webhooks": { url: "http://127.0.0.1:9/matrix", events: ["agent.quarantined"] },
    "POST /api/webhooks/:id/test": {},
    "POST /api/score/deep": {
      agent_id: agentId,
      description: "Answers customer questions about delivery times for an online bookshop.",
    },
    "POST /api/organizations": { name: "Matrix Org" },
    "POST /api/auth/password": { current_password: "x", new_password: "long enough password" },
    "POST /api/organizations/:org/members": { email: "nobody@example.com", role: "viewer" },
    "PATCH /api/organizations/:org/members/:operator": { role: "viewer" },
    "POST /api/organizations/:org/api-keys": { name: "matrix", scopes: ["protect"] },
    "POST /api/organizations/:org/api-keys/:id/rotate": {},
    "POST /api/agents/me/rotate-key": {},
  };
  return { path: v1(path), body: bodies[route] };
}

describe("every endpoint × every scope: deny by default", () => {
  let f: Fixture;

  before(async () => {
    const t = makeTestApp({ AIEGIS_WEBHOOK_ALLOW_PRIVATE: "1" });
    const owner = await signUpOperator(t);
    const { agentId } = await createOrgAgent(t, owner);
    const keys = new Map<Scope, string>();
    for (const s of SCOPES) keys.set(s, (await createOrgKey(t, owner, [s])).key);
    const hook = await jsonOf(
      await t.call("POST", "/api/v1/webhooks", {
        headers: { "x-api-key": keys.get("webhooks:manage")! },
        body: { url: "http://127.0.0.1:9/fixture", events: ["ping"] },
      }),
    );
    const assessment = await jsonOf(
      await t.call("POST", "/api/v1/score/deep", {
        headers: { "x-api-key": keys.get("score:deep")! },
        body: { agent_id: agentId, description: "Summarises support tickets for the help desk." },
      }),
    );
    f = {
      t,
      owner,
      agentId,
      webhookId: String(hook.webhook_id),
      assessmentId: String(assessment.assessment_id),
      spareKeyId: (await createOrgKey(t, owner, ["protect"])).id,
      keys,
    };
  });

  function routes(): string[] {
    const seen = new Set<string>();
    for (const r of f.t.app.routes) {
      if (r.method === "ALL") continue;
      seen.add(`${r.method} ${r.path}`);
    }
    return [...seen].sort();
  }

  test("every route the app serves has a rule", () => {
    const missing = routes().filter((r) => ruleOf(r) === undefined);
    assert.deepEqual(missing, [], "routes without an access rule in this test");
  });

  test("no organization key is allowed where its scope is not the one required", async () => {
    const unexpected: string[] = [];
    const refusedWhenAllowed: string[] = [];
    let allowedCalls = 0;
    for (const route of routes()) {
      const rule = ruleOf(route);
      if (rule === undefined || rule.kind === "public") continue;
      for (const s of SCOPES) {
        const { path, body } = requestFor(route, f);
        const [method = "GET"] = route.split(" ");
        const res = await f.t.call(method, path, {
          headers: { "x-api-key": f.keys.get(s)! },
          body: method === "GET" || method === "DELETE" ? undefined : body,
        });
        const answer = await res.text();
        const allowed = rule.kind === "scope" && rule.scope === s;
        const refused = res.status === 401 || res.status === 403;
        if (allowed) {
          allowedCalls++;
          if (refused) refusedWhenAllowed.push(`${route} with ${s}: ${res.status} ${answer}`);
        } else if (!refused) {
          unexpected.push(`${route} with ${s}: ${res.status} ${answer.slice(0, 200)}`);
        } else if (res.status === 403) {
          const type = (JSON.parse(answer) as { error: Json }).error.type;
          assert.ok(
            type === "INSUFFICIENT_SCOPE" || type === "FORBIDDEN",
            `${route} with ${s}: ${type}`,
          );
        }
      }
    }
    assert.deepEqual(unexpected, [], "organization keys allowed beyond their scope");
    assert.deepEqual(refusedWhenAllowed, [], "organization keys refused despite their scope");
    // One allowed call per scoped route: the matrix really exercised the allowed side.
    assert.equal(allowedCalls, Object.values(RULES).filter((r) => r.kind === "scope").length);
  });

  test("every non-public route refuses a request without credentials", async () => {
    const open: string[] = [];
    for (const route of routes()) {
      const rule = ruleOf(route);
      if (rule === undefined || rule.kind === "public") continue;
      const { path, body } = requestFor(route, f);
      const [method = "GET"] = route.split(" ");
      const res = await f.t.call(method, path, {
        body: method === "GET" || method === "DELETE" ? undefined : body,
      });
      if (res.status !== 401) open.push(`${route}: ${res.status}`);
    }
    assert.deepEqual(open, []);
  });
});
