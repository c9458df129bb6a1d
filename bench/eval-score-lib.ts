import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { scoreAgent } from "../src/score/engine.js";
import type { Pack } from "../src/score/pack.js";
import type { RiskTier, ScoreResult } from "../src/score/types.js";

// The labelled descriptions in test/fixtures/score-*.jsonl, run through the scoring engine:
// shared by `npm run eval:score` (prints the table) and the unit test that gates on it.

const TIERS = ["prohibited", "high", "undetermined", "limited", "minimal"] as const;

const CaseSchema = z.strictObject({
  id: z.string().min(1),
  description: z.string().min(20).max(2000),
  tier: z.enum(TIERS),
  /** The Art. 5(1) letter a prohibited case must be cited under. */
  art5: z.enum(["a", "b", "c", "d", "e", "f", "g", "h"]).optional(),
  /** The Annex III point ("1"…"8") a high-risk case must be classified under. */
  annex_iii: z.enum(["1", "2", "3", "4", "5", "6", "7", "8"]).optional(),
  annex_i: z.boolean().optional(),
  /** In a regulated sector but not a listed use: must never come out high-risk. */
  negative: z.boolean().optional(),
  /** An Art. 6(3) case: an Annex III area where the exception applies (or profiling defeats it). */
  exception: z.boolean().optional(),
  notes: z.string().optional(),
});

export type ScoreCase = z.infer<typeof CaseSchema> & { file: string };

/** Descriptions no rule was ever tuned on: measured on request, never gated or tuned against. */
export const UNSEEN_FILE = "score-unseen.jsonl";

/**
 * Every case of the test/fixtures/score-*.jsonl files, validated: the tuned and gated ones, or
 * with `unseen` only those of UNSEEN_FILE.
 */
export function loadScoreCases(dir: string, options: { unseen?: boolean } = {}): ScoreCase[] {
  const cases: ScoreCase[] = [];
  const files = readdirSync(dir)
    .filter((f) => f.startsWith("score-") && f.endsWith(".jsonl"))
    .filter((f) => (f === UNSEEN_FILE) === (options.unseen === true))
    .sort();
  for (const file of files) {
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      const parsed = CaseSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        throw new Error(`${file}:${i + 1}: ${parsed.error.issues[0]?.message ?? "invalid case"}`);
      }
      cases.push({ ...parsed.data, file });
    });
  }
  return cases;
}

/** The Annex III point a result classifies under first ("4" for "Annex III, point 4(a)"). */
export function primaryAnnexPoint(result: ScoreResult): string | undefined {
  for (const basis of result.tier_basis) {
    const at = basis.ref.indexOf("Annex III, point ");
    if (at >= 0) return basis.ref.charAt(at + "Annex III, point ".length);
  }
  return undefined;
}

/** The Art. 5(1) letters a result cites. */
export function art5Letters(result: ScoreResult): string[] {
  const letters: string[] = [];
  for (const basis of result.tier_basis) {
    if (basis.ref.startsWith("Art. 5(1)(")) letters.push(basis.ref.charAt("Art. 5(1)(".length));
  }
  return letters;
}

export type CaseOutcome = Readonly<{
  case: ScoreCase;
  result: ScoreResult;
  tierOk: boolean;
  /** Undefined when the case names no point. */
  pointOk: boolean | undefined;
  art5Ok: boolean | undefined;
}>;

export type ScoreEvaluation = Readonly<{
  outcomes: readonly CaseOutcome[];
  perTier: Readonly<
    Record<RiskTier, { tp: number; fp: number; fn: number; precision: number; recall: number }>
  >;
  accuracy: number;
  annexPoint: { correct: number; total: number; accuracy: number };
  art5Point: { correct: number; total: number };
  prohibitedRecall: number;
  negativesHigh: readonly string[];
}>;

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

/** Scores every case (deep mode, fixed clock) and computes the evaluation figures. */
export function evaluateScoreCases(pack: Pack, cases: readonly ScoreCase[]): ScoreEvaluation {
  const outcomes: CaseOutcome[] = cases.map((c) => {
    const result = scoreAgent(pack, { description: c.description }, "deep", 0);
    const point = primaryAnnexPoint(result);
    return {
      case: c,
      result,
      tierOk: result.risk_tier === c.tier,
      pointOk:
        c.tier === "high" && c.annex_iii !== undefined
          ? result.risk_tier === "high" && point === c.annex_iii
          : undefined,
      art5Ok: c.art5 === undefined ? undefined : art5Letters(result).includes(c.art5),
    };
  });
  const perTier = {} as Record<
    RiskTier,
    { tp: number; fp: number; fn: number; precision: number; recall: number }
  >;
  for (const tier of TIERS) {
    const tp = outcomes.filter((o) => o.case.tier === tier && o.result.risk_tier === tier).length;
    const fp = outcomes.filter((o) => o.case.tier !== tier && o.result.risk_tier === tier).length;
    const fn = outcomes.filter((o) => o.case.tier === tier && o.result.risk_tier !== tier).length;
    perTier[tier] = { tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn) };
  }
  const pointCases = outcomes.filter((o) => o.pointOk !== undefined);
  const pointCorrect = pointCases.filter((o) => o.pointOk === true).length;
  const art5Cases = outcomes.filter((o) => o.art5Ok !== undefined);
  return {
    outcomes,
    perTier,
    accuracy: ratio(outcomes.filter((o) => o.tierOk).length, outcomes.length),
    annexPoint: {
      correct: pointCorrect,
      total: pointCases.length,
      accuracy: ratio(pointCorrect, pointCases.length),
    },
    art5Point: {
      correct: art5Cases.filter((o) => o.art5Ok === true).length,
      total: art5Cases.length,
    },
    prohibitedRecall: perTier.prohibited.recall,
    negativesHigh: outcomes
      .filter((o) => o.case.negative === true && o.result.risk_tier === "high")
      .map((o) => o.case.id),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The evaluation as a plain-text table. */
export function formatScoreEvaluation(e: ScoreEvaluation): string {
  const lines = [
    `cases: ${e.outcomes.length}   tier accuracy: ${pct(e.accuracy)}`,
    "",
    "tier           precision  recall     tp  fp  fn",
  ];
  for (const tier of TIERS) {
    const t = e.perTier[tier];
    lines.push(
      `${tier.padEnd(14)} ${pct(t.precision).padStart(9)}  ${pct(t.recall).padStart(6)}  ${String(t.tp).padStart(5)} ${String(t.fp).padStart(3)} ${String(t.fn).padStart(3)}`,
    );
  }
  lines.push(
    "",
    `Annex III point accuracy (high-risk cases): ${e.annexPoint.correct}/${e.annexPoint.total} = ${pct(e.annexPoint.accuracy)}`,
    `Art. 5(1) point cited (prohibited cases):   ${e.art5Point.correct}/${e.art5Point.total}`,
    `prohibited recall: ${pct(e.prohibitedRecall)}   in-sector negatives classified high-risk: ${e.negativesHigh.length}`,
  );
  return lines.join("\n");
}

/** One line per case the engine got wrong (tier or point), for tuning. */
export function formatMisses(e: ScoreEvaluation): string {
  return e.outcomes
    .filter((o) => !o.tierOk || o.pointOk === false || o.art5Ok === false)
    .map(
      (o) =>
        `${o.case.id}: expected ${o.case.tier}${o.case.annex_iii ? `/${o.case.annex_iii}` : ""}${o.case.art5 ? `/${o.case.art5}` : ""}, got ${o.result.risk_tier} [${o.result.tier_basis.map((b) => b.ref).join("; ")}]`,
    )
    .join("\n");
}
