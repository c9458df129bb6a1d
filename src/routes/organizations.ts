import type { Context, Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { issueApiKey, ORG_KEY_PREFIX } from "../crypto/api-key.js";
import { denied, GatewayError } from "../errors.js";
import { newId } from "../ids.js";
import { ROLES, type Role, SCOPES, type Scope } from "../scopes.js";
import { type AgentRecord, statusOf } from "../store/agents.js";
import type { OrgApiKeyInfo } from "../store/org-api-keys.js";
import { AUTH_FIELDS, email, intString, parseInput, slug, text } from "../validation.js";
import { afterCursor, paged } from "./cursor.js";
import { nameKeyOf } from "./registration.js";
import type { RouteContext } from "./route-context.js";

/** What an operator may do in an organization; a role is the set of permissions it grants. */
type Permission =
  | "org:read"
  | "members:manage"
  | "agents:read"
  | "agents:create"
  | "keys:read"
  | "keys:manage";

const VIEWER: readonly Permission[] = ["org:read", "agents:read", "keys:read"];
const MEMBER: readonly Permission[] = [...VIEWER, "agents:create"];
const ADMIN: readonly Permission[] = [...MEMBER, "members:manage", "keys:manage"];

/** Owners differ from admins in whom they may manage (owners and admins), checked per handler. */
const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  owner: new Set(ADMIN),
  admin: new Set(ADMIN),
  member: new Set(MEMBER),
  viewer: new Set(VIEWER),
};

/**
 * The only permissions an organization key can exercise here, and the scope each needs. Keys
 * never manage members or keys: a leaked key cannot mint itself a successor or an operator.
 */
const KEY_SCOPE_FOR: Readonly<Partial<Record<Permission, Scope>>> = {
  "agents:read": "agents:manage",
  "agents:create": "agents:manage",
};

/** Who is acting in the organization: an operator with a role, or an organization key. */
type OrgActor = Readonly<{ orgId: string; actor: string; role: Role | null }>;

const MAX_GRACE_S = 7 * 86_400;
const DEFAULT_GRACE_S = 86_400;
const MAX_KEY_LIFETIME_MS = 10 * 365 * 86_400_000;

export const OrgParam = z
  .string()
  .regex(/^org_[0-9A-Za-z]{22}$/, { message: "is not an organization id" });
export const OperatorParam = z
  .string()
  .regex(/^opr_[0-9A-Za-z]{22}$/, { message: "is not an operator id" });
export const AgentParam = z
  .string()
  .regex(/^agt_[0-9A-Za-z]{22}$/, { message: "is not an agent id" });
export const KeyParam = z
  .string()
  .regex(/^key_[0-9A-Za-z]{22}$/, { message: "is not an API key id" });

export const CreateOrganizationBody = z.strictObject({ name: text(1, 100) });

export const AddMemberBody = z.strictObject({
  email: email(),
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(", ")}` }),
});

export const ChangeRoleBody = z.strictObject({
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(", ")}` }),
});

export const CreateOrgAgentBody = z.strictObject({
  // An organization key may travel in the body, as on every route that takes keys.
  api_key: AUTH_FIELDS.api_key,
  name: text(1, 64),
  type: slug(40),
  description: text(0, 1000, { multiline: true }).optional(),
});

export const AgentListQuery = z.strictObject({
  limit: intString(1, 100).optional(),
  cursor: z.string().max(64).optional(),
});

export const CreateApiKeyBody = z.strictObject({
  name: text(1, 100),
  scopes: z
    .array(z.enum(SCOPES, { message: `must be one of ${SCOPES.join(", ")}` }))
    .min(1, { message: "must name at least one scope" })
    .max(SCOPES.length)
    .refine((list) => new Set(list).size === list.length, { message: "must not repeat a scope" }),
  expires_at: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
});

