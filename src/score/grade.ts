import type { Pack } from "./pack.js";
import type { Finding, Grade, ScoreResult } from "./types.js";

const GRADES: readonly Exclude<Grade, "F">[] = ["A", "B", "C", "D", "E"];

/** The letter for a 0–100 score under the pack's thresholds (below E's threshold: F). */
export function gradeOf(score: number, thresholds: Pack["grading"]["thresholds"]): Grade {
  for (const grade of GRADES) if (score >= thresholds[grade]) return grade;
  return "F";
}

/** How many findings the free tier shows, besides those it must never hide. */
export const FREE_FINDINGS = 3;

/**
 * Findings the free tier always shows: prohibited-practice hits and the high-risk basis. Capping
 * may shorten advice; it must never make an agent look less regulated than it is.
 */
function mustShow(finding: Finding): boolean {
  return finding.severity === "critical" || finding.title.startsWith("High-risk:");
}

/**
 * The free tier's view of a full result: grade at most B, the top three findings (plus every
 * prohibited-practice and high-risk-basis finding), the top three controls. Tier, tier basis,
 * obligations and open questions are kept whole, so an undetermined tier keeps its questions.
 */
export function capForFree(result: ScoreResult, pack: Pack): ScoreResult {
  const score = Math.min(result.score, pack.grading.freeMaxScore);
  const kept: Finding[] = result.findings.filter(mustShow);
  for (const finding of result.findings) {
    if (kept.length >= FREE_FINDINGS) break;
    if (!mustShow(finding)) kept.push(finding);
  }
  // Keep the engine's order (most severe first), whichever rule put a finding in.
  const order = new Map(result.findings.map((f, i) => [f, i]));
  kept.sort((a, b) => order.get(a)! - order.get(b)!);
  return {
    ...result,
    grade: gradeOf(score, pack.grading.thresholds),
    score,
    findings: kept,
    recommended_controls: result.recommended_controls.slice(0, FREE_FINDINGS),
    capped: true,
  };
}

/**
 * The share of applicable obligations the description evidences, 0–100: the sibling platform's
 * `complianceScore`. A prohibited practice scores 0; nothing applicable (out of scope) is 100.
 */
export function complianceScoreOf(result: ScoreResult): number {
  if (result.risk_tier === "prohibited") return 0;
  const applicable = result.obligations.length;
  if (applicable === 0) return 100;
  const evidenced = result.obligations.filter((o) => o.status === "evidenced").length;
  return Math.round((evidenced / applicable) * 100);
}
