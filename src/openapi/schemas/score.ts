import { z } from "zod";
import { idOf, isoTime } from "./common.js";

const ScoreResultFields = {
  grade: z.enum(["A", "B", "C", "D", "E", "F"]),
  score: z.int().min(0).max(100),
  risk_tier: z.enum(["prohibited", "high", "undetermined", "limited", "minimal"]),
  tier_basis: z.array(z.strictObject({ ref: z.string(), evidence: z.string() })),
  findings: z.array(
    z.strictObject({
      severity: z.enum(["critical", "high", "medium", "low", "info"]),
      title: z.string(),
      articles: z.array(z.string()),
      status: z.enum(["detected", "missing", "review", "info"]),
    }),
  ),
  obligations: z.array(
    z.strictObject({ ref: z.string(), status: z.enum(["evidenced", "missing", "violated"]) }),
  ),
  recommended_controls: z.array(
    z.strictObject({ control: z.string(), satisfies: z.array(z.string()) }),
  ),
  open_questions: z.array(z.string()),
  capped: z.boolean(),
  pack: z.string(),
  input_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  generated_at: isoTime(),
};

/** The capped result of POST /score/free. */
export const ScoreResult = z.strictObject(ScoreResultFields);

/** A stored, signed assessment (POST /score/deep, GET /assessments/{id}). */
export const Assessment = z.strictObject({
  assessment_id: idOf("asm"),
  agent_id: idOf("agt"),
  created_at: isoTime(),
  complianceScore: z
    .int()
    .min(0)
    .max(100)
    .meta({ description: "Share of applicable obligations the description evidences." }),
  ...ScoreResultFields,
  signature: z.string().meta({ description: "Compact JWS, typ aiegis-assessment+jwt." }),
});
