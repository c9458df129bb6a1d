import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, Principal } from "../app-env.js";
import { denied, GatewayError } from "../errors.js";
import { newId } from "../ids.js";
import {
  type EndpointScope,
  MAX_ENDPOINTS_PER_SCOPE,
  type WebhookEndpoint,
} from "../store/webhooks.js";
import { AUTH_FIELDS, intString, parseInput, text } from "../validation.js";
import { maskOf, typesOf, WEBHOOK_EVENT_TYPES } from "../webhooks/events.js";
import { generateWebhookSecret } from "../webhooks/signing.js";
import { checkWebhookUrl } from "../webhooks/url-guard.js";
import { accessibleAgent } from "./agent-access.js";
import { afterCursor, paged, seqOf } from "./cursor.js";
import type { RouteContext } from "./route-context.js";

export const CreateBody = z.strictObject({
  ...AUTH_FIELDS,
  url: z.string().trim().min(1).max(1024, { message: "must be at most 1024 characters" }),
  events: z
    .array(
      z.enum(WEBHOOK_EVENT_TYPES, { message: `must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}` }),
    )
    .min(1, { message: "must name at least one event" })
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((events) => new Set(events).size === events.length, {
      message: "must not repeat an event",
    }),
  description: text(1, 200).optional(),
});

export const AuthOnlyBody = z.strictObject(AUTH_FIELDS);

export const IdParam = z.string().min(1).max(64);

