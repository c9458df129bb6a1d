import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv, Principal } from "../app-env.js";
import { signAssessment } from "../crypto/assessment.js";
import { GatewayError } from "../errors.js";
import { newId } from "../ids.js";
import { scoreAgent } from "../score/engine.js";
import { complianceScoreOf } from "../score/grade.js";
import type { ScoreInput, ScoreResult } from "../score/types.js";
import type { AssessmentRecord, OwnedAssessment } from "../store/assessments.js";
import { emitScoreCompleted } from "../store/webhook-outbox.js";
import { AUTH_FIELDS, parseInput, text } from "../validation.js";
import { actingAgent, ownerScope } from "./agent-access.js";
import type { RouteContext } from "./route-context.js";

const Description = text(20, 2000, { multiline: true });
const AgentName = text(1, 128);

export const FreeBody = z.strictObject({
  description: Description,
  agent_name: AgentName.optional(),
});

const Deployment = z.strictObject({
  role: z.enum(["provider", "deployer", "provider_and_deployer"]).optional(),
  public_authority: z.boolean().optional(),
  user_facing: z.boolean().optional(),
  human_oversight: z.boolean().optional(),
  autonomy: z.enum(["suggest_only", "act_with_approval", "autonomous"]).optional(),
  regions: z.array(text(2, 64)).max(32).optional(),
});

export const DeepBody = z.strictObject({
  ...AUTH_FIELDS,
  description: Description,
  agent_name: AgentName.optional(),
  tools: z.array(text(1, 100)).max(64).optional(),
  data_categories: z.array(text(1, 64)).max(32).optional(),
  deployment: Deployment.optional(),
});

// Ids are newId("asm"): anything else cannot exist, so it is not looked up.
export const AssessmentId = z.string().startsWith("asm_").max(64);

/** One stored assessment as GET /api/assessments/:id (and POST /api/score/deep) answer it. */
function assessmentView(record: AssessmentRecord) {
  const result = JSON.parse(record.result) as ScoreResult;
  return {
    assessment_id: record.id,
    agent_id: record.agentId,
    created_at: new Date(record.createdAt).toISOString(),
    complianceScore: record.complianceScore,
    ...result,
    signature: record.signature,
  };
}

/**
 * An agent key may read the assessments of its owner's agents, an organization key its
 * organization's, an admin key any. Anything else, including an id that does not exist, is the
 * same 404: ids cannot be probed.
 */
function readable(principal: Principal, record: OwnedAssessment | undefined): boolean {
  if (record === undefined) return false;
  const owner = ownerScope(principal);
  return owner === undefined || record.ownerEmail === owner;
}

/** POST /api/score/free and /api/score/deep; GET /api/assessments/:id. */
export function mountScore(app: Hono<AppEnv>, ctx: RouteContext): void {
  const pack = ctx.scorePack;

  app.post("/api/score/free", ctx.limits.scoreFree, ctx.scoreBody, (c) => {
    const body = parseInput(FreeBody, c.get("body"));
    const input: ScoreInput = { description: body.description, agentName: body.agent_name };
    return c.json(scoreAgent(pack, input, "free", ctx.clock.now()));
  });

  app.post(
    "/api/score/deep",
    ctx.scoreBody,
    ctx.auth("agent", "score:deep"),
    ctx.limits.scoreDeep,
    (c) => {
      const agent = actingAgent(ctx.store, c.get("principal"), c.get("body"));
      const body = parseInput(DeepBody, c.get("body"));
      const now = ctx.clock.now();
      const result = scoreAgent(
        pack,
        {
          description: body.description,
          agentName: body.agent_name,
          tools: body.tools,
          dataCategories: body.data_categories,
          deployment: body.deployment,
        },
        "deep",
        now,
      );
      try {
        // A key added by `admin rotate-signing-key` signs from now on, as for passports.
        ctx.keyring.refresh?.();
      } catch (err) {
        ctx.logger.warn({ err }, "signing keys could not be re-read; signing with the current key");
      }
      const key = ctx.keyring.active;
      const id = newId("asm");
      const signature = signAssessment(
        result,
        { issuer: ctx.config.publicUrl, agentId: agent.id, assessmentId: id, at: now },
        key,
      );
      const record: AssessmentRecord = {
        id,
        agentId: agent.id,
        pack: result.pack,
        inputSha256: result.input_sha256,
        riskTier: result.risk_tier,
        grade: result.grade,
        score: result.score,
        complianceScore: complianceScoreOf(result),
        kid: key.kid,
        result: JSON.stringify(result),
        signature,
        createdAt: now,
      };
      // The assessment and its `score.completed` event commit together (transactional outbox).
      ctx.store.db.transaction(() => {
        ctx.store.assessments.insert(record);
        emitScoreCompleted(ctx.store.db, { id, agentId: agent.id, createdAt: now });
      })();
      ctx.logger.info(
        {
          agent_id: agent.id,
          assessment_id: id,
          risk_tier: result.risk_tier,
          grade: result.grade,
        },
        "assessment completed",
      );
      return c.json(assessmentView(record), 201);
    },
  );

  app.get("/api/assessments/:id", ctx.auth("owner", "score:deep"), (c) => {
    const id = c.req.param("id");
    const record = AssessmentId.safeParse(id).success ? ctx.store.assessments.byId(id) : undefined;
    if (!readable(c.get("principal"), record)) {
      throw new GatewayError("NOT_FOUND", "Assessment not found");
    }
    return c.json(assessmentView(record!));
  });
}
