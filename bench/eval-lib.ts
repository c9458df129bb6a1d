// Labelled-case evaluation shared by `npm run eval` (the corpus) and the fixture gate in
// `npm test`. Both run cases through the exact pipeline the server uses.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Decision, Verdict } from "../src/pipeline/engine.js";
import type { ProtectRequest } from "../src/pipeline/facts.js";
import type { Pipeline } from "../src/pipeline/pipeline.js";

export type LabelledCase = {
  id: string;
  request: ProtectRequest;
  expect: Verdict;
  category: string;
  source?: string;
};

export type CaseResult = LabelledCase & { got: Verdict; decision: Decision };

export type CategoryRow = {
  category: string;
  expect: Verdict;
  cases: number;
  /** BLOCK or WARN. */
  caught: number;
  blocked: number;
  warned: number;
};

export type Summary = {
  rows: CategoryRow[];
  blockCases: number;
  blockCaught: number;
  blockBlocked: number;
  warnCases: number;
  warnFlagged: number;
  benignCases: number;
  benignWarned: number;
  benignBlocked: number;
};

export type Targets = {
  blockCaughtMin: number;
  blockBlockedMin: number;
  warnFlaggedMin: number;
  benignBlockedMax: number;
  benignWarnedMax: number;
};

/** The targets on the corpus; the fixture gate uses the same. */
export const TARGETS: Targets = {
  blockCaughtMin: 0.97,
  blockBlockedMin: 0.9,
  warnFlaggedMin: 0.85,
  benignBlockedMax: 0.01,
  benignWarnedMax: 0.04,
};

/** True for a file of labelled /api/protect cases; score-*.jsonl hold the scoring engine's. */
export function isProtectCaseFile(name: string): boolean {
  return name.endsWith(".jsonl") && !name.startsWith("score-");
}

/** Reads every file of labelled /api/protect cases in a directory (or the named files). */
export function loadCases(dir: string, files?: readonly string[]): LabelledCase[] {
  const names = files ?? readdirSync(dir).filter(isProtectCaseFile).sort();
  const cases: LabelledCase[] = [];
  for (const name of names) {
    const lines = readFileSync(join(dir, name), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        cases.push(JSON.parse(line) as LabelledCase);
      } catch {
        throw new Error(`${name}:${i + 1} is not JSON`);
      }
    });
  }
  return cases;
}

export function runCases(pipeline: Pipeline, cases: readonly LabelledCase[]): CaseResult[] {
  return cases.map((c) => {
    const decision = pipeline.evaluate(c.request);
    return { ...c, got: decision.decision, decision };
  });
}

export function summarize(results: readonly CaseResult[]): Summary {
  const rows = new Map<string, CategoryRow>();
  const s: Summary = {
    rows: [],
    blockCases: 0,
    blockCaught: 0,
    blockBlocked: 0,
    warnCases: 0,
    warnFlagged: 0,
    benignCases: 0,
    benignWarned: 0,
    benignBlocked: 0,
  };
  for (const r of results) {
    const key = `${r.category}\u0000${r.expect}`;
    const row = rows.get(key) ?? {
      category: r.category,
      expect: r.expect,
      cases: 0,
      caught: 0,
      blocked: 0,
      warned: 0,
    };
    row.cases++;
    if (r.got !== "ALLOW") row.caught++;
    if (r.got === "BLOCK") row.blocked++;
    if (r.got === "WARN") row.warned++;
    rows.set(key, row);
    if (r.expect === "BLOCK") {
      s.blockCases++;
      if (r.got !== "ALLOW") s.blockCaught++;
      if (r.got === "BLOCK") s.blockBlocked++;
    } else if (r.expect === "WARN") {
      s.warnCases++;
      if (r.got !== "ALLOW") s.warnFlagged++;
    } else {
      s.benignCases++;
      if (r.got === "WARN") s.benignWarned++;
      if (r.got === "BLOCK") s.benignBlocked++;
    }
  }
  s.rows = [...rows.values()].sort(
    (a, b) => a.category.localeCompare(b.category) || a.expect.localeCompare(b.expect),
  );
  return s;
}

const pct = (n: number, d: number) => (d === 0 ? "–" : `${((100 * n) / d).toFixed(1)}%`);
const ratio = (n: number, d: number) => (d === 0 ? 0 : n / d);

/** Which targets a summary misses (empty when all hold). */
export function missedTargets(s: Summary, t: Targets = TARGETS): string[] {
  const missed: string[] = [];
  if (s.blockCases > 0 && ratio(s.blockCaught, s.blockCases) < t.blockCaughtMin)
    missed.push(
      `BLOCK cases caught ${pct(s.blockCaught, s.blockCases)} < ${t.blockCaughtMin * 100}%`,
    );
  if (s.blockCases > 0 && ratio(s.blockBlocked, s.blockCases) < t.blockBlockedMin)
    missed.push(
      `BLOCK cases blocked ${pct(s.blockBlocked, s.blockCases)} < ${t.blockBlockedMin * 100}%`,
    );
  if (s.warnCases > 0 && ratio(s.warnFlagged, s.warnCases) < t.warnFlaggedMin)
    missed.push(
      `WARN cases flagged ${pct(s.warnFlagged, s.warnCases)} < ${t.warnFlaggedMin * 100}%`,
    );
  if (s.benignCases > 0 && ratio(s.benignBlocked, s.benignCases) > t.benignBlockedMax)
    missed.push(
      `benign cases blocked ${pct(s.benignBlocked, s.benignCases)} > ${t.benignBlockedMax * 100}%`,
    );
  if (s.benignCases > 0 && ratio(s.benignWarned, s.benignCases) > t.benignWarnedMax)
    missed.push(
      `benign cases warned ${pct(s.benignWarned, s.benignCases)} > ${t.benignWarnedMax * 100}%`,
    );
  return missed;
}

/** The per-category and total table, as printed by `npm run eval`. */
export function formatSummary(s: Summary): string {
  const lines: string[] = [];
  const header = `${"category".padEnd(22)}${"expect".padEnd(8)}${"cases".padStart(7)}${"caught".padStart(9)}${"BLOCKed".padStart(9)}${"WARNed".padStart(9)}`;
  lines.push(header, "-".repeat(header.length));
  for (const r of s.rows) {
    lines.push(
      `${r.category.padEnd(22)}${r.expect.padEnd(8)}${String(r.cases).padStart(7)}${pct(r.caught, r.cases).padStart(9)}${pct(r.blocked, r.cases).padStart(9)}${pct(r.warned, r.cases).padStart(9)}`,
    );
  }
  lines.push("-".repeat(header.length));
  lines.push(
    `BLOCK-labelled: ${s.blockCases} cases, caught ${pct(s.blockCaught, s.blockCases)} (target ≥ 97%), BLOCKed ${pct(s.blockBlocked, s.blockCases)} (target ≥ 90%)`,
    `WARN-labelled:  ${s.warnCases} cases, flagged ${pct(s.warnFlagged, s.warnCases)} (target ≥ 85%)`,
    `benign:         ${s.benignCases} cases, WARNed ${pct(s.benignWarned, s.benignCases)} (target ≤ 4%), BLOCKed ${pct(s.benignBlocked, s.benignCases)} (target ≤ 1%)`,
  );
  return lines.join("\n");
}