export const PageQuery = z.strictObject({
  limit: intString(1, 100).optional(),
  cursor: z.string().max(64).optional(),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An endpoint as the API shows it: never its secret. */
function endpointView(endpoint: WebhookEndpoint) {
  return {
    webhook_id: endpoint.id,
    agent_id: endpoint.agentId,
    org_id: endpoint.orgId,
    url: endpoint.url,
    events: typesOf(endpoint.eventMask),
    description: endpoint.description,
    status: endpoint.disabledAt === null ? "enabled" : "disabled",
    created_at: iso(endpoint.createdAt),
    disabled_at: iso(endpoint.disabledAt),
    disabled_reason: endpoint.disabledReason,
  };
}

/**
 * The endpoint `id` if the caller may manage it: an admin key, any endpoint; an agent key,
 * only its own agent's. Unknown and foreign endpoints get the same 404, so a key cannot
 * probe for others' endpoints.
 */
function visibleEndpoint(ctx: RouteContext, principal: Principal, id: string): WebhookEndpoint {
  const endpoint = ctx.store.webhooks.byId(id);
  if (
    endpoint === undefined ||
    (principal.kind === "agent" && endpoint.agentId !== principal.agent.id) ||
    (principal.kind === "org" && endpoint.orgId !== principal.orgId)
  ) {
    throw new GatewayError("NOT_FOUND", "Webhook endpoint not found");
  }
  return endpoint;
}

/**
 * The agent an endpoint will be scoped to: an agent key, its own agent (a body `agent_id`
 * naming another is 403); an admin key, the agent named in `agent_id`, or null for every agent;
 * an organization key, one of its agents, or null for every agent of the organization.
 */
function scopeOf(
  ctx: RouteContext,
  principal: Principal,
  agentId: string | undefined,
): string | null {
  if (principal.kind === "agent") {
    if (agentId !== undefined && agentId !== principal.agent.id) {
      throw denied("AGENT_ID_MISMATCH", "agent_id mismatch");
    }
    return principal.agent.id;
  }
  if (agentId === undefined) return null;
  if (principal.kind === "org") return accessibleAgent(ctx.store, principal, agentId).id;
  if (ctx.store.agents.byId(agentId) === undefined) {
    throw new GatewayError("NOT_FOUND", "Agent not found");
  }
  return agentId;
}

/** /api/webhooks: register, list and delete endpoints, send a ping, list delivery attempts. */
export function mountWebhooks(app: Hono<AppEnv>, ctx: RouteContext): void {
  // Agent, admin or organization keys; each handler decides what the key may see.
  const auth = ctx.auth("owner", "webhooks:manage");
  const allowPrivate = ctx.config.webhookAllowPrivate;

  app.post("/api/webhooks", ctx.publicBody, auth, async (c) => {
    const input = parseInput(CreateBody, c.get("body"));
    const principal = c.get("principal");
    const agentId = scopeOf(ctx, principal, input.agent_id);
    // Refused here (and checked again at every send, as DNS can change).
    const refusal = await checkWebhookUrl(input.url, allowPrivate);
    if (refusal !== null) {
      throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
        { field: "url", message: refusal },
      ]);
    }
    const secret = generateWebhookSecret();
    const now = ctx.clock.now();
    const id = newId("whk");
    const created = ctx.store.webhooks.create(
      {
        id,
        agentId,
        orgId: principal.kind === "org" ? principal.orgId : null,
        createdBy: principal.keyId,
        url: input.url,
        description: input.description ?? null,
        eventMask: maskOf(input.events),
        secret,
        createdAt: now,
      },
      { actor: principal.keyId, requestId: c.get("requestId") },
    );
    if (!created) {
      throw new GatewayError(
        "CONFLICT",
        `At most ${MAX_ENDPOINTS_PER_SCOPE} webhook endpoints per agent (and for admin keys)`,
      );
    }
    ctx.logger.info(
      { webhook_id: id, agent_id: agentId, events: input.events, actor: principal.keyId },
      "webhook endpoint registered",
    );
    const endpoint = ctx.store.webhooks.byId(id)!;
    // The secret is shown this once; only its sealed form is stored.
    return c.json({ ...endpointView(endpoint), secret }, 201);
  });

  app.get("/api/webhooks", auth, (c) => {
    const query = parseInput(PageQuery, c.req.query(), "query");
    const principal = c.get("principal");
    const limit = query.limit ?? 50;
    const after = afterCursor("w", query.cursor);
    const scope: EndpointScope =
      principal.kind === "agent"
        ? { kind: "agent", agentId: principal.agent.id }
        : principal.kind === "org"
          ? { kind: "org", orgId: principal.orgId }
          : { kind: "all" };
    const rows = ctx.store.webhooks.list(scope, after, limit + 1);
    const { page, nextCursor } = paged(rows, limit, "w");
    return c.json({ webhooks: page.map(endpointView), next_cursor: nextCursor });
  });

  app.delete("/api/webhooks/:id", auth, (c) => {
    const principal = c.get("principal");
    const endpoint = visibleEndpoint(
      ctx,
      principal,
      parseInput(IdParam, c.req.param("id"), "path"),
    );
    ctx.store.webhooks.delete(endpoint.id, ctx.clock.now(), {
      agentId: endpoint.agentId,
      actor: principal.keyId,
      requestId: c.get("requestId"),
    });
    ctx.logger.info(
      { webhook_id: endpoint.id, agent_id: endpoint.agentId, actor: principal.keyId },
      "webhook endpoint deleted",
    );
    return c.json({ webhook_id: endpoint.id, deleted: true });
  });

  app.post("/api/webhooks/:id/test", ctx.publicBody, auth, (c) => {
    parseInput(AuthOnlyBody, c.get("body") ?? {});
    const principal = c.get("principal");
    const endpoint = visibleEndpoint(
      ctx,
      principal,
      parseInput(IdParam, c.req.param("id"), "path"),
    );
    if (endpoint.disabledAt !== null) {
      throw new GatewayError("CONFLICT", "Webhook endpoint is disabled; register it again");
    }
    // Queued like any event: the dispatcher sends it, never this request.
    const eventId = ctx.store.webhooks.ping(endpoint, ctx.clock.now());
    return c.json(
      { webhook_id: endpoint.id, event_id: eventId, type: "ping", status: "queued" },
      202,
    );
  });

  app.get("/api/webhooks/:id/deliveries", auth, (c) => {
    const query = parseInput(PageQuery, c.req.query(), "query");
    const principal = c.get("principal");
    const endpoint = visibleEndpoint(
      ctx,
      principal,
      parseInput(IdParam, c.req.param("id"), "path"),
    );
    const limit = query.limit ?? 20;
    const before = query.cursor === undefined ? Number.MAX_SAFE_INTEGER : seqOf("d", query.cursor);
    const rows = ctx.store.webhooks.deliveries(endpoint.id, before, limit + 1);
    const { page, nextCursor } = paged(rows, limit, "d");
    return c.json({
      webhook_id: endpoint.id,
      deliveries: page.map((d) => ({
        event_id: d.eventId,
        type: d.type,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.status === "pending" ? iso(d.nextAttemptAt) : null,
        created_at: iso(d.createdAt),
        finished_at: iso(d.finishedAt),
        attempt_log: d.log.map((a) => ({
          attempt: a.attempt,
          status_code: a.statusCode,
          error: a.error,
          started_at: iso(a.startedAt),
          duration_ms: a.durationMs,
        })),
      })),
      next_cursor: nextCursor,
    });
  });
}
