import { resolve } from "node:path";
import { defaultPack } from "../src/score/pack.js";
import {
  evaluateScoreCases,
  formatMisses,
  formatScoreEvaluation,
  loadScoreCases,
} from "./eval-score-lib.js";

// npm run eval:score — the scoring engine against the labelled descriptions in
// test/fixtures/score-*.jsonl: per-tier precision and recall, Annex III point accuracy.
// `--misses` also lists every case it got wrong; `--fixtures DIR` reads another directory;
// `--unseen` measures only test/fixtures/score-unseen.jsonl, descriptions no rule was ever tuned
// on (not part of the gates).

const at = process.argv.indexOf("--fixtures");
const dir =
  at > 0 && process.argv[at + 1] !== undefined
    ? resolve(process.argv[at + 1]!)
    : resolve(import.meta.dirname, "../test/fixtures");
const cases = loadScoreCases(dir, { unseen: process.argv.includes("--unseen") });
const evaluation = evaluateScoreCases(defaultPack(), cases);
console.log(formatScoreEvaluation(evaluation));
if (process.argv.includes("--misses")) {
  const misses = formatMisses(evaluation);
  console.log(`\nmisses:\n${misses === "" ? "(none)" : misses}`);
}
