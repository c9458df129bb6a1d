import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { issueApiKey } from "../../src/crypto/api-key.js";
import {
  ADMIN_KEY,
  jsonOf,
  makeTestApp,
  type Registered,
  registerAgent,
  type TestApp,
} from "../helpers/test-app.js";

/**
 * The one security suite, run against every authenticated route. A route added to the app
 * must be added here; the last test fails when one is missing.
 */
type AuthRoute = {
  method: "GET" | "POST" | "DELETE";
  path: (self: Registered, other: Registered) => string;
  /**
   * `owner`: an agent key of the owner of the body's agent_id, or an admin key. `any`: an agent
   * or an admin key, the resource in the path deciding what the key may see.
   */
  role: "agent" | "admin" | "owner" | "any";
  /** The app's route pattern, when `path` fills in a resource id (`/api/assessments/:id`). */
  pattern?: string;
  /** A valid body apart from the key carrier; undefined for body-less routes. */
  body?: Record<string, unknown> | ((self: Registered) => Record<string, unknown>);
  ok: number;
  /** The route honours X-Agent-Passport. */
  passport?: boolean;
};

const ROUTES: AuthRoute[] = [
  {
    method: "POST",
    path: () => "/api/protect",
    role: "agent",
    body: { action: "read_file", target: "README.md" },
    ok: 200,
    passport: true,
  },
  { method: "GET", path: () => "/api/agents/me", role: "agent", ok: 200 },
  { method: "POST", path: () => "/api/agents/me/rotate-key", role: "agent", body: {}, ok: 200 },
  {
    method: "POST",
    path: (_s, other) => `/api/agents/${other.agentId}/quarantine`,
    role: "admin",
    body: { reason: "suspicious tool use" },
    ok: 200,
  },
  {
    method: "POST",
    path: (_s, other) => `/api/agents/${other.agentId}/unquarantine`,
    role: "admin",
    body: { reason: "reviewed" },
    ok: 200,
  },
  {
    method: "POST",
    path: () => "/api/agent/issue",
    role: "owner",
    body: (self) => ({
      agent_id: self.agentId,
      operator: "Acme Corp",
      jurisdiction: "EU",
      policy: "default",
    }),
    ok: 201,
  },
  {
    method: "POST",
    path: () => "/api/score/deep",
    role: "agent",
    body: { description: "A recruiting agent that screens CVs and ranks job applicants." },
    ok: 201,
  },
  {
    method: "GET",
    path: (self) => `/api/assessments/${assessmentOf(self)}`,
    pattern: "/api/assessments/:id",
    role: "any",
    ok: 200,
  },
  {
    method: "POST",
    path: () => "/registry/revoke",
    role: "owner",
    body: (self) => ({ agent_id: self.agentId, reason: "key compromise" }),
    ok: 200,
  },
  // An agent key sees its own agent's entries, an admin key every entry.
  { method: "GET", path: () => "/api/audit", role: "any", ok: 200 },
  { method: "GET", path: () => "/api/audit/export", role: "admin", ok: 200 },
  { method: "GET", path: () => "/api/audit/verify", role: "admin", ok: 200 },
  // Webhooks: an agent key manages its own agent's endpoints, an admin key any endpoint.
  {
    method: "POST",
    path: () => "/api/webhooks",
    role: "any",
    body: { url: "https://93.184.215.14/hooks", events: ["agent.quarantined"] },
    ok: 201,
  },
  { method: "GET", path: () => "/api/webhooks", role: "any", ok: 200 },
  {
    method: "DELETE",
    path: (self) => `/api/webhooks/${webhookOf(self)}`,
    pattern: "/api/webhooks/:id",
    role: "any",
    ok: 200,
  },
  {
    method: "POST",
    path: (self) => `/api/webhooks/${webhookOf(self)}/test`,
    pattern: "/api/webhooks/:id/test",
    role: "any",
    body: {},
    ok: 202,
  },
  {
    method: "GET",
    path: (self) => `/api/webhooks/${webhookOf(self)}/deliveries`,
    pattern: "/api/webhooks/:id/deliveries",
    role: "any",
    ok: 200,
  },
];

