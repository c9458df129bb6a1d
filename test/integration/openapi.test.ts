import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { EXAMPLE } from "../../src/openapi/examples.js";
import { SCOPES } from "../../src/scopes.js";
import { ADMIN_KEY, makeTestApp, type TestApp } from "../helpers/test-app.js";

type Json = Record<string, unknown>;
type Operation = Json & { operationId: string; responses: Record<string, Json> };

// The document as the app serves it: what clients and the docs UI actually read.
const served = makeTestApp();
const docResponse = await served.call("GET", "/openapi.json");
const docText = await docResponse.text();
const doc = JSON.parse(docText) as Json & {
  paths: Record<string, Record<string, Operation>>;
  components: Json & { responses: Record<string, Json> };
};

const BASE = "https://aiegis.test/openapi.json";
const ajv = new Ajv2020({
  strict: false,
  allErrors: true,
  formats: {
    // zod writes timestamps with Date#toISOString; accept any RFC 3339 date-time.
    "date-time": /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
  },
});
ajv.addSchema(doc, BASE);

const pointer = (...parts: string[]) =>
  parts.map((p) => `/${p.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");

function validatorAt(path: string): ValidateFunction {
  const validate = ajv.getSchema(`${BASE}#${path}`);
  assert.ok(validate, `no schema at ${path}`);
  return validate;
}

function assertValid(validate: ValidateFunction, value: unknown, what: string): void {
  const ok = validate(value);
  assert.ok(
    ok,
    `${what} does not match the document: ${ajv.errorsText(validate.errors, { separator: "\n" })}\n${JSON.stringify(value).slice(0, 1500)}`,
  );
}

/** Every operation of the document with its path and method. */
const operations: { path: string; method: string; op: Operation }[] = [];
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(item)) operations.push({ path, method, op });
}

// --- the state each operation needs --------------------------------------------------------

type Credential = "none" | "agent" | "admin" | "operator";
type Need =
  | "agent"
  | "pendingAgent"
  | "passport"
  | "assessment"
  | "webhook"
  | "operator"
  | "memberSignedUp"
  | "member"
  | "orgAgent"
  | "orgKey"
  | "apiKey"
  | "passwordReset";
type Plan = Readonly<{ credential: Credential; needs?: readonly Need[] }>;

/** How each operation is called; an operation without a plan fails, so none goes untested. */
const PLANS: Readonly<Record<string, Plan>> = {
  protect: { credential: "agent" },
  registerAgent: { credential: "none" },
  verifyEmail: { credential: "none", needs: ["pendingAgent"] },
  resendVerification: { credential: "none", needs: ["pendingAgent"] },
  verifyOperatorEmail: { credential: "none", needs: ["operator"] },
  resendOperatorVerification: { credential: "none", needs: ["operator"] },
  agentLogin: { credential: "none", needs: ["agent"] },
  listPublicAgents: { credential: "none", needs: ["agent"] },
  getCurrentAgent: { credential: "agent" },
  rotateAgentKey: { credential: "agent" },
  quarantineAgent: { credential: "admin", needs: ["agent"] },
  unquarantineAgent: { credential: "admin", needs: ["agent"] },
  issuePassport: { credential: "agent" },
  verifyPassport: { credential: "none", needs: ["passport"] },
  revokePassport: { credential: "agent", needs: ["passport"] },
  listRevocations: { credential: "none", needs: ["passport"] },
  scoreFree: { credential: "none" },
  scoreDeep: { credential: "agent" },
  getAssessment: { credential: "agent", needs: ["assessment"] },
  listAuditEntries: { credential: "agent" },
  exportAuditLog: { credential: "admin", needs: ["agent"] },
  verifyAuditLog: { credential: "admin", needs: ["agent"] },
  createWebhook: { credential: "agent" },
  listWebhooks: { credential: "agent", needs: ["webhook"] },
  deleteWebhook: { credential: "agent", needs: ["webhook"] },
  testWebhook: { credential: "agent", needs: ["webhook"] },
  listWebhookDeliveries: { credential: "agent", needs: ["webhook"] },
  getHealth: { credential: "none" },
  getJwks: { credential: "none" },
  getMetrics: { credential: "none" },
  getOpenApiDocument: { credential: "none" },
  signup: { credential: "none" },
  login: { credential: "none", needs: ["operator"] },
  refreshToken: { credential: "none", needs: ["operator"] },
  logout: { credential: "none", needs: ["operator"] },
  getCurrentOperator: { credential: "operator" },
  changePassword: { credential: "operator" },
  forgotPassword: { credential: "none", needs: ["operator"] },
  resetPassword: { credential: "none", needs: ["passwordReset"] },
  createOrganization: { credential: "operator" },
  listOrganizations: { credential: "operator" },
  getOrganization: { credential: "operator" },
  addMember: { credential: "operator", needs: ["memberSignedUp"] },
  listMembers: { credential: "operator", needs: ["member"] },
  removeMember: { credential: "operator", needs: ["member"] },
  changeMemberRole: { credential: "operator", needs: ["member"] },
  createOrgAgent: { credential: "operator" },
  listOrgAgents: { credential: "operator", needs: ["orgAgent"] },
  getOrgAgent: { credential: "operator", needs: ["orgAgent"] },
  createApiKey: { credential: "operator" },
  listApiKeys: { credential: "operator", needs: ["apiKey"] },
  revokeApiKey: { credential: "operator", needs: ["apiKey"] },
  rotateApiKey: { credential: "operator", needs: ["apiKey"] },
};