export const RotateApiKeyBody = z.strictObject({
  grace_seconds: z.int().min(0).max(MAX_GRACE_S).optional(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function agentView(agent: AgentRecord) {
  return {
    agent_id: agent.id,
    name: agent.name,
    type: agent.type,
    description: agent.description,
    org_id: agent.orgId,
    status: statusOf(agent),
    created_at: iso(agent.createdAt),
  };
}

function keyView(key: OrgApiKeyInfo) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    created_at: iso(key.createdAt),
    last_used_at: iso(key.lastUsedAt),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    rotated_from: key.rotatedFrom,
  };
}

function orgActor(c: Context<AppEnv>): OrgActor {
  const actor = c.get("orgActor");
  // Every handler below sits behind `access`, which sets it; reaching here without is a bug.
  if (actor === undefined) throw new GatewayError("INTERNAL", "Internal error");
  return actor;
}

/**
 * Which credential the request carries: an API key (in any carrier `authenticate` reads), an
 * operator's access token, or none.
 */
function credentialOf(c: Context<AppEnv>): "key" | "token" | "none" {
  const body = c.get("body") as { api_key?: unknown } | null | undefined;
  if (
    c.req.header("x-api-key") !== undefined ||
    c.req.header("x-aiegis-key") !== undefined ||
    typeof body?.api_key === "string"
  ) {
    return "key";
  }
  const authorization = c.req.header("authorization")?.trim() ?? "";
  if (authorization === "") return "none";
  const bearer =
    authorization.slice(0, 7).toLowerCase() === "bearer " ? authorization.slice(7) : "";
  return bearer.trim().startsWith("ak_") ? "key" : "token";
}

/**
 * /api/organizations: an operator's organizations, their members, agents and scoped API keys.
 * Operators authenticate with an access token and act by role; an organization key may only
 * list and create its own organization's agents (scope `agents:manage`). Someone who is not a
 * member gets 404 for an organization, exactly as for one that does not exist.
 */
export function mountOrganizations(app: Hono<AppEnv>, ctx: RouteContext): void {
  const access = (permission: Permission): MiddlewareHandler<AppEnv> => {
    const scope = KEY_SCOPE_FOR[permission];
    // Where no scope applies, keyAuth itself refuses organization keys and byKey every other key.
    const keyAuth = ctx.auth("admin", scope);
    const byRole: MiddlewareHandler<AppEnv> = async (c, next) => {
      const orgId = parseInput(OrgParam, c.req.param("org"), "path");
      const operator = c.get("operator");
      const role = ctx.store.organizations.roleOf(orgId, operator.operatorId);
      if (role === undefined) throw new GatewayError("NOT_FOUND", "Organization not found");
      if (!ROLE_PERMISSIONS[role].has(permission)) {
        throw denied("FORBIDDEN", `The ${role} role may not do this`, { role });
      }
      c.set("orgActor", { orgId, actor: operator.operatorId, role });
      await next();
    };
    const byKey: MiddlewareHandler<AppEnv> = async (c, next) => {
      const orgId = parseInput(OrgParam, c.req.param("org"), "path");
      const principal = c.get("principal");
      // Admin keys administer agents, not organizations: they act through operators.
      if (principal.kind !== "org") {
        throw denied("FORBIDDEN", "This endpoint needs an operator access token");
      }
      if (principal.orgId !== orgId) throw new GatewayError("NOT_FOUND", "Organization not found");
      c.set("orgActor", { orgId, actor: principal.keyId, role: null });
      await next();
    };
    return (c, next) => {
      const credential = credentialOf(c);
      // With nothing presented, a route no key may use asks for what it takes: an access token.
      if (credential === "token" || (credential === "none" && scope === undefined)) {
        return ctx.operatorAuth(c, async () => {
          await byRole(c, next);
        });
      }
      if (credential === "none") {
        throw denied("UNAUTHENTICATED", "Missing access token or API key");
      }
      return keyAuth(c, async () => {
        await byKey(c, next);
      });
    };
  };

  app.post("/api/organizations", ctx.publicBody, ctx.operatorAuth, (c) => {
    const input = parseInput(CreateOrganizationBody, c.get("body"));
    const operator = c.get("operator");
    const now = ctx.clock.now();
    const id = newId("org");
    ctx.store.organizations.create(
      { id, name: input.name, createdBy: operator.operatorId, createdAt: now },
      { actor: operator.operatorId, requestId: c.get("requestId") },
    );
    return c.json({ id, name: input.name, role: "owner", created_at: iso(now) }, 201);
  });

  app.get("/api/organizations", ctx.operatorAuth, (c) => {
    const organizations = ctx.store.organizations.forOperator(c.get("operator").operatorId);
    return c.json({
      organizations: organizations.map((o) => ({
        id: o.id,
        name: o.name,
        role: o.role,
        created_at: iso(o.createdAt),
      })),
    });
  });

  app.get("/api/organizations/:org", access("org:read"), (c) => {
    const { orgId, role } = orgActor(c);
    const org = ctx.store.organizations.byId(orgId)!;
    return c.json({ id: org.id, name: org.name, role, created_at: iso(org.createdAt) });
  });

  // --- members ---------------------------------------------------------------------------

  app.post("/api/organizations/:org/members", ctx.publicBody, access("members:manage"), (c) => {
    const input = parseInput(AddMemberBody, c.get("body"));
    const { orgId, actor, role } = orgActor(c);
    if (role !== "owner" && input.role === "owner") {
      throw denied("FORBIDDEN", "Only an owner may add an owner", { role: role ?? "key" });
    }
    const operator = ctx.store.operators.byEmail(input.email);
    // Only a verified address: otherwise whoever signed up first with a colleague's address would
    // be let in in their place. Unverified and unknown look the same, so nobody learns which.
    if (operator === undefined || operator.verifiedAt === null) {
      throw new GatewayError(
        "NOT_FOUND",
        "No operator with a verified e-mail address has signed up with this address",
      );
    }
    const now = ctx.clock.now();
    const added = ctx.store.organizations.addMember(orgId, operator.id, input.role, now, {
      actor,
      requestId: c.get("requestId"),
    });
    if (added === "already_member") {
      throw new GatewayError("CONFLICT", "This operator is already a member");
    }
    return c.json(
      {
        operator_id: operator.id,
        email: operator.email,
        name: operator.name,
        role: input.role,
        created_at: iso(now),
      },
      201,
    );
  });

  app.get("/api/organizations/:org/members", access("org:read"), (c) => {
    const { orgId } = orgActor(c);
    return c.json({
      members: ctx.store.organizations.members(orgId).map((m) => ({
        operator_id: m.operatorId,
        email: m.email,
        name: m.name,
        role: m.role,
        created_at: iso(m.createdAt),
      })),
    });
  });

  app.delete("/api/organizations/:org/members/:operator", access("org:read"), (c) => {
    const { orgId, actor, role } = orgActor(c);
    const operatorId = parseInput(OperatorParam, c.req.param("operator"), "path");
    const target = ctx.store.organizations.roleOf(orgId, operatorId);
    if (target === undefined) throw new GatewayError("NOT_FOUND", "Member not found");
    // Anyone may leave; removing someone else takes members:manage, and an owner or an admin
    // can only be removed by an owner.
    if (operatorId !== actor) {
      if (role === null || !ROLE_PERMISSIONS[role].has("members:manage")) {
        throw denied("FORBIDDEN", `The ${role ?? "key"} role may not do this`);
      }
      if ((target === "owner" || target === "admin") && role !== "owner") {
        throw denied("FORBIDDEN", `Only an owner may remove an ${target}`);
      }
    }
    const result = ctx.store.organizations.removeMember(orgId, operatorId, ctx.clock.now(), {
      actor,
      requestId: c.get("requestId"),
    });
    if (result === "last_owner") {
      throw new GatewayError("CONFLICT", "The last owner cannot leave or be removed");
    }
    if (result === "not_member") throw new GatewayError("NOT_FOUND", "Member not found");
    return c.json({ operator_id: operatorId, removed: true });
  });

  app.patch(
    "/api/organizations/:org/members/:operator",
    ctx.publicBody,
    access("members:manage"),
    (c) => {
      const input = parseInput(ChangeRoleBody, c.get("body"));
      const { orgId, actor, role } = orgActor(c);
      const operatorId = parseInput(OperatorParam, c.req.param("operator"), "path");
      const member = ctx.store.organizations.member(orgId, operatorId);
      if (member === undefined) throw new GatewayError("NOT_FOUND", "Member not found");
      // Owners and admins are made and unmade by owners only, as they are added and removed.
      const privileged = (r: Role) => r === "owner" || r === "admin";
      if (role !== "owner" && (privileged(member.role) || input.role === "owner")) {
        throw denied("FORBIDDEN", "Only an owner may change an owner's or an admin's role", {
          role: role ?? "key",
        });
      }
      const result = ctx.store.organizations.changeRole(
        orgId,
        operatorId,
        input.role,
        ctx.clock.now(),
        { actor, requestId: c.get("requestId") },
      );
      if (result === "last_owner") {
        throw new GatewayError("CONFLICT", "The last owner cannot be given another role");
      }
      if (result === "not_member") throw new GatewayError("NOT_FOUND", "Member not found");
      return c.json({
        operator_id: member.operatorId,
        email: member.email,
        name: member.name,
        role: input.role,
        created_at: iso(member.createdAt),
      });
    },
  );

  // --- agents ----------------------------------------------------------------------------

  app.post("/api/organizations/:org/agents", ctx.publicBody, access("agents:create"), (c) => {
    const input = parseInput(CreateOrgAgentBody, c.get("body"));
    const { orgId, actor } = orgActor(c);
    const org = ctx.store.organizations.byId(orgId)!;
    const now = ctx.clock.now();
    const key = issueApiKey();
    const id = newId("agt");
    const result = ctx.store.agents.createInOrg(
      {
        id,
        orgId,
        orgName: org.name,
        name: input.name,
        nameKey: nameKeyOf(input.name),
        type: input.type,
        description: input.description ?? "",
        createdAt: now,
        key: { id: newId("key"), hash: key.hash, prefix: key.prefix },
      },
      { actor, requestId: c.get("requestId") },
    );
    if (!result.ok) {
      throw new GatewayError("CONFLICT", "This organization already has an agent with this name");
    }
    ctx.logger.info({ agent_id: id, org_id: orgId, actor }, "organization agent created");
    const agent = ctx.store.agents.byId(id)!;
    // The agent's key is shown this once; only its hash is stored.
    return c.json({ ...agentView(agent), api_key: key.key, key_prefix: key.prefix }, 201);
  });

  app.get("/api/organizations/:org/agents", access("agents:read"), (c) => {
    const query = parseInput(AgentListQuery, c.req.query(), "query");
    const { orgId } = orgActor(c);
    const limit = query.limit ?? 50;
    const rows = ctx.store.agents.listInOrg(orgId, afterCursor("g", query.cursor), limit + 1);
    const { page, nextCursor } = paged(rows, limit, "g");
    return c.json({ agents: page.map(agentView), next_cursor: nextCursor });
  });

  app.get("/api/organizations/:org/agents/:id", access("agents:read"), (c) => {
    const { orgId } = orgActor(c);
    const agentId = parseInput(AgentParam, c.req.param("id"), "path");
    const agent = ctx.store.agents.byId(agentId);
    if (agent === undefined || agent.orgId !== orgId) {
      throw new GatewayError("NOT_FOUND", "Agent not found");
    }
    return c.json(agentView(agent));
  });

  // --- scoped API keys -------------------------------------------------------------------

  app.post("/api/organizations/:org/api-keys", ctx.publicBody, access("keys:manage"), (c) => {
    const input = parseInput(CreateApiKeyBody, c.get("body"));
    const { orgId, actor } = orgActor(c);
    const now = ctx.clock.now();
    let expiresAt: number | null = null;
    if (input.expires_at !== undefined) {
      expiresAt = Date.parse(input.expires_at);
      if (!(expiresAt > now && expiresAt <= now + MAX_KEY_LIFETIME_MS)) {
        throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
          { field: "expires_at", message: "must be in the future and within ten years" },
        ]);
      }
    }
    const key = issueApiKey(ORG_KEY_PREFIX);
    const id = newId("key");
    ctx.store.orgApiKeys.create(
      {
        id,
        orgId,
        name: input.name,
        hash: key.hash,
        prefix: key.prefix,
        scopes: input.scopes,
        createdBy: actor,
        createdAt: now,
        expiresAt,
      },
      { actor, requestId: c.get("requestId") },
    );
    ctx.logger.info({ key_id: id, org_id: orgId, actor, scopes: input.scopes }, "API key created");
    return c.json(
      {
        id,
        name: input.name,
        api_key: key.key,
        prefix: key.prefix,
        scopes: input.scopes,
        created_at: iso(now),
        expires_at: iso(expiresAt),
      },
      201,
    );
  });

  app.get("/api/organizations/:org/api-keys", access("keys:read"), (c) => {
    const { orgId } = orgActor(c);
    return c.json({ api_keys: ctx.store.orgApiKeys.list(orgId).map(keyView) });
  });

  app.delete("/api/organizations/:org/api-keys/:id", access("keys:manage"), (c) => {
    const { orgId, actor } = orgActor(c);
    const id = parseInput(KeyParam, c.req.param("id"), "path");
    const now = ctx.clock.now();
    if (!ctx.store.orgApiKeys.revoke(orgId, id, now, { actor, requestId: c.get("requestId") })) {
      const known = ctx.store.orgApiKeys.byId(orgId, id);
      if (known === undefined) throw new GatewayError("NOT_FOUND", "API key not found");
      // Revoking twice is not an error: the key is revoked, as asked.
      return c.json({ id, revoked_at: iso(known.revokedAt) });
    }
    ctx.logger.info({ key_id: id, org_id: orgId, actor }, "API key revoked");
    return c.json({ id, revoked_at: iso(now) });
  });

  app.post(
    "/api/organizations/:org/api-keys/:id/rotate",
    ctx.publicBody,
    access("keys:manage"),
    (c) => {
      const input = parseInput(RotateApiKeyBody, c.get("body") ?? {});
      const { orgId, actor } = orgActor(c);
      const oldId = parseInput(KeyParam, c.req.param("id"), "path");
      const old = ctx.store.orgApiKeys.byId(orgId, oldId);
      if (old === undefined) throw new GatewayError("NOT_FOUND", "API key not found");
      const now = ctx.clock.now();
      if (old.revokedAt !== null || (old.expiresAt !== null && old.expiresAt <= now)) {
        throw new GatewayError("CONFLICT", "A revoked or expired key cannot be rotated");
      }
      const graceS = input.grace_seconds ?? DEFAULT_GRACE_S;
      const key = issueApiKey(ORG_KEY_PREFIX);
      const id = newId("key");
      const previousExpiresAt = ctx.store.orgApiKeys.rotate(
        old,
        {
          id,
          orgId,
          name: old.name,
          hash: key.hash,
          prefix: key.prefix,
          scopes: old.scopes,
          createdBy: actor,
          createdAt: now,
          expiresAt: old.expiresAt,
        },
        now + graceS * 1000,
        { actor, requestId: c.get("requestId") },
      );
      ctx.logger.info({ key_id: id, rotated_from: oldId, org_id: orgId, actor }, "API key rotated");
      return c.json(
        {
          id,
          name: old.name,
          api_key: key.key,
          prefix: key.prefix,
          scopes: old.scopes,
          created_at: iso(now),
          expires_at: iso(old.expiresAt),
          rotated_from: oldId,
          previous_key_expires_at: iso(previousExpiresAt),
        },
        201,
      );
    },
  );
}