type Fixture = {
  t: TestApp;
  self: Registered;
  other: Registered;
  /** An agent of another owner. */
  stranger: Registered;
  adminKey: string;
};

/** The assessment each fixture's `self` agent ran, by agent id. */
const assessments = new Map<string, string>();

function assessmentOf(agent: Registered): string {
  return assessments.get(agent.agentId) ?? ":id";
}

/** The webhook endpoint each fixture's `self` agent registered, by agent id. */
const webhooks = new Map<string, string>();

function webhookOf(agent: Registered): string {
  return webhooks.get(agent.agentId) ?? ":id";
}

async function fixture(): Promise<Fixture> {
  const t = makeTestApp();
  const self = await registerAgent(t);
  const other = await registerAgent(t);
  const stranger = await registerAgent(t, { overrides: { owner_email: "eve@example.org" } });
  const admin = issueApiKey();
  t.store.apiKeys.createAdmin(
    { id: "adm_test", name: "ops", hash: admin.hash, prefix: admin.prefix },
    0,
  );
  const assessed = await t.call("POST", "/api/score/deep", {
    headers: { "x-api-key": self.apiKey },
    body: { description: "Books meeting rooms and finds free slots for the sales team." },
  });
  assert.equal(assessed.status, 201);
  assessments.set(self.agentId, String((await jsonOf(assessed)).assessment_id));
  // A public address literal: accepted without DNS, never contacted (no dispatcher runs here).
  const hooked = await t.call("POST", "/api/webhooks", {
    headers: { "x-api-key": self.apiKey },
    body: { url: "https://93.184.215.14/hooks", events: ["passport.issued"] },
  });
  assert.equal(hooked.status, 201);
  webhooks.set(self.agentId, String((await jsonOf(hooked)).webhook_id));
  return { t, self, other, stranger, adminKey: admin.key };
}

function send(
  f: Fixture,
  route: AuthRoute,
  headers: Record<string, string>,
  extra?: Record<string, unknown>,
) {
  const path = route.path(f.self, f.other);
  const base = typeof route.body === "function" ? route.body(f.self) : route.body;
  const body = base === undefined && extra === undefined ? undefined : { ...base, ...extra };
  return f.t.call(route.method, path, { headers, body });
}

const keyOf = (f: Fixture, route: AuthRoute) =>
  route.role === "admin" ? f.adminKey : f.self.apiKey;

async function expectDenied(res: Response, status: number, error: string) {
  const body = await jsonOf(res);
  assert.equal(
    res.status,
    status,
    `expected ${status} ${error}, got ${res.status} ${JSON.stringify(body)}`,
  );
  assert.equal(body.error, error);
  assert.equal(body.decision, "DENY");
  assert.match(String(body.request_id), /^req_/);
}