function operationById(id: string): { path: string; method: string; op: Operation } {
  const found = operations.find((o) => o.op.operationId === id);
  assert.ok(found, `operation ${id} is not documented`);
  return found;
}

/** The documented request body example of an operation. */
function bodyExample(op: Operation): unknown {
  const body = op.requestBody as { content: Record<string, { example?: unknown }> } | undefined;
  return body?.content["application/json"]?.example;
}

/** Replaces every example identifier (EXAMPLE.*) by the value the world created for it. */
function substitute(value: unknown, subs: ReadonlyMap<string, string>): unknown {
  if (typeof value === "string") return subs.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => substitute(v, subs));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, subs)]));
  }
  return value;
}

/** One fresh app and whatever state an operation needs, built through the API itself. */
class World {
  readonly t: TestApp = makeTestApp();
  readonly subs = new Map<string, string>();
  accessToken: string | undefined;
  /** An organization key holding every scope (built by the `orgKey` need). */
  orgKey: string | undefined;
  readonly #done = new Set<Need>();

  /**
   * `self`: agents register themselves and act with their own keys. `org`: the agent is an
   * organization's agent and every agent-related call is made with an organization key.
   */
  constructor(readonly mode: "self" | "org" = "self") {}

  /** POSTs or GETs and returns the JSON answer, failing with the body on any other status. */
  async send(method: string, path: string, expected: number, body?: unknown, headers = {}) {
    const res = await this.t.call(method, path, { body, headers });
    const text = await res.text();
    assert.equal(res.status, expected, `setup ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Json;
  }

  sub(placeholder: string, actual: unknown): void {
    assert.equal(typeof actual, "string", `setup produced no value for ${placeholder}`);
    this.subs.set(placeholder, actual as string);
  }

  get agentHeaders() {
    if (this.mode === "org") return { "x-api-key": this.orgKey ?? "" };
    return { "x-api-key": this.subs.get(EXAMPLE.agentKey) ?? "" };
  }

  /** A body as the current mode sends it: an organization key names the agent acting. */
  agentBody(body: unknown): unknown {
    if (this.mode !== "org" || body === null || typeof body !== "object") return body;
    return { agent_id: this.subs.get(EXAMPLE.agentId), ...body };
  }

  get operatorHeaders() {
    return { authorization: `Bearer ${this.accessToken ?? ""}` };
  }

  async need(need: Need): Promise<void> {
    if (this.#done.has(need)) return;
    this.#done.add(need);
    await this.#build[need]();
  }

  readonly #build: Record<Need, () => Promise<void>> = {
    pendingAgent: async () => {
      const created = await this.send(
        "POST",
        "/api/v1/register",
        201,
        bodyExample(operationById("registerAgent").op),
      );
      this.sub(EXAMPLE.agentId, created.agent_id);
      this.sub(EXAMPLE.agentKey, created.api_key);
      this.sub(EXAMPLE.verificationToken, this.t.mailer.lastToken(EXAMPLE.ownerEmail));
    },
    agent: async () => {
      if (this.mode === "org") {
        await this.need("orgAgent");
        await this.need("orgKey");
        this.sub(EXAMPLE.agentId, this.subs.get(EXAMPLE.orgAgentId));
        return;
      }
      await this.need("pendingAgent");
      const token = encodeURIComponent(this.subs.get(EXAMPLE.verificationToken)!);
      await this.send("GET", `/api/v1/verify-email?token=${token}`, 200);
    },
    passport: async () => {
      await this.need("agent");
      const example = substitute(bodyExample(operationById("issuePassport").op), this.subs);
      const issued = await this.send(
        "POST",
        "/api/v1/agent/issue",
        201,
        example,
        this.agentHeaders,
      );
      this.sub(EXAMPLE.passport, issued.passport);
      this.sub(EXAMPLE.passportId, issued.passport_id);
    },
    assessment: async () => {
      await this.need("agent");
      const example = this.agentBody(bodyExample(operationById("scoreDeep").op));
      const stored = await this.send("POST", "/api/v1/score/deep", 201, example, this.agentHeaders);
      this.sub(EXAMPLE.assessmentId, stored.assessment_id);
    },
    webhook: async () => {
      await this.need("agent");
      const example = bodyExample(operationById("createWebhook").op);
      const created = await this.send("POST", "/api/v1/webhooks", 201, example, this.agentHeaders);
      this.sub(EXAMPLE.webhookId, created.webhook_id);
    },
    operator: async () => {
      const signup = bodyExample(operationById("signup").op);
      const created = await this.send("POST", "/api/v1/auth/signup", 201, signup);
      this.sub(EXAMPLE.orgId, (created.organization as Json | undefined)?.id);
      // Left unspent: verifyOperatorEmail's example sends it.
      this.sub(EXAMPLE.operatorVerificationToken, this.t.mailer.lastToken(EXAMPLE.operatorEmail));
      const login = bodyExample(operationById("login").op);
      const tokens = await this.send("POST", "/api/v1/auth/login", 200, login);
      this.accessToken = String(tokens.access_token);
      this.sub(EXAMPLE.refreshToken, tokens.refresh_token);
    },
    passwordReset: async () => {
      await this.need("operator");
      await this.send("POST", "/api/v1/auth/password/forgot", 202, {
        email: EXAMPLE.operatorEmail,
      });
      // The mail goes out after the answer.
      await new Promise((resolve) => setImmediate(resolve));
      this.sub(EXAMPLE.passwordResetToken, this.t.mailer.lastToken(EXAMPLE.operatorEmail));
    },
    memberSignedUp: async () => {
      await this.need("operator");
      const created = await this.send("POST", "/api/v1/auth/signup", 201, {
        email: EXAMPLE.memberEmail,
        password: "another long passphrase",
        name: "Grace Hopper",
        organization: "Hopper Labs",
      });
      this.sub(EXAMPLE.memberOperatorId, (created.operator as Json | undefined)?.id);
      // Only a verified address can be added to an organization.
      const token = encodeURIComponent(this.t.mailer.lastToken(EXAMPLE.memberEmail));
      await this.send("GET", `/api/v1/auth/verify-email?token=${token}`, 200);
    },
    member: async () => {
      await this.need("memberSignedUp");
      const org = this.subs.get(EXAMPLE.orgId);
      const example = bodyExample(operationById("addMember").op);
      await this.send(
        "POST",
        `/api/v1/organizations/${org}/members`,
        201,
        example,
        this.operatorHeaders,
      );
    },
    orgAgent: async () => {
      await this.need("operator");
      const org = this.subs.get(EXAMPLE.orgId);
      const example = bodyExample(operationById("createOrgAgent").op);
      const created = await this.send(
        "POST",
        `/api/v1/organizations/${org}/agents`,
        201,
        example,
        this.operatorHeaders,
      );
      this.sub(EXAMPLE.orgAgentId, created.agent_id);
    },
    orgKey: async () => {
      await this.need("operator");
      const org = this.subs.get(EXAMPLE.orgId);
      const created = await this.send(
        "POST",
        `/api/v1/organizations/${org}/api-keys`,
        201,
        { name: "every scope", scopes: [...SCOPES] },
        this.operatorHeaders,
      );
      this.orgKey = String(created.api_key);
    },
    apiKey: async () => {
      await this.need("operator");
      const org = this.subs.get(EXAMPLE.orgId);
      const created = await this.send(
        "POST",
        `/api/v1/organizations/${org}/api-keys`,
        201,
        { name: "every scope", scopes: [...SCOPES] },
        this.operatorHeaders,
      );
      this.sub(EXAMPLE.apiKeyId, created.id);
    },
  };
}

type Parameter = { name: string; in: string; example?: unknown };

/** The request the documented example describes, with the world's identifiers. */
async function exampleRequest(
  path: string,
  op: Operation,
  plan: Plan,
  mode: "self" | "org" = "self",
) {
  const world = new World(mode);
  if (mode === "org") await world.need("orgKey");
  // Operator calls need a signed-in operator whatever else they need.
  if (plan.credential === "agent") await world.need("agent");
  if (plan.credential === "operator") await world.need("operator");
  for (const need of plan.needs ?? []) await world.need(need);
  const parameters = (op.parameters ?? []) as Parameter[];
  let url = path;
  const query = new URLSearchParams();
  for (const p of parameters) {
    const value = substitute(p.example, world.subs);
    if (p.in === "path") {
      assert.equal(typeof value, "string", `path parameter ${p.name} has no example`);
      url = url.replace(`{${p.name}}`, encodeURIComponent(value as string));
    } else if (p.in === "query" && value !== undefined) {
      query.set(p.name, String(value));
    }
  }
  if (query.size > 0) url += `?${query}`;
  const headers: Record<string, string> =
    mode === "org"
      ? world.agentHeaders
      : plan.credential === "agent"
        ? world.agentHeaders
        : plan.credential === "admin"
          ? { "x-api-key": ADMIN_KEY }
          : plan.credential === "operator"
            ? world.operatorHeaders
            : {};
  const example = bodyExample(op);
  let body = example === undefined ? undefined : substitute(example, world.subs);
  // With an organization key, endpoints acting as an agent need the agent named in the body.
  const schema = (op.requestBody as { content: Record<string, { schema: Json }> } | undefined)
    ?.content["application/json"]?.schema;
  const properties = (schema?.properties ?? {}) as Json;
  if (mode === "org" && "agent_id" in properties) body = world.agentBody(body);
  return { world, url, headers, body };
}

/** The response object of a status, following a components.responses reference. */
function documentedResponse(path: string, method: string, op: Operation, status: number) {
  const response = op.responses[String(status)];
  if (response === undefined) return undefined;
  const ref = response.$ref;
  if (typeof ref === "string") {
    const name = ref.split("/").at(-1)!;
    return {
      response: doc.components.responses[name]!,
      at: pointer("components", "responses", name),
    };
  }
  return { response, at: pointer("paths", path, method, "responses", String(status)) };
}

/** Checks status, content type and body of a response against the operation's document. */
async function assertDocumented(
  path: string,
  method: string,
  op: Operation,
  res: Response,
): Promise<string> {
  const text = await res.text();
  const documented = documentedResponse(path, method, op, res.status);
  assert.ok(
    documented,
    `${op.operationId}: status ${res.status} is not documented (documented: ${Object.keys(op.responses).join(", ")}); body: ${text.slice(0, 800)}`,
  );
  assert.ok(res.headers.get("x-request-id")?.startsWith("req_"), "X-Request-Id missing");
  const content = documented.response.content as Record<string, Json> | undefined;
  if (content === undefined) return text;
  const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const media = content[mediaType];
  assert.ok(
    media,
    `${op.operationId}: content type ${mediaType} is not documented for ${res.status} (${Object.keys(content).join(", ")})`,
  );
  const at = `${documented.at}${pointer("content", mediaType)}`;
  if (media["x-item-schema"] !== undefined) {
    const validate = validatorAt(`${at}/x-item-schema`);
    const lines = text.split("\n").filter((line) => line !== "");
    for (const [i, line] of lines.entries())
      assertValid(validate, JSON.parse(line), `line ${i + 1}`);
  } else if (mediaType === "application/json" || mediaType.endsWith("+json")) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      assert.fail(`${op.operationId}: not JSON (${res.status}): ${text.slice(0, 300)}`);
    }
    assertValid(validatorAt(`${at}/schema`), body, `${op.operationId} ${res.status} body`);
  } else {
    assert.ok(text.length > 0, `${op.operationId}: empty ${mediaType} body`);
  }
  return text;
}

// --- (a) the document ---------------------------------------------------------------------

describe("openapi > document", () => {
  test("is served as application/json", () => {
    assert.equal(docResponse.status, 200);
    assert.match(docResponse.headers.get("content-type") ?? "", /^application\/json/);
  });

  test("is a valid OpenAPI 3.1 document", async () => {
    assert.equal(doc.openapi, "3.1.0");
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    assert.ok(result.valid, `invalid document: ${JSON.stringify(result.errors, null, 2)}`);
  });

  test("every operation has an id, a summary, tags, security and a plan in this test", () => {
    const ids = new Set<string>();
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.match(op.operationId, /^[a-z][A-Za-z0-9]*$/, `${where}: operationId`);
      assert.ok(!ids.has(op.operationId), `${where}: duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      assert.ok(typeof op.summary === "string" && op.summary !== "", `${where}: summary`);
      assert.ok(Array.isArray(op.tags) && op.tags.length > 0, `${where}: tags`);
      assert.ok(Array.isArray(op.security), `${where}: security`);
      assert.ok(PLANS[op.operationId], `${where}: no plan for ${op.operationId} in this test`);
      const scope = op["x-required-scope"];
      if (scope !== undefined) assert.ok(SCOPES.includes(scope as never), `${where}: scope`);
    }
  });

  test("every error response is the one Error envelope", () => {
    for (const [name, response] of Object.entries(doc.components.responses)) {
      const content = response.content as Record<string, { schema: Json }>;
      assert.deepEqual(
        content["application/json"]?.schema,
        { $ref: "#/components/schemas/Error" },
        name,
      );
    }
    for (const { path, method, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        // Health's 503 is its own body (the same shape as its 200), not an error.
        if (Number(status) >= 400 && op.operationId !== "getHealth") {
          assert.ok(typeof response.$ref === "string", `${method} ${path} ${status} is not a $ref`);
        }
      }
    }
  });

  test("every documented example validates against its own schema", () => {
    for (const { path, method, op } of operations) {
      const at = pointer("paths", path, method);
      if (bodyExample(op) !== undefined) {
        const validate = validatorAt(
          `${at}${pointer("requestBody", "content", "application/json", "schema")}`,
        );
        assertValid(validate, bodyExample(op), `${op.operationId} body example`);
      }
      for (const [i, p] of ((op.parameters ?? []) as Parameter[]).entries()) {
        if (p.example === undefined) continue;
        assertValid(
          validatorAt(`${at}/parameters/${i}/schema`),
          p.example,
          `${op.operationId} ${p.name}`,
        );
      }
    }
  });
});

