import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, Principal } from "../app-env.js";
import { hashesEqual, hashSecret, issueApiKey } from "../crypto/api-key.js";
import { denied, GatewayError } from "../errors.js";
import { newId } from "../ids.js";
import { type AgentRecord, statusOf } from "../store/agents.js";
import { AUTH_FIELDS, email, intString, parseInput, text } from "../validation.js";
import { accessibleAgent } from "./agent-access.js";
import { afterCursor, paged } from "./cursor.js";
import type { RouteContext } from "./route-context.js";

export const LoginBody = z.strictObject({
  email: email(),
  api_key: z.string().min(1).max(512),
});

export const PublicQuery = z.strictObject({
  status: z
    .enum(["ACTIVE", "QUARANTINED"], { message: "must be ACTIVE or QUARANTINED" })
    .optional(),
  limit: intString(1, 100).optional(),
  cursor: z.string().max(64).optional(),
});

export const AuthOnlyBody = z.strictObject(AUTH_FIELDS);

export const StatusChangeBody = z.strictObject({ ...AUTH_FIELDS, reason: text(1, 500) });

export const AgentIdParam = z.string().min(1).max(64);

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function publicView(agent: AgentRecord) {
  return {
    agent_id: agent.id,
    agent_name: agent.name,
    agent_type: agent.type,
    description: agent.description,
    status: statusOf(agent),
    registered_at: iso(agent.createdAt),
    verified_at: iso(agent.verifiedAt),
  };
}

function ownerView(agent: AgentRecord, keyPrefix: string | undefined) {
  return {
    ...publicView(agent),
    owner_name: agent.ownerName,
    owner_email: agent.ownerEmail,
    key_prefix: keyPrefix ?? null,
  };
}

function agentOf(principal: Principal): AgentRecord {
  if (principal.kind !== "agent") throw new GatewayError("INTERNAL", "Internal error");
  return principal.agent;
}

/** Login, the public directory, the caller's own profile and key rotation, and quarantine. */
export function mountAgents(app: Hono<AppEnv>, ctx: RouteContext): void {
  const agentAuth = ctx.auth("agent");
  const quarantineAuth = ctx.auth("admin", "agents:quarantine");

  app.post("/api/agents/login", ctx.limits.login, ctx.publicBody, (c) => {
    const input = parseInput(LoginBody, c.get("body"));
    const principal = ctx.resolveKey(input.api_key);
    const agent = principal?.kind === "agent" ? principal.agent : null;
    // Compare e-mails by hash so the comparison is constant-time whatever their lengths.
    const emailMatches =
      agent !== null && hashesEqual(hashSecret(agent.ownerEmail), hashSecret(input.email));
    const failure =
      agent === null || !emailMatches
        ? denied("INVALID_CREDENTIALS", "Invalid email or API key")
        : agent.quarantinedAt !== null
          ? denied("AGENT_QUARANTINED", "Agent quarantined")
          : agent.verifiedAt === null
            ? denied("EMAIL_UNVERIFIED", "Email unverified")
            : null;
    if (failure !== null) {
      // Nothing else is written here, so the entry gets a transaction of its own. The agent is
      // named only when the key was right: a wrong e-mail with a right key is worth seeing.
      ctx.store.audit.append({
        action: "agent.login_failed",
        at: ctx.clock.now(),
        agentId: agent?.id ?? null,
        data: { reason: failure.code, request_id: c.get("requestId") },
      });
      throw failure;
    }
    return c.json({ status: "ok", agent_id: agent!.id });
  });

  app.get("/api/agents/public", (c) => {
    const query = parseInput(PublicQuery, c.req.query(), "query");
    const limit = query.limit ?? 50;
    const after = afterCursor("s", query.cursor);
    const rows = ctx.store.agents.listPublic(query.status ?? "ANY_VERIFIED", after, limit + 1);
    const { page, nextCursor } = paged(rows, limit, "s");
    return c.json({ agents: page.map(publicView), next_cursor: nextCursor });
  });

  app.get("/api/agents/me", agentAuth, (c) => {
    const agent = agentOf(c.get("principal"));
    return c.json(ownerView(agent, ctx.store.apiKeys.agentKeyPrefix(agent.id)));
  });

  app.post("/api/agents/me/rotate-key", ctx.publicBody, agentAuth, (c) => {
    parseInput(AuthOnlyBody, c.get("body") ?? {});
    const agent = agentOf(c.get("principal"));
    const key = issueApiKey();
    ctx.store.apiKeys.rotateAgentKey(
      agent.id,
      { id: newId("key"), hash: key.hash, prefix: key.prefix },
      ctx.clock.now(),
      { actor: c.get("principal").keyId, requestId: c.get("requestId") },
    );
    ctx.logger.info({ agent_id: agent.id, key_prefix: key.prefix }, "agent key rotated");
    return c.json({ agent_id: agent.id, api_key: key.key, key_prefix: key.prefix });
  });

  for (const action of ["quarantine", "unquarantine"] as const) {
    app.post(`/api/agents/:id/${action}`, ctx.publicBody, quarantineAuth, (c) => {
      const agentId = parseInput(AgentIdParam, c.req.param("id"), "path");
      const input = parseInput(StatusChangeBody, c.get("body"));
      const principal = c.get("principal");
      // An organization key may act on its organization's agents only (others: 404).
      if (principal.kind === "org") accessibleAgent(ctx.store, principal, agentId);
      const change = {
        agentId,
        reason: input.reason,
        actor: principal.keyId,
        at: ctx.clock.now(),
        requestId: c.get("requestId"),
      };
      const result =
        action === "quarantine"
          ? ctx.store.agents.quarantine(change)
          : ctx.store.agents.unquarantine(change);
      if (!result.found) throw new GatewayError("NOT_FOUND", "Agent not found");
      ctx.logger.warn(
        { agent_id: agentId, action, changed: result.changed, actor: principal.keyId },
        `agent ${action}`,
      );
      return c.json({
        agent_id: agentId,
        status: statusOf(result.agent),
        changed: result.changed,
        quarantine_reason: result.agent.quarantineReason,
        quarantined_at: iso(result.agent.quarantinedAt),
      });
    });
  }
}
