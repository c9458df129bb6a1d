import { BODY_LIMIT } from "../../body-limits.js";
import { AssessmentId, DeepBody, FreeBody } from "../../routes/score.js";
import { EXAMPLE } from "../examples.js";
import type { OperationSpec } from "../operation.js";
import { Assessment, ScoreResult } from "../schemas/score.js";

/** EU AI Act scoring: free, deep and stored assessments. */
export const SCORE_OPERATIONS: readonly OperationSpec[] = [
  {
    method: "post",
    path: "/api/v1/score/free",
    operationId: "scoreFree",
    summary: "Free EU AI Act score",
    description:
      "Risk tier and grade of a description, capped: grade at most B, the top three findings and controls, no signature. Capping never hides a prohibited practice, the high-risk basis or the questions of an undetermined tier. Limited per IP (`scoreFree`, 20/h by default).",
    tag: "Scoring",
    access: "public",
    body: {
      schema: FreeBody,
      maxBytes: BODY_LIMIT.score,
      example: {
        description:
          "A recruiting agent that screens CVs and ranks job applicants for the hiring manager.",
        agent_name: "TalentRanker",
      },
    },
    responses: {
      200: { description: "The capped result.", name: "ScoreResult", schema: ScoreResult },
    },
  },
  {
    method: "post",
    path: "/api/v1/score/deep",
    operationId: "scoreDeep",
    summary: "Deep, signed assessment",
    description:
      "Runs every layer uncapped, signs the result (JWS, typ aiegis-assessment+jwt) and stores it as an assessment; emits `score.completed`. With an organization key, `agent_id` names the organization's agent assessed. Limited per agent (`scoreDeep`, 30/h by default).",
    tag: "Scoring",
    access: "agent",
    scope: "score:deep",
    body: {
      schema: DeepBody,
      maxBytes: BODY_LIMIT.score,
      example: {
        description:
          "A recruiting agent that screens CVs and ranks job applicants. Recruiters review every ranking; all decisions are logged.",
        tools: ["read_cv", "send_email", "update_ats_stage"],
        data_categories: ["employment history"],
        deployment: {
          role: "deployer",
          public_authority: false,
          user_facing: false,
          human_oversight: true,
          autonomy: "act_with_approval",
          regions: ["EU"],
        },
      },
    },
    responses: { 201: { description: "Stored.", name: "Assessment", schema: Assessment } },
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/assessments/{id}",
    operationId: "getAssessment",
    summary: "A stored assessment",
    description:
      "An agent key reads the assessments of its owner's agents, an organization key its organization's, an admin key any; anything else, like an unknown id, is 404.",
    tag: "Scoring",
    access: "owner",
    scope: "score:deep",
    params: {
      id: {
        schema: AssessmentId,
        description: "The assessment id.",
        example: EXAMPLE.assessmentId,
      },
    },
    responses: { 200: { description: "The assessment.", name: "Assessment", schema: Assessment } },
    errors: [404],
  },
];