// --- (b) every operation against the live app ------------------------------------------------

/** The route pattern an app registers for a documented path (/api/v1 aliases /api and /registry). */
function routeOf(path: string): string {
  const route = path.startsWith("/api/v1/registry/")
    ? path.slice("/api/v1".length)
    : path.startsWith("/api/v1/")
      ? `/api/${path.slice("/api/v1/".length)}`
      : path;
  return route.replace(/\{([^}]+)\}/g, ":$1");
}

/** The interactive docs themselves: a UI, not an API operation. */
const UNDOCUMENTED_ROUTES: ReadonlySet<string> = new Set(["GET /docs", "GET /docs/:asset"]);

describe("openapi > routes", () => {
  const routes = new Set(
    served.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
  );
  const documented = new Set(operations.map((o) => `${o.method.toUpperCase()} ${routeOf(o.path)}`));

  test("every route the app serves is documented", () => {
    const missing = [...routes].filter((r) => !documented.has(r) && !UNDOCUMENTED_ROUTES.has(r));
    assert.deepEqual(missing, [], `undocumented routes: ${missing.join(", ")}`);
  });

  test("every documented operation is served", () => {
    const absent = [...documented].filter((r) => !routes.has(r));
    assert.deepEqual(absent, [], `documented but not served: ${absent.join(", ")}`);
  });
});

