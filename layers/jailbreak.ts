import RE2 from "re2";
import { z } from "zod";
import { compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import { type Facts, type Finding, type Layer, NO_FINDINGS } from "./types.js";

const CODE = z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: "must be SCREAMING_SNAKE" });

/** One family of jailbreak markers: patterns for one technique, scored together. */
const FamilySchema = z.strictObject({
  id: CODE,
  /** The finding code when this family contributes most to the score. */
  code: CODE,
  message: z.string().min(1),
  /** Points for the first pattern of the family that matches; negative for counter-signals. */
  weight: z.number(),
  /** The most (or, for a negative weight, the least) the family can contribute. */
  cap: z.number(),
  /** Share of `weight` each further distinct pattern adds; defaults to thresholds.repeat. */
  repeat: z.number().min(0).max(1).optional(),
  patterns: z.array(z.string().min(1)).min(1),
  $comment: z.string().optional(),
});

/** Families that mean more together than apart (fiction framing + harmful request). */
const ComboSchema = z.strictObject({
  all: z.array(CODE).min(2),
  bonus: z.number().positive(),
  /** When set, the finding is reported under this code and message whenever the combo fires. */
  code: CODE.optional(),
  message: z.string().min(1).optional(),
  $comment: z.string().optional(),
});

/** data/jailbreak.json: scored marker families plus optional stand-alone pattern rules. */
export const JailbreakDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  thresholds: z.strictObject({
    warnAt: z.number().positive(),
    blockAt: z.number().positive(),
    /** BLOCK needs this many distinct positive families: one technique alone is not enough. */
    minFamiliesForBlock: z.number().int().min(1),
    repeat: z.number().min(0).max(1),
  }),
  /**
   * RE2 that spots words broken up with separators or leetspeak (u-n-f-i-l, n3v3r). It runs in
   * the same RE2.Set pass as the markers; only when it matches is a de-obfuscated copy scanned.
   */
  obfuscationTrigger: z.string().min(1),
  /** `{NAME}` in a pattern is replaced by the macro's RE2 text before compiling. */
  macros: z.record(z.string().regex(/^[A-Z]+$/), z.string()),
  families: z.array(FamilySchema).min(1),
  combos: z.array(ComboSchema),
});

export type JailbreakData = z.infer<typeof JailbreakDataSchema>;

type CompiledFamily = Readonly<{
  id: string;
  code: string;
  message: string;
  weight: number;
  cap: number;
  repeat: number;
}>;

type CompiledPattern = Readonly<{ family: number; re: RE2 }>;

const MACRO = /\{([A-Z]+)\}/g;

function expandMacros(pattern: string, macros: Readonly<Record<string, string>>, where: string) {
  return pattern.replace(MACRO, (_, name: string) => {
    const body = macros[name];
    if (body === undefined) throw new TypeError(`jailbreak: unknown macro {${name}} in ${where}`);
    return body;
  });
}

function compilePattern(source: string, where: string): RE2 {
  try {
    return new RE2(source, "u");
  } catch (error) {
    throw new TypeError(`jailbreak: invalid RE2 pattern in ${where}: ${String(error)}`);
  }
}

/** Leetspeak digits and symbols and the letters they stand for. */
const LEET_PAIRS: readonly (readonly [string, string])[] = [
  ["0", "o"],
  ["1", "i"],
  ["3", "e"],
  ["4", "a"],
  ["5", "s"],
  ["7", "t"],
  ["@", "a"],
  ["$", "s"],
];

/** Characters people put inside words to break keyword matching: j-a-i-l, d.a.n, un_filtered. */
const SPLITTERS = "-_.*~|^";

// Per-character class, indexed by char code (ASCII only): what a character can stand for.
const LETTER = 1;
const LEET = 2;
const DIGIT = 4;
const SPLITTER = 8;
const CLASS = new Uint8Array(128);
const LEET_LETTER = new Array<string>(128).fill("");
for (let c = 97; c <= 122; c++) CLASS[c] = LETTER;
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (const [ch, letter] of LEET_PAIRS) {
  const c = ch.charCodeAt(0);
  CLASS[c] = CLASS[c]! | LEET;
  LEET_LETTER[c] = letter;
}
for (const ch of SPLITTERS) CLASS[ch.charCodeAt(0)] = SPLITTER;

function classAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? CLASS[c]! : 0; // NaN (out of range) compares false: class 0
}

const KEEP = 0;
const DROP = 1;
const FOLD = 2;

/**
 * What to do with text[i]: drop a separator inside a word (j-a-i-l), fold a leetspeak digit
 * that touches a letter and no plain number (n0, r3fus3, but not 2023 or mp4), or keep it.
 */
function rewriteAt(text: string, i: number): number {
  const here = classAt(text, i);
  if (here === 0 || here === LETTER || here === DIGIT) return KEEP;
  const prev = classAt(text, i - 1);
  const next = classAt(text, i + 1);
  if (here === SPLITTER) return prev & LETTER && next & (LETTER | LEET) ? DROP : KEEP;
  // A leet character: it must touch a letter, and a neighbouring plain digit makes it a number.
  if (!((prev | next) & LETTER)) return KEEP;
  if ((prev & DIGIT && !(prev & LEET)) || (next & DIGIT && !(next & LEET))) return KEEP;
  return FOLD;
}

/**
 * A copy of the normalised text with separators inside words removed and leetspeak digits
 * folded back ("u-n-f-i-l-t-e-r-e-d", "n3v3r r3fus3"). Only called when the trigger pattern
 * saw such words, so ordinary text never pays for this scan.
 */
