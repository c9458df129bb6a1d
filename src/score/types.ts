/** Where an agent sits under the EU AI Act, most severe first. */
export type RiskTier = "prohibited" | "high" | "undetermined" | "limited" | "minimal";

export type Grade = "A" | "B" | "C" | "D" | "E" | "F";

export type Severity = "critical" | "high" | "medium" | "low" | "info";

/** detected: the text shows it; missing: no evidence of a needed measure; review: a person must judge. */
export type FindingStatus = "detected" | "missing" | "review" | "info";

export type ObligationStatus = "evidenced" | "missing" | "violated";

export type Finding = Readonly<{
  severity: Severity;
  title: string;
  articles: readonly string[];
  status: FindingStatus;
}>;

export type TierBasis = Readonly<{ ref: string; evidence: string }>;

export type ObligationResult = Readonly<{ ref: string; status: ObligationStatus }>;

export type RecommendedControl = Readonly<{ control: string; satisfies: readonly string[] }>;

/** Deep-only facts about how the agent is run; each is optional and overrides what the text says. */
export type Deployment = Readonly<{
  role?: "provider" | "deployer" | "provider_and_deployer";
  public_authority?: boolean;
  user_facing?: boolean;
  human_oversight?: boolean;
  autonomy?: "suggest_only" | "act_with_approval" | "autonomous";
  regions?: readonly string[];
}>;

/** What the engine scores: the free tier sends only the description (and a name). */
export type ScoreInput = Readonly<{
  description: string;
  agentName?: string;
  tools?: readonly string[];
  dataCategories?: readonly string[];
  deployment?: Deployment;
}>;

export type ScoreMode = "free" | "deep";

/** The scoring result, in the order its members are serialised. */
export type ScoreResult = Readonly<{
  grade: Grade;
  score: number;
  risk_tier: RiskTier;
  tier_basis: readonly TierBasis[];
  findings: readonly Finding[];
  obligations: readonly ObligationResult[];
  recommended_controls: readonly RecommendedControl[];
  open_questions: readonly string[];
  capped: boolean;
  pack: string;
  input_sha256: string;
  generated_at: string;
}>;
