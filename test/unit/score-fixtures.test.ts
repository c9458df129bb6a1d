import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import {
  evaluateScoreCases,
  formatMisses,
  formatScoreEvaluation,
  loadScoreCases,
} from "../../bench/eval-score-lib.js";
import { defaultPack } from "../../src/score/pack.js";

// The evaluation gates over test/fixtures/score-*.jsonl (npm run eval:score prints the table).

const cases = loadScoreCases(resolve(import.meta.dirname, "../fixtures"));
const evaluation = evaluateScoreCases(defaultPack(), cases);
const report = `${formatScoreEvaluation(evaluation)}\n${formatMisses(evaluation)}`;

describe("score fixtures", () => {
  test("at least 120 labelled descriptions covering every Art. 5 and Annex III point", () => {
    assert.ok(cases.length >= 120, `only ${cases.length} cases`);
    const letters = new Set(cases.map((c) => c.art5).filter((x) => x !== undefined));
    assert.deepEqual([...letters].sort(), ["a", "b", "c", "d", "e", "f", "g", "h"]);
    const points = new Set(
      cases.filter((c) => c.tier === "high").map((c) => c.annex_iii ?? (c.annex_i ? "I" : "?")),
    );
    assert.deepEqual([...points].sort(), ["1", "2", "3", "4", "5", "6", "7", "8", "I"]);
    for (const tier of ["prohibited", "high", "undetermined", "limited", "minimal"]) {
      assert.ok(
        cases.some((c) => c.tier === tier),
        `no ${tier} case`,
      );
    }
    assert.ok(cases.filter((c) => c.negative === true).length >= 20, "in-sector negatives");
    assert.ok(cases.filter((c) => c.exception === true).length >= 3, "Art. 6(3) cases");
    const ids = cases.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, "ids are unique");
  });

  test("gate: prohibited recall is 100%, each under the right Art. 5(1) point", () => {
    assert.equal(evaluation.prohibitedRecall, 1, report);
    assert.equal(evaluation.art5Point.correct, evaluation.art5Point.total, report);
  });

  test("gate: no in-sector negative is classified high-risk", () => {
    assert.deepEqual(evaluation.negativesHigh, [], report);
  });

  test("gate: Annex III point accuracy is at least 90%", () => {
    assert.ok(evaluation.annexPoint.total >= 40, "enough high-risk cases with a point");
    assert.ok(evaluation.annexPoint.accuracy >= 0.9, report);
  });

  test("every prohibited case grades F; no negative is prohibited", () => {
    for (const o of evaluation.outcomes) {
      if (o.result.risk_tier === "prohibited") assert.equal(o.result.grade, "F", o.case.id);
      if (o.case.negative === true) assert.notEqual(o.result.risk_tier, "prohibited", o.case.id);
    }
  });
});