function deobfuscate(text: string): string {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const action = rewriteAt(text, i);
    if (action === KEEP) continue;
    out.push(text.slice(start, i));
    if (action === FOLD) out.push(LEET_LETTER[text.charCodeAt(i)]!);
    start = i + 1;
  }
  out.push(text.slice(start));
  return out.join("");
}

/**
 * Layer 8: jailbreak prompts. Markers are grouped in technique families (DAN-style personas,
 * restriction removal, forced compliance, refusal suppression, dual answers, mode switches,
 * token games, prefix injection, fiction framing around harmful requests…). One RE2.Set pass
 * finds every marker; the families' weights add up, so several weak markers together BLOCK
 * while a lone one (a role-play prompt, "developer mode" on a phone) stays below the bar.
 */
export function createJailbreakLayer(input: unknown): Layer {
  const data = JailbreakDataSchema.parse(input);
  const t = data.thresholds;
  const families: CompiledFamily[] = data.families.map((f) => ({
    id: f.id,
    code: f.code,
    message: f.message,
    weight: f.weight,
    cap: f.cap,
    repeat: f.repeat ?? t.repeat,
  }));
  const indexOf = new Map(families.map((f, i) => [f.id, i]));
  if (indexOf.size !== families.length) throw new TypeError("jailbreak: duplicate family id");
  const combos = data.combos.map((c) =>
    c.all.map((id) => {
      const i = indexOf.get(id);
      if (i === undefined) throw new TypeError(`jailbreak: combo names unknown family ${id}`);
      return i;
    }),
  );

  const patterns: CompiledPattern[] = [];
  const sources: string[] = [];
  data.families.forEach((f, family) => {
    f.patterns.forEach((p, n) => {
      const where = `${f.id}[${n}]`;
      const source = expandMacros(p, data.macros, where);
      patterns.push({ family, re: compilePattern(source, where) });
      sources.push(source);
    });
  });
  // The trigger rides in the same set, after the markers: one native pass decides both.
  const trigger = patterns.length;
  compilePattern(data.obfuscationTrigger, "obfuscationTrigger");
  const set = new RE2.Set([...sources, data.obfuscationTrigger], "u");
  const extraRules = compileRules("jailbreak", data.rules);
  // Stand-alone rules are optional; without any, a clean request allocates nothing.
  const clean = (facts: Facts): readonly Finding[] =>
    data.rules.length > 0 ? done(extraRules(facts)) : NO_FINDINGS;

  // Scratch state reused across calls: check() is synchronous, so no call can interleave.
  const hits = new Int32Array(families.length);
  const firstHit = new Int32Array(families.length);
  const scores = new Float64Array(families.length);

  function score(matched: readonly number[]): void {
    hits.fill(0);
    firstHit.fill(-1);
    for (const index of matched) {
      const family = patterns[index]!.family;
      if (hits[family] === 0 || index < firstHit[family]!) firstHit[family] = index;
      hits[family]!++;
    }
    for (let i = 0; i < families.length; i++) {
      const f = families[i]!;
      const n = hits[i]!;
      if (n === 0) {
        scores[i] = 0;
        continue;
      }
      const raw = f.weight * (1 + f.repeat * (n - 1));
      scores[i] = f.weight >= 0 ? Math.min(f.cap, raw) : Math.max(f.cap, raw);
    }
  }

  return {
    name: "jailbreak",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const view = facts.all;
      if (view.buf.length === 0) return clean(facts);
      // One pass of the set: match() on a clean text costs what test() would.
      let matched = set.match(view.buf);
      if (matched.length === 0) return clean(facts);
      let alt: Buffer | null = null;
      if (matched.includes(trigger)) {
        alt = Buffer.from(deobfuscate(view.norm), "utf8");
        matched = [...new Set([...matched, ...set.match(alt)])].filter((i) => i !== trigger);
        if (matched.length === 0) return clean(facts);
      }
      score(matched);

      let total = 0;
      let positive = 0;
      let top = -1;
      for (let i = 0; i < families.length; i++) {
        const s = scores[i]!;
        total += s;
        if (s > 0) {
          positive++;
          if (top < 0 || s > scores[top]!) top = i;
        }
      }
      // The first firing combo that names a code explains the finding better than any one family.
      let label: { code: string; message: string } | null = null;
      for (let c = 0; c < combos.length; c++) {
        if (!combos[c]!.every((i) => scores[i]! > 0)) continue;
        const combo = data.combos[c]!;
        total += combo.bonus;
        if (label === null && combo.code !== undefined) {
          label = { code: combo.code, message: combo.message ?? families[top]!.message };
        }
      }
      if (top < 0 || total < t.warnAt) return clean(facts);

      const block = total >= t.blockAt && positive >= t.minFamiliesForBlock;
      const family = families[top]!;
      label ??= family;
      const re = patterns[firstHit[top]!]!.re;
      const match = re.exec(view.buf) ?? (alt === null ? null : re.exec(alt));
      const signals = families
        .filter((_, i) => scores[i]! > 0)
        .map((f) => f.id)
        .join(", ");
      const found = data.rules.length > 0 ? extraRules(facts) : [];
      found.push({
        layer: "jailbreak",
        code: label.code,
        severity: block ? "BLOCK" : "WARN",
        confidence: block
          ? Math.min(0.98, 0.62 + 0.06 * (total - t.blockAt))
          : Math.min(0.49, 0.4 + 0.05 * (total - t.warnAt)),
        message: `${label.message} (jailbreak score ${total.toFixed(1)}: ${signals})`,
        evidence: evidenceOf(match === null ? "" : String(match[0])),
      });
      return done(found);
    },
  };
}
