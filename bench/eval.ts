// npm run eval [-- --corpus DIR] [--category C] [--misses] [--explain] [--check] [--json FILE]
// Runs every labelled case through the server's pipeline and prints detection per category.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createPipeline } from "../src/pipeline/pipeline.js";
import { formatSummary, loadCases, missedTargets, runCases, summarize } from "./eval-lib.js";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    corpus: { type: "string", default: resolve(root, "../shared/corpus") },
    category: { type: "string" },
    file: { type: "string" },
    misses: { type: "boolean", default: false },
    explain: { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    limit: { type: "string", default: "40" },
    json: { type: "string", default: resolve(root, "bench/results/eval.json") },
  },
});

if (!existsSync(values.corpus)) {
  console.log(`no corpus at ${values.corpus}; nothing to evaluate`);
  process.exit(0);
}

const pipeline = createPipeline();
let cases = loadCases(values.corpus, values.file ? values.file.split(",") : undefined);
if (values.category) cases = cases.filter((c) => c.category === values.category);
const started = process.hrtime.bigint();
const results = runCases(pipeline, cases);
const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
const summary = summarize(results);

console.log(
  `corpus: ${values.corpus} (${cases.length} cases, ${elapsedMs.toFixed(0)} ms, ${((elapsedMs * 1000) / Math.max(1, cases.length)).toFixed(1)} µs/case)\n`,
);
console.log(formatSummary(summary));

if (values.misses) {
  const misses = results.filter((r) =>
    r.expect === "ALLOW"
      ? r.got !== "ALLOW"
      : r.expect === "BLOCK"
        ? r.got !== "BLOCK"
        : r.got === "ALLOW",
  );
  const limit = Number(values.limit);
  console.log(`\nmisclassified: ${misses.length} (showing ${Math.min(limit, misses.length)})`);
  for (const m of misses.slice(0, limit)) {
    console.log(`\n[${m.id}] ${m.category} expect ${m.expect} got ${m.got}`);
    console.log(`  ${JSON.stringify(m.request).slice(0, 400)}`);
    if (values.explain) {
      for (const f of m.decision.findings) {
        console.log(`  - ${f.severity} ${f.layer}/${f.code} (${f.confidence}) ${f.evidence ?? ""}`);
      }
    }
  }
}

mkdirSync(dirname(values.json), { recursive: true });
writeFileSync(
  values.json,
  `${JSON.stringify({ corpus: values.corpus, cases: cases.length, elapsed_ms: elapsedMs, ...summary, missed_targets: missedTargets(summary) }, null, 2)}\n`,
);

const missed = missedTargets(summary);
if (missed.length > 0) {
  console.log(`\nbelow target: ${missed.join("; ")}`);
  if (values.check) process.exit(1);
} else {
  console.log("\nall targets met");
}
