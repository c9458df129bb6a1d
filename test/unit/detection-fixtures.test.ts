import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import {
  formatSummary,
  loadCases,
  missedTargets,
  runCases,
  summarize,
} from "../../bench/eval-lib.js";
import { pipeline } from "../helpers/layer-harness.js";

const FIXTURES = resolve(import.meta.dirname, "../fixtures");
const CORPUS = resolve(import.meta.dirname, "../../../shared/corpus");

const CATEGORIES = [
  "benign",
  "code_execution",
  "command_injection",
  "destructive_command",
  "destructive_sql",
  "exfiltration",
  "financial_risk",
  "indirect_injection",
  "jailbreak",
  "obfuscation",
  "path_traversal",
  "pii_leak",
  "prompt_injection",
  "secret_leak",
  "sensitive_file",
  "sql_injection",
  "ssrf",
];

describe("detection on our own labelled fixtures (test/fixtures)", () => {
  const cases = loadCases(FIXTURES);

  test("are well-formed: unique ids, known categories, label consistent with category", () => {
    assert.ok(cases.length >= 300, `only ${cases.length} fixture cases`);
    const ids = new Set<string>();
    for (const c of cases) {
      assert.ok(!ids.has(c.id), `duplicate id ${c.id}`);
      ids.add(c.id);
      assert.ok(CATEGORIES.includes(c.category), `${c.id}: unknown category ${c.category}`);
      assert.equal(c.category === "benign", c.expect === "ALLOW", `${c.id}: benign iff ALLOW`);
      assert.equal(c.source, "aiegis-fixtures", c.id);
      assert.equal(typeof c.request.action, "string", c.id);
    }
  });

  test("cover every category", () => {
    const present = new Set(cases.map((c) => c.category));
    for (const category of CATEGORIES)
      assert.ok(present.has(category), `no fixture for ${category}`);
  });

  test("meet the same targets as the corpus", () => {
    const summary = summarize(runCases(pipeline(), cases));
    const missed = missedTargets(summary);
    assert.deepEqual(missed, [], `\n${formatSummary(summary)}`);
  });

  // The corpus sits beside the repository only on development machines.
  if (existsSync(CORPUS)) {
    test("are our own: no request copied from the development corpus", () => {
      const corpus = new Set(loadCases(CORPUS).map((c) => JSON.stringify(c.request)));
      const copied = cases.filter((c) => corpus.has(JSON.stringify(c.request))).map((c) => c.id);
      assert.deepEqual(copied, []);
    });
  }
});