/** Sends an operation's documented example; the answer must be a documented 2xx. */
async function sendExample(
  path: string,
  method: string,
  op: Operation,
  plan: Plan,
  mode: "self" | "org" = "self",
): Promise<void> {
  const { world, url, headers, body } = await exampleRequest(path, op, plan, mode);
  const res = await world.t.call(method.toUpperCase(), url, { headers, body });
  const text = await assertDocumented(path, method, op, res);
  assert.ok(
    res.status >= 200 && res.status < 300,
    `${op.operationId}: example answered ${res.status}: ${text.slice(0, 800)}`,
  );
}

describe("openapi > every operation's example against the live app", () => {
  for (const { path, method, op } of operations) {
    const plan = PLANS[op.operationId] ?? { credential: "none" };
    test(`${op.operationId} (${method.toUpperCase()} ${path})`, () =>
      sendExample(path, method, op, plan));
  }
});

describe("openapi > scoped operations with an organization key", () => {
  for (const { path, method, op } of operations) {
    const scope = op["x-required-scope"];
    if (typeof scope !== "string") continue;
    const plan = PLANS[op.operationId] ?? { credential: "none" };
    test(`${op.operationId} with an organization key (${scope})`, () =>
      sendExample(path, method, op, plan, "org"));
  }
});

