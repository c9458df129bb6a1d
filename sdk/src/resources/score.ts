import type { CallOptions } from "../transport.js";
import { Resource, seg } from "./resource.js";

export type RiskTier = "prohibited" | "high" | "undetermined" | "limited" | "minimal";
export type Grade = "A" | "B" | "C" | "D" | "E" | "F";

export type ScoreFinding = Readonly<{
  severity: "critical" | "high" | "medium" | "low" | "info";
  title: string;
  articles: readonly string[];
  status: "detected" | "missing" | "review" | "info";
}>;

export type ScoreResult = Readonly<{
  grade: Grade;
  score: number;
  risk_tier: RiskTier;
  tier_basis: readonly Readonly<{ ref: string; evidence: string }>[];
  findings: readonly ScoreFinding[];
  obligations: readonly Readonly<{ ref: string; status: "evidenced" | "missing" | "violated" }>[];
  recommended_controls: readonly Readonly<{ control: string; satisfies: readonly string[] }>[];
  open_questions: readonly string[];
  capped: boolean;
  pack: string;
  input_sha256: string;
  generated_at: string;
}>;

export type FreeScoreRequest = Readonly<{
  /** 20–2000 characters. */
  description: string;
  agent_name?: string;
}>;

export type Deployment = Readonly<{
  role?: "provider" | "deployer" | "provider_and_deployer";
  public_authority?: boolean;
  user_facing?: boolean;
  human_oversight?: boolean;
  autonomy?: "suggest_only" | "act_with_approval" | "autonomous";
  regions?: readonly string[];
}>;

export type DeepScoreRequest = FreeScoreRequest &
  Readonly<{
    tools?: readonly string[];
    data_categories?: readonly string[];
    deployment?: Deployment;
    /** The acting agent; required with an organization key. */
    agent_id?: string;
  }>;

/** A stored, signed assessment (POST /score/deep and GET /assessments/:id). */
export type Assessment = ScoreResult &
  Readonly<{
    assessment_id: string;
    agent_id: string;
    created_at: string;
    /** Share of applicable obligations evidenced, 0–100. */
    complianceScore: number;
    /** Compact JWS (`typ: aiegis-assessment+jwt`) over the result. */
    signature: string;
  }>;

/** EU AI Act scoring: the public capped score and the stored deep assessment. */
export class Score extends Resource {
  /** POST /score/free: risk tier and grade of a description, capped (public). */
  free(body: FreeScoreRequest, options?: CallOptions): Promise<ScoreResult> {
    return this.transport.request(
      // A pure function of the body: safe to repeat.
      { method: "POST", path: "/score/free", body, credential: "none", retry: "safe" },
      options,
    );
  }

  /** POST /score/deep: the full signed assessment, stored (agent key). */
  deep(body: DeepScoreRequest, options?: CallOptions): Promise<Assessment> {
    return this.transport.request(
      { method: "POST", path: "/score/deep", body, credential: "key", retry: "unsafe" },
      options,
    );
  }
}

/** Stored assessments. */
export class Assessments extends Resource {
  /** GET /assessments/:id: a stored assessment of one of the caller's agents. */
  get(assessmentId: string, options?: CallOptions): Promise<Assessment> {
    return this.transport.request(
      {
        method: "GET",
        path: `/assessments/${seg(assessmentId)}`,
        credential: "key",
        retry: "safe",
      },
      options,
    );
  }
}