for (const route of ROUTES) {
  const name = `${route.method} ${route.path({ agentId: ":self" } as Registered, { agentId: ":id" } as Registered)}`;
  describe(`auth > ${name}`, () => {
    test("accepts the key in each carrier", async () => {
      const carriers = ["x-api-key", "x-aiegis-key", "authorization"] as const;
      for (const carrier of carriers) {
        const f = await fixture();
        const key = keyOf(f, route);
        const value = carrier === "authorization" ? `Bearer ${key}` : key;
        const res = await send(f, route, { [carrier]: value });
        assert.equal(res.status, route.ok, `${carrier}: ${await res.text()}`);
      }
      if (route.method === "POST") {
        const f = await fixture();
        const res = await send(f, route, {}, { api_key: keyOf(f, route) });
        assert.equal(res.status, route.ok, `body api_key: ${await res.text()}`);
      }
    });

    test("accepts the same key in several carriers", async () => {
      const f = await fixture();
      const key = keyOf(f, route);
      const res = await send(f, route, { "x-api-key": key, authorization: `Bearer ${key}` });
      assert.equal(res.status, route.ok);
    });

    test("401 Missing API key", async () => {
      const f = await fixture();
      await expectDenied(await send(f, route, {}), 401, "Missing API key");
      await expectDenied(
        await send(f, route, { authorization: "Basic dXNlcjpwYXNz" }),
        401,
        "Missing API key",
      );
    });

    test("401 Invalid API key: garbage, well-formed but unknown, bad checksum", async () => {
      const f = await fixture();
      const real = keyOf(f, route);
      const flipped = real.slice(0, 10) + (real[10] === "A" ? "B" : "A") + real.slice(11);
      for (const key of ["nope", issueApiKey().key, flipped]) {
        await expectDenied(await send(f, route, { "x-api-key": key }), 401, "Invalid API key");
      }
    });

    test("401 Ambiguous identity when two carriers hold different keys", async () => {
      const f = await fixture();
      const key = keyOf(f, route);
      const pairs: Record<string, string>[] = [
        { "x-api-key": key, "x-aiegis-key": f.other.apiKey },
        { "x-api-key": key, authorization: `Bearer ${f.other.apiKey}` },
        { "x-aiegis-key": f.other.apiKey, authorization: `Bearer ${key}` },
      ];
      for (const headers of pairs) {
        await expectDenied(await send(f, route, headers), 401, "Ambiguous identity");
      }
      if (route.method === "POST") {
        const res = await send(f, route, { "x-api-key": key }, { api_key: f.other.apiKey });
        await expectDenied(res, 401, "Ambiguous identity");
      }
    });

    test("403 Email unverified for a pending agent's key", async () => {
      const f = await fixture();
      const pending = await registerAgent(f.t, { verify: false });
      const res = await send(f, route, { "x-api-key": pending.apiKey });
      await expectDenied(res, 403, "Email unverified");
    });

    test("403 Agent quarantined for a quarantined agent's key", async () => {
      const f = await fixture();
      const victim = await registerAgent(f.t);
      await f.t.call("POST", `/api/agents/${victim.agentId}/quarantine`, {
        headers: { "x-api-key": ADMIN_KEY },
        body: { reason: "test" },
      });
      await expectDenied(
        await send(f, route, { "x-api-key": victim.apiKey }),
        403,
        "Agent quarantined",
      );
    });

    test("401 for a rotated-out key", async () => {
      const f = await fixture();
      const rotated = await f.t.call("POST", "/api/agents/me/rotate-key", {
        headers: { "x-api-key": f.self.apiKey },
        body: {},
      });
      assert.equal(rotated.status, 200);
      await expectDenied(
        await send(f, route, { "x-api-key": f.self.apiKey }),
        401,
        "Invalid API key",
      );
    });

    if (route.role === "owner") {
      test("403 agent_id mismatch when the body names another owner's agent", async () => {
        const f = await fixture();
        const res = await send(
          f,
          route,
          { "x-api-key": f.self.apiKey },
          { agent_id: f.stranger.agentId },
        );
        await expectDenied(res, 403, "agent_id mismatch");
        const unknown = await send(
          f,
          route,
          { "x-api-key": f.self.apiKey },
          { agent_id: "agt_0000000000000000000000" },
        );
        await expectDenied(unknown, 403, "agent_id mismatch");
      });

      test("accepts an agent of the same owner, and an admin key for any agent", async () => {
        const f = await fixture();
        const sibling = await send(
          f,
          route,
          { "x-api-key": f.self.apiKey },
          { agent_id: f.other.agentId },
        );
        assert.equal(sibling.status, route.ok, await sibling.text());
        const admin = await send(
          f,
          route,
          { "x-api-key": f.adminKey },
          { agent_id: f.stranger.agentId },
        );
        assert.equal(admin.status, route.ok, await admin.text());
      });
    }

    if (route.method === "POST" && route.role === "agent") {
      test("403 agent_id mismatch when the body names another agent", async () => {
        const f = await fixture();
        const res = await send(
          f,
          route,
          { "x-api-key": f.self.apiKey },
          { agent_id: f.other.agentId },
        );
        await expectDenied(res, 403, "agent_id mismatch");
        const same = await send(
          f,
          route,
          { "x-api-key": f.self.apiKey },
          { agent_id: f.self.agentId },
        );
        assert.equal(same.status, route.ok);
      });
    }

    if (route.passport === true) {
      test("403 DENY for a revoked, another agent's or a forged passport; 200 with a valid one", async () => {
        const f = await fixture();
        const issue = async (agent: Registered) => {
          const res = await f.t.call("POST", "/api/agent/issue", {
            headers: { "x-api-key": agent.apiKey },
            body: {
              agent_id: agent.agentId,
              operator: "Acme",
              jurisdiction: "EU",
              policy: "default",
            },
          });
          assert.equal(res.status, 201);
          return (await jsonOf(res)) as { passport: string; passport_id: string };
        };
        const mine = await issue(f.self);
        const withPassport = (passport: string) =>
          send(f, route, { "x-api-key": f.self.apiKey, "x-agent-passport": passport });
        assert.equal((await withPassport(mine.passport)).status, route.ok);
        const theirs = await issue(f.other);
        await expectDenied(
          await withPassport(theirs.passport),
          403,
          "Passport belongs to another agent",
        );
        await expectDenied(await withPassport(f.self.tag), 403, "Passport malformed");
        const revoked = await f.t.call("POST", "/registry/revoke", {
          headers: { "x-api-key": f.self.apiKey },
          body: { agent_id: f.self.agentId, passport_id: mine.passport_id, reason: "test" },
        });
        assert.equal(revoked.status, 200);
        await expectDenied(await withPassport(mine.passport), 403, "Passport revoked");
      });
    }

    // Owner and any-key routes take agent and admin keys alike: no key has the wrong role there.
    if (route.role !== "owner" && route.role !== "any") {
      test(`403 for a key of the wrong role (needs ${route.role})`, async () => {
        const f = await fixture();
        const wrong = route.role === "admin" ? f.self.apiKey : ADMIN_KEY;
        const res = await send(f, route, { "x-api-key": wrong });
        assert.equal(res.status, 403);
        assert.equal((await jsonOf(res)).code, "FORBIDDEN");
      });
    }
  });
}

/** Public routes that answer something other than JSON; each must answer without a key. */
const PUBLIC_NON_JSON = new Set(["GET /metrics", "GET /docs", "GET /docs/:asset"]);

test("every authenticated route of the app is in the shared security suite", async () => {
  const f = await fixture();
  const covered = new Set(ROUTES.map((r) => `${r.method} ${r.pattern ?? r.path(f.self, f.other)}`));
  const probes = f.t.app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => ({
      method: r.method,
      pattern: r.path,
      path: r.path.replace(":id", f.other.agentId).replace(":asset", "swagger-ui.css"),
    }));
  for (const probe of probes) {
    const res = await f.t.call(probe.method, probe.path, {
      body: probe.method === "POST" ? {} : undefined,
    });
    if (PUBLIC_NON_JSON.has(`${probe.method} ${probe.pattern}`)) {
      assert.equal(res.status, 200, `${probe.method} ${probe.path} should be public`);
      continue;
    }
    const body = await jsonOf(res);
    if (body.error === "Missing API key") {
      assert.ok(
        covered.has(`${probe.method} ${probe.path}`) ||
          covered.has(`${probe.method} ${probe.pattern}`),
        `${probe.method} ${probe.path} is not covered`,
      );
    }
  }
});