describe("openapi > documented errors in the v1 envelope", () => {
  for (const { path, method, op } of operations) {
    if (!path.startsWith("/api/v1/")) continue;
    const plan = PLANS[op.operationId] ?? { credential: "none" };
    const security = op.security as Json[];
    // `{}` among the alternatives: the operation can be called without any scheme.
    const secured = security.length > 0 && security.every((s) => Object.keys(s).length > 0);
    if (secured) {
      test(`${op.operationId} without a credential`, async () => {
        const { world, url, body } = await exampleRequest(path, op, plan);
        const res = await world.t.call(method.toUpperCase(), url, { body });
        assert.equal(res.status, 401);
        const error = JSON.parse(await assertDocumented(path, method, op, res)) as Json;
        assert.equal((error.error as Json).type, "UNAUTHENTICATED");
      });
    }
    if (bodyExample(op) !== undefined) {
      test(`${op.operationId} with an unknown body member`, async () => {
        const { world, url, headers, body } = await exampleRequest(path, op, plan);
        const res = await world.t.call(method.toUpperCase(), url, {
          headers,
          body: { ...(body as Json), zz_unknown: true },
        });
        assert.equal(res.status, 400);
        const error = JSON.parse(await assertDocumented(path, method, op, res)) as Json;
        assert.deepEqual((error.error as Json).details, [
          { field: "zz_unknown", message: "unknown field" },
        ]);
      });
    }
  }
});

