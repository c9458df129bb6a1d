import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { GatewayError } from "../errors.js";
import type { Decision } from "../pipeline/engine.js";
import type { ProtectRequest } from "../pipeline/facts.js";
import type { CompiledPolicy } from "../pipeline/policy-bundle.js";
import { AUTH_FIELDS, parseInput } from "../validation.js";
import { actingAgent } from "./agent-access.js";
import { passportRejected } from "./passports.js";
import type { RouteContext } from "./route-context.js";

const MAX_PARAMS_DEPTH = 32;
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export const ProtectBody = z.strictObject({
  ...AUTH_FIELDS,
  action: z.string().min(1).max(128),
  target: z.string().optional(),
  content: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  context: z
    .strictObject({
      source: z.enum(["user", "tool_output", "web", "file", "agent"]).optional(),
      session_id: z.string().max(128).optional(),
    })
    .optional(),
});

/**
 * Rejects params deeper than 32 levels and prototype-polluting keys anywhere, iteratively
 * (a deeply nested body cannot exhaust the stack here).
 */
function checkParams(params: unknown): void {
  const stack: { value: unknown; depth: number; path: string }[] = [
    { value: params, depth: 1, path: "params" },
  ];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (depth > MAX_PARAMS_DEPTH) {
      throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
        { field: path, message: `nesting deeper than ${MAX_PARAMS_DEPTH} levels` },
      ]);
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        stack.push({ value: value[i], depth: depth + 1, path: `${path}[${i}]` });
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) {
        throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
          { field: `${path}.${key}`, message: "this key is not allowed" },
        ]);
      }
      stack.push({
        value: (value as Record<string, unknown>)[key],
        depth: depth + 1,
        path: `${path}.${key}`,
      });
    }
  }
}

function evaluateSafely(
  ctx: RouteContext,
  request: ProtectRequest,
  policy: CompiledPolicy,
): Decision {
  try {
    return ctx.pipeline.evaluate(request, policy);
  } catch (err) {
    // evaluate() already fails closed per layer; this is the last line should it ever throw.
    ctx.logger.error({ err }, "protect pipeline threw; blocking");
    return {
      decision: "BLOCK",
      findings: [
        {
          layer: "normalize",
          code: "PIPELINE_ERROR",
          severity: "BLOCK",
          confidence: 1,
          message: "The request could not be analysed; blocking",
        },
      ],
      score: 1,
      tier: "high",
      layersChecked: 0,
    };
  }
}

/**
 * The bundle this request is judged by: the passport's when X-Agent-Passport is sent, else the
 * default. A passport that is not valid right now, or is another agent's, is a 403: a request
 * that asks to be judged by a passport is never judged by something else.
 */
function policyFor(
  ctx: RouteContext,
  agentId: string,
  header: string | undefined,
): { policy: CompiledPolicy; passportId?: string } {
  if (header === undefined) return { policy: ctx.pipeline.defaultPolicy };
  const verdict = ctx.passports.verify(header.trim());
  if (!verdict.valid) throw passportRejected(verdict.reason);
  const { claims, policy } = verdict.passport;
  if (claims.sub !== agentId) throw passportRejected("foreign");
  return { policy, passportId: claims.jti };
}

/** Counts a BLOCK; true when it brings the agent to the auto-quarantine threshold. */
async function blockReachesThreshold(ctx: RouteContext, agentId: string): Promise<boolean> {
  if (ctx.autoQuarantine === null) return false;
  try {
    return await ctx.autoQuarantine.recordBlock(agentId);
  } catch (err) {
    // The BLOCK itself stands; only the count was lost.
    ctx.logger.error({ err, agent_id: agentId }, "auto-quarantine count failed");
    return false;
  }
}

/** POST /api/protect: the decision for one action an agent is about to take. */
export function mountProtect(app: Hono<AppEnv>, ctx: RouteContext): void {
  app.post(
    "/api/protect",
    ctx.protectBody,
    ctx.auth("agent", "protect"),
    ctx.limits.protect,
    async (c) => {
      const agent = actingAgent(ctx.store, c.get("principal"), c.get("body"));
      const { policy, passportId } = policyFor(ctx, agent.id, c.req.header("x-agent-passport"));
      const raw = c.get("body");
      // Checked on the parsed JSON itself: zod's copy would silently drop a __proto__ key.
      if (raw !== null && typeof raw === "object" && "params" in raw) checkParams(raw.params);
      const body = parseInput(ProtectBody, raw);
      const request: ProtectRequest = {
        action: body.action,
        target: body.target,
        content: body.content,
        params: body.params,
        context: body.context,
      };
      const decision = evaluateSafely(ctx, request, policy);
      ctx.metrics.recordDecision(decision);
      const now = ctx.clock.now();
      const latencyMs = performance.now() - c.get("startedAt");
      const agentId = agent.id;
      ctx.decisionLog.record({
        requestId: c.get("requestId"),
        agentId,
        action: body.action,
        target: body.target,
        content: body.content,
        decision: decision.decision,
        findings: decision.findings.map((f) => ({
          layer: f.layer,
          code: f.code,
          severity: f.severity,
          confidence: f.confidence,
        })),
        score: decision.score,
        latencyUs: Math.round(latencyMs * 1000),
        policyId: policy.id,
        policyHash: policy.hash,
        passportId,
        at: now,
      });
      // Awaited (a shared count answers asynchronously) so a quarantine this BLOCK triggers is
      // stored before the response is sent.
      if (decision.decision === "BLOCK" && (await blockReachesThreshold(ctx, agentId))) {
        try {
          ctx.store.agents.quarantine({
            agentId,
            reason: `auto-quarantine: ${ctx.autoQuarantine?.describe()}`,
            actor: "auto-quarantine",
            at: now,
            requestId: c.get("requestId"),
          });
          ctx.metrics.autoQuarantined();
          ctx.logger.warn({ agent_id: agentId }, "agent auto-quarantined");
        } catch (err) {
          ctx.logger.error({ err, agent_id: agentId }, "auto-quarantine could not be stored");
        }
      }
      return c.json({
        decision: decision.decision,
        agent_id: agentId,
        request_id: c.get("requestId"),
        layers_checked: decision.layersChecked,
        latency_ms: Math.round(latencyMs * 1000) / 1000,
        threats_found: decision.findings.map((f) => ({
          layer: f.layer,
          code: f.code,
          severity: f.severity,
          confidence: f.confidence,
          message: f.message,
          ...(f.evidence === undefined ? {} : { evidence: f.evidence }),
        })),
        confidence_scoring: { score: decision.score, tier: decision.tier },
        policy: { id: policy.id, hash: policy.hash },
        timestamp: new Date(now).toISOString(),
      });
    },
  );
}
