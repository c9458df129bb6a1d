import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import {
  PASSPORT_DEFAULT_TTL_S,
  PASSPORT_LEEWAY_S,
  PASSPORT_MAX_TTL_S,
  PASSPORT_MIN_TTL_S,
  type PassportReason,
} from "../crypto/passport.js";
import { denied, GatewayError } from "../errors.js";
import { isJurisdiction } from "../jurisdiction.js";
import { type CompiledPolicy, PolicyBundleSchema } from "../pipeline/policy-bundle.js";
import { AUTH_FIELDS, intString, parseInput, text } from "../validation.js";
import { accessibleAgent } from "./agent-access.js";
import { cursorOf, seqOf } from "./cursor.js";
import type { RouteContext } from "./route-context.js";

const AgentId = z.string().min(1).max(64);

export const IssueBody = z.strictObject({
  api_key: AUTH_FIELDS.api_key,
  agent_id: AgentId,
  operator: text(1, 128),
  jurisdiction: z.string().trim().toUpperCase().refine(isJurisdiction, {
    message: "must be a region (EU, EEA, GLOBAL…), an ISO 3166-1 alpha-2 code or a subdivision",
  }),
  policy: z.union([z.string().min(1).max(64), z.record(z.string(), z.unknown())], {
    message: "must name a bundle or be an inline bundle",
  }),
  ttl_s: z.int().min(PASSPORT_MIN_TTL_S).max(PASSPORT_MAX_TTL_S).optional(),
});

const InlinePolicy = z.strictObject({ policy: PolicyBundleSchema });

export const VerifyBody = z.strictObject({ passport: z.string() });

export const RevokeBody = z.strictObject({
  api_key: AUTH_FIELDS.api_key,
  agent_id: AgentId,
  reason: text(1, 500),
  passport_id: z.string().min(1).max(64).optional(),
});

export const RevocationsQuery = z.strictObject({
  limit: intString(1, 1000).optional(),
  cursor: z.string().max(64).optional(),
});

/** Why /api/protect refused a passport, in words. */
const REJECTION_MESSAGES: Readonly<Record<PassportReason | "foreign", string>> = {
  revoked: "Passport revoked",
  expired: "Passport expired",
  not_yet_valid: "Passport not yet valid",
  bad_signature: "Passport signature invalid",
  malformed: "Passport malformed",
  unknown_key: "Passport signed by an unknown key",
  agent_quarantined: "Agent quarantined",
  foreign: "Passport belongs to another agent",
};

/** The 403 /api/protect answers for a passport it will not honour. */
export function passportRejected(reason: PassportReason | "foreign"): GatewayError {
  return denied("PASSPORT_REJECTED", REJECTION_MESSAGES[reason], { reason });
}

const iso = (ms: number) => new Date(ms).toISOString();

function policyOf(ctx: RouteContext, policy: string | object): CompiledPolicy {
  if (typeof policy === "string") {
    const named = ctx.policies.named(policy);
    if (named === undefined) {
      throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
        {
          field: "policy",
          message: `unknown bundle; use one of ${ctx.policies.names.join(", ")} or an inline bundle`,
        },
      ]);
    }
    return named;
  }
  const inline = parseInput(InlinePolicy, { policy });
  const compiled = ctx.policies.resolve(inline.policy);
  const shipped = ctx.policies.named(compiled.id);
  // A decision logged as "read-only" must have been judged by the read-only bundle.
  if (shipped !== undefined && shipped.hash !== compiled.hash) {
    throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
      {
        field: "policy.id",
        message: `"${compiled.id}" is a shipped bundle; name it, or give an inline bundle another id`,
      },
    ]);
  }
  return compiled;
}