// --- (c) the interactive docs ----------------------------------------------------------------

const TYPES: Readonly<Record<string, RegExp>> = {
  css: /^text\/css/,
  js: /^(text|application)\/javascript/,
  png: /^image\/png/,
};

describe("openapi > /docs", () => {
  test("serves Swagger UI from this origin with a strict CSP and no inline script", async () => {
    const t = makeTestApp();
    const page = await t.call("GET", "/docs");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-eval|script-src[^;]*unsafe-inline/);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length > 0);
    for (const [, attributes, inline] of scripts) {
      assert.match(attributes ?? "", /src="/, "every script is a file");
      assert.equal(inline?.trim(), "", "no inline script");
    }
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith("swagger-ui-bundle.js")));
    for (const asset of assets) {
      assert.ok(asset.startsWith("/docs/"), `${asset} is served from this origin`);
      const res = await t.call("GET", asset);
      assert.equal(res.status, 200, asset);
      const type = TYPES[asset.split(".").at(-1)!];
      assert.ok(type, `unexpected asset ${asset}`);
      assert.match(res.headers.get("content-type") ?? "", type, asset);
      assert.equal(res.headers.get("content-security-policy"), csp, `${asset} CSP`);
      assert.ok((await res.arrayBuffer()).byteLength > 0, `${asset} is empty`);
    }
    const init = await (await t.call("GET", "/docs/init.js")).text();
    assert.match(init, /url: "\/openapi\.json"/);
    assert.equal((await t.call("GET", "/docs/nope.js")).status, 404);
  });
});