/** POST /api/agent/issue and /api/agent/verify; POST /registry/revoke, GET /registry/revocations. */
export function mountPassports(app: Hono<AppEnv>, ctx: RouteContext): void {
  app.post("/api/agent/issue", ctx.passportBody, ctx.auth("owner", "passports:issue"), (c) => {
    const input = parseInput(IssueBody, c.get("body"));
    const principal = c.get("principal");
    const agent = accessibleAgent(ctx.store, principal, input.agent_id);
    // The agent the passport speaks for must itself be usable: verified and not quarantined.
    if (agent.quarantinedAt !== null) throw denied("AGENT_QUARANTINED", "Agent quarantined");
    if (agent.verifiedAt === null) throw denied("EMAIL_UNVERIFIED", "Email unverified");
    // The inline bundle is validated from the parsed JSON itself: zod's record copy would drop a
    // "__proto__" member silently instead of refusing it as an unknown field.
    const policy = policyOf(
      ctx,
      typeof input.policy === "string"
        ? input.policy
        : (c.get("body") as { policy: object }).policy,
    );
    const issued = ctx.passports.issue({
      agentId: agent.id,
      operator: input.operator,
      jurisdiction: input.jurisdiction,
      policy,
      ttlS: input.ttl_s ?? PASSPORT_DEFAULT_TTL_S,
      issuedBy: principal.keyId,
      requestId: c.get("requestId"),
    });
    ctx.logger.info(
      {
        agent_id: agent.id,
        passport_id: issued.claims.jti,
        kid: issued.kid,
        policy_id: policy.id,
        actor: principal.keyId,
      },
      "passport issued",
    );
    return c.json(
      {
        passport: issued.token,
        passport_id: issued.claims.jti,
        kid: issued.kid,
        expires_at: iso(issued.claims.exp * 1000),
        agent_id: agent.id,
        policy: { id: policy.id, hash: policy.hash },
      },
      201,
    );
  });

  app.post("/api/agent/verify", ctx.passportBody, (c) => {
    const input = parseInput(VerifyBody, c.get("body"));
    const verdict = ctx.passports.verify(input.passport);
    if (!verdict.valid) return c.json({ valid: false, reason: verdict.reason });
    const { claims, kid } = verdict.passport;
    return c.json({
      valid: true,
      agent_id: claims.sub,
      passport_id: claims.jti,
      operator: claims.operator,
      jurisdiction: claims.jurisdiction,
      policy: claims.policy,
      kid,
      issued_at: iso(claims.iat * 1000),
      expires_at: iso(claims.exp * 1000),
    });
  });

  app.post("/registry/revoke", ctx.publicBody, ctx.auth("owner", "passports:revoke"), (c) => {
    const input = parseInput(RevokeBody, c.get("body"));
    const principal = c.get("principal");
    const agent = accessibleAgent(ctx.store, principal, input.agent_id);
    const at = ctx.clock.now();
    const result = ctx.store.passports.revoke(
      {
        agentId: agent.id,
        passportId: input.passport_id,
        reason: input.reason,
        actor: principal.keyId,
        at,
      },
      { requestId: c.get("requestId") },
    );
    if (!result.found) throw new GatewayError("NOT_FOUND", "Passport not found for this agent");
    ctx.logger.warn(
      {
        agent_id: agent.id,
        passport_id: input.passport_id ?? null,
        revoked: result.passportIds.length,
        actor: principal.keyId,
      },
      "passports revoked",
    );
    return c.json({
      revoked: result.passportIds.length,
      agent_id: agent.id,
      passport_ids: result.passportIds,
      revocation_id: result.revocationId,
      revoked_at: iso(at),
    });
  });

  app.get("/registry/revocations", (c) => {
    const query = parseInput(RevocationsQuery, c.req.query(), "query");
    const limit = query.limit ?? 100;
    const after = query.cursor === undefined ? 0 : seqOf("r", query.cursor);
    const now = ctx.clock.now();
    // Passports past expiry and leeway are refused anyway; listing them would only grow the list.
    const rows = ctx.store.passports.revocations(after, now - PASSPORT_LEEWAY_S * 1000, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json({
      revocations: page.map((r) => ({
        passport_id: r.passportId,
        agent_id: r.agentId,
        revoked_at: iso(r.revokedAt),
        expires_at: iso(r.expiresAt),
      })),
      // Always a cursor: an offline verifier polls with it to get only what was revoked since.
      next_cursor: cursorOf("r", last?.seq ?? after),
      has_more: rows.length > limit,
      generated_at: iso(now),
    });
  });
}
