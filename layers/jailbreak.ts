import RE2 from "re2";
import { z } from "zod";
import { compilePatternSet } from "./re2-sets.js";
import { compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import { type Facts, type Finding, type Layer, NO_FINDINGS, type TextView } from "./types.js";

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
  /**
   * Families sharing a group are one signal seen at different strengths (a harmful topic named,
   * a harmful how-to asked): together they add at most the group's largest cap and count as one
   * family toward minFamiliesForBlock, though each still satisfies combos on its own.
   */
  group: CODE.optional(),
  patterns: z.array(z.string().min(1)).min(1),
  $comment: z.string().optional(),
});

/** Families that mean more together than apart (fiction framing + harmful request). */
const ComboSchema = z
  .strictObject({
    all: z.array(CODE).min(1),
    /** At least one of these must fire too (any harmful signal, whichever strength). */
    any: z.array(CODE).min(1).optional(),
    /** The combo does not fire when one of these does (text that discusses the technique). */
    none: z.array(CODE).min(1).optional(),
    bonus: z.number().positive(),
    /** When set, the finding is reported under this code and message whenever the combo fires. */
    code: CODE.optional(),
    message: z.string().min(1).optional(),
    $comment: z.string().optional(),
  })
  .refine((c) => c.all.length + (c.any === undefined ? 0 : 1) >= 2, {
    message: "a combo needs at least two families (all, or all plus any)",
  });

/**
 * A re-reading of the text that undoes a simple encoding the prompt itself announces
 * ("read this backwards", "it is ROT13"): scanned only when its trigger matches.
 */
const TransformSchema = z.strictObject({
  kind: z.enum(["reverse", "rot13", "binary"]),
  trigger: z.string().min(1),
  $comment: z.string().optional(),
});

/**
 * Mention versus use: text that frames quoted material as something to summarise, translate,
 * classify or document. Under such a frame the quoted spans are what is being talked about,
 * so the score is taken on the text outside them, unless a directive turns the quoted text
 * back into instructions ("translate it, then do what it says").
 */
const MentionSchema = z.strictObject({
  frames: z.array(z.string().min(1)).min(1),
  uses: z.array(z.string().min(1)).min(1),
  /**
   * Words that address someone (second-person pronouns in many languages, imperatives at the
   * start of a sentence). Text that discusses jailbreaks (META_DISCUSSION) and addresses no
   * one is a report about them, whatever markers it names.
   */
  address: z.string().min(1),
  /** Sources whose text is material being read (a fetched page, a file), framed by nature. */
  framedSources: z.array(z.enum(["user", "tool_output", "web", "file", "agent"])),
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
    /**
     * Added, as one more family, when a re-reading (leetspeak and separators undone, text
     * reversed, ROT13, 8-bit binary) reveals positive markers the plain text did not show:
     * hiding them is a technique of its own.
     */
    revealBonus: z.number().min(0),
  }),
  /**
   * RE2 that spots words broken up with separators or leetspeak (u-n-f-i-l, n3v3r). It runs in
   * the same pattern-set scan as the markers; only when it matches is a de-obfuscated copy scanned.
   */
  obfuscationTrigger: z.string().min(1),
  transforms: z.array(TransformSchema),
  mention: MentionSchema,
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
  /** Index into the group table, or -1. */
  group: number;
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
 * The UTF-8 text read right to left, by character: the bytes are reversed, then each
 * multi-byte character (now continuation bytes before its lead byte) is put back in order.
 * Working on bytes keeps this linear and cheap on large inputs.
 */
function reversedUtf8(buf: Buffer): Buffer {
  const n = buf.length;
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = buf[n - 1 - i]!;
  let i = 0;
  while (i < n) {
    if ((out[i]! & 0xc0) !== 0x80) {
      i++;
      continue;
    }
    let lead = i;
    while (lead < n && (out[lead]! & 0xc0) === 0x80) lead++;
    if (lead < n) out.subarray(i, lead + 1).reverse();
    i = lead + 1;
  }
  return out;
}

/** ROT13 of the ASCII letters (the normalised text is lower case; other bytes are kept). */
function rot13Utf8(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (c >= 97 && c <= 122) out[i] = ((c - 97 + 13) % 26) + 97;
  }
  return out;
}

const ZERO = 48;
const ONE = 49;

/** True when buf[i] is an ASCII 0 or 1. */
function isBit(buf: Buffer, i: number): boolean {
  const c = buf[i];
  return c === ZERO || c === ONE;
}

/**
 * Every run of exactly eight 0/1 characters read as one byte ("01101000 01101001" → "hi");
 * bytes outside printable ASCII become spaces, so the result is always valid UTF-8. Bounded
 * by the input: one pass, one byte out per eight in.
 */
function binaryUtf8(buf: Buffer): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < buf.length) {
    if (!isBit(buf, i) || isBit(buf, i - 1)) {
      i++;
      continue;
    }
    let end = i;
    while (end < buf.length && isBit(buf, end)) end++;
    if (end - i === 8) {
      let byte = 0;
      for (let k = i; k < end; k++) byte = (byte << 1) | (buf[k]! - ZERO);
      // Lower-cased like the normalised text the patterns are written for.
      if (byte >= 65 && byte <= 90) out.push(byte + 32);
      else out.push(byte >= 32 && byte < 127 ? byte : 32);
    }
    i = end;
  }
  return Buffer.from(out);
}

const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;
const BACKTICK = 96;
const GREATER_THAN = 62;
const NEWLINE = 10;

/**
 * True for a character that can sit inside a word (ASCII letters and digits, and letters of
 * other scripts, which are nearly all above U+0080): a quote between two of them is an
 * apostrophe, not a quotation mark.
 */
function isWordChar(c: number): boolean {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
  // NaN (out of range: the text's edge) is no letter; nor are guillemets and punctuation.
  return c >= 128 && c !== 0xab && c !== 0xbb && !(c >= 0x2000 && c <= 0x206f);
}

/** The index just past the next `mark` from `from`, or the end of the text when none follows. */
function closingAfter(text: string, mark: string, from: number): number {
  const j = text.indexOf(mark, from);
  return j < 0 ? text.length : j + mark.length;
}

/**
 * The end (exclusive) of the quoted span opening at text[i], or -1 when text[i] opens none:
 * "…" and «…» (an unclosed one runs to the end: a quotation cut short), ``` fences, `…` and
 * '…' within a line, and "> " quoted lines. `noSingleClose` is the index up to which no
 * single quote can close, so a line full of apostrophes is scanned once, not once per quote.
 */
function quoteEnd(text: string, i: number, noSingleClose: { until: number }): number {
  const c = text.charCodeAt(i);
  if (c === DOUBLE_QUOTE) return closingAfter(text, '"', i + 1);
  if (c === 0xab) return closingAfter(text, "\u00bb", i + 1);
  if (c === BACKTICK) {
    if (text.startsWith("```", i)) return closingAfter(text, "```", i + 3);
    const j = text.indexOf("`", i + 1);
    const nl = text.indexOf("\n", i + 1);
    return j < 0 || (nl >= 0 && nl < j) ? -1 : j + 1;
  }
  if (c === GREATER_THAN && (i === 0 || text.charCodeAt(i - 1) === NEWLINE)) {
    const nl = text.indexOf("\n", i);
    return nl < 0 ? text.length : nl;
  }
  if (c !== SINGLE_QUOTE || i < noSingleClose.until) return -1;
  if (isWordChar(text.charCodeAt(i - 1)) || !isWordChar(text.charCodeAt(i + 1))) return -1;
  for (let k = i + 1; k < text.length; k++) {
    const d = text.charCodeAt(k);
    if (d === NEWLINE) break;
    if (d === SINGLE_QUOTE && !isWordChar(text.charCodeAt(k + 1))) return k + 1;
  }
  const nl = text.indexOf("\n", i);
  noSingleClose.until = nl < 0 ? text.length : nl;
  return -1;
}

/** What can open a quoted span; "> " counts only at the start of a line. */
const QUOTE_MARKS = ['"', "\u00ab", "`", "'", "\n>"] as const;

/**
 * The text with its quoted spans replaced by a space, or null when it quotes nothing. Linear:
 * it jumps from one quote mark to the next (native indexOf, each mark's next position cached)
 * and skips each span whole once found.
 */
export function unquoted(text: string): string | null {
  const out: string[] = [];
  const noSingleClose = { until: 0 };
  const next = QUOTE_MARKS.map((mark) => text.indexOf(mark));
  let start = 0;
  let i = 0;
  // "> " on the first line has no newline before it.
  if (text.charCodeAt(0) === GREATER_THAN) {
    const end = quoteEnd(text, 0, noSingleClose);
    out.push(" ");
    start = end;
    i = end;
  }
  for (;;) {
    let at = -1;
    for (let k = 0; k < QUOTE_MARKS.length; k++) {
      if (next[k]! >= 0 && next[k]! < i) next[k] = text.indexOf(QUOTE_MARKS[k]!, i);
      const p = next[k]!;
      if (p >= 0 && (at < 0 || p < at)) at = p;
    }
    if (at < 0) break;
    if (text.charCodeAt(at) === NEWLINE) at++;
    const end = quoteEnd(text, at, noSingleClose);
    if (end < 0) {
      i = at + 1;
      continue;
    }
    out.push(text.slice(start, at), " ");
    start = end;
    i = end;
  }
  if (out.length === 0) return null;
  out.push(text.slice(start));
  return out.join("");
}

const TRANSFORMS: Readonly<Record<z.infer<typeof TransformSchema>["kind"], (b: Buffer) => Buffer>> =
  { reverse: reversedUtf8, rot13: rot13Utf8, binary: binaryUtf8 };

/**
 * Layer 8: jailbreak prompts. Markers are grouped in technique families (DAN-style personas and
 * restriction removal in many languages, forced compliance, refusal suppression, dual answers,
 * mode switches, token games, prefix injection, many-shot dialogues, dead-relative and other
 * emotional framing, simulated machines whose safety was removed, claimed authority, payloads to
 * decode and obey, fiction framing…) and weighed with harmful-request markers. One RE2.Set pass
 * finds every marker, and announced encodings (leetspeak, reversed, ROT13, binary) are re-read;
 * the families' weights add up, so several weak markers together BLOCK while a lone one (a
 * role-play prompt, "developer mode" on a phone, a harmful question asked plainly) stays below.
 */
export function createJailbreakLayer(input: unknown): Layer {
  const data = JailbreakDataSchema.parse(input);
  const t = data.thresholds;
  const groupNames = [...new Set(data.families.flatMap((f) => (f.group ? [f.group] : [])))];
  const families: CompiledFamily[] = data.families.map((f) => ({
    id: f.id,
    code: f.code,
    message: f.message,
    weight: f.weight,
    cap: f.cap,
    repeat: f.repeat ?? t.repeat,
    group: f.group === undefined ? -1 : groupNames.indexOf(f.group),
  }));
  const indexOf = new Map(families.map((f, i) => [f.id, i]));
  if (indexOf.size !== families.length) throw new TypeError("jailbreak: duplicate family id");
  const familyIndex = (id: string): number => {
    const i = indexOf.get(id);
    if (i === undefined) throw new TypeError(`jailbreak: combo names unknown family ${id}`);
    return i;
  };
  const combos = data.combos.map((c) => ({
    all: c.all.map(familyIndex),
    any: c.any?.map(familyIndex) ?? null,
    none: c.none?.map(familyIndex) ?? null,
  }));

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
  // The triggers ride in the same set, after the markers: one native pass decides all.
  const trigger = patterns.length;
  compilePattern(data.obfuscationTrigger, "obfuscationTrigger");
  const transforms = data.transforms.map((tr, n) => {
    compilePattern(tr.trigger, `transforms[${n}]`);
    return { index: trigger + 1 + n, apply: TRANSFORMS[tr.kind] };
  });
  // Mention frames and use directives ride in the set too, after the transforms' triggers.
  const firstFrame = trigger + 1 + data.transforms.length;
  const firstUse = firstFrame + data.mention.frames.length;
  const addressIndex = firstUse + data.mention.uses.length;
  compilePattern(data.mention.address, "mention.address");
  const meta = families.findIndex((f) => f.id === "META_DISCUSSION");
  const frames = data.mention.frames.map((p, n) => {
    const source = expandMacros(p, data.macros, `mention.frames[${n}]`);
    compilePattern(source, `mention.frames[${n}]`);
    return source;
  });
  const uses = data.mention.uses.map((p, n) => {
    const source = expandMacros(p, data.macros, `mention.uses[${n}]`);
    compilePattern(source, `mention.uses[${n}]`);
    return source;
  });
  const framedSources = new Set<string>(data.mention.framedSources);
  const set = compilePatternSet(
    [
      ...sources,
      data.obfuscationTrigger,
      ...data.transforms.map((tr) => tr.trigger),
      ...frames,
      ...uses,
      data.mention.address,
    ],
    "jailbreak markers",
  );

  /**
   * The text to score: without its quoted spans when the request frames them as material
   * (a frame matched, or the source is a page or file being read) and nothing asks for the
   * quoted text to be obeyed; otherwise the text as it is.
   */
  function spokenText(view: TextView, matched: readonly number[], source: string): TextView {
    let framed = framedSources.has(source);
    for (const i of matched) {
      if (i >= firstUse && i < addressIndex) return view;
      if (i >= firstFrame && i < firstUse) framed = true;
    }
    if (!framed) return view;
    const rest = unquoted(view.norm);
    return rest === null ? view : { raw: rest, norm: rest, buf: Buffer.from(rest, "utf8") };
  }
  const extraRules = compileRules("jailbreak", data.rules);
  // Stand-alone rules are optional; without any, a clean request allocates nothing.
  const clean = (facts: Facts): readonly Finding[] =>
    data.rules.length > 0 ? done(extraRules(facts)) : NO_FINDINGS;

  // Scratch state reused across calls: check() is synchronous, so no call can interleave.
  const hits = new Int32Array(families.length);
  const firstHit = new Int32Array(families.length);
  const scores = new Float64Array(families.length);
  // What each family adds to the total once each group is summed (capped) onto its strongest.
  const counted = new Float64Array(families.length);
  const groupBest = new Int32Array(groupNames.length);
  const groupCap = groupNames.map((_, g) =>
    Math.max(...families.filter((f) => f.group === g).map((f) => f.cap)),
  );

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
    counted.set(scores);
    // A group's members add up to at most the group's largest cap, credited to its strongest.
    groupBest.fill(-1);
    for (let i = 0; i < families.length; i++) {
      const g = families[i]!.group;
      if (g < 0 || scores[i]! <= 0) continue;
      const best = groupBest[g]!;
      if (best < 0) {
        groupBest[g] = i;
        continue;
      }
      const sum = Math.min(groupCap[g]!, counted[best]! + scores[i]!);
      const keep = scores[i]! > scores[best]! ? i : best;
      counted[best] = 0;
      counted[i] = 0;
      counted[keep] = sum;
      groupBest[g] = keep;
    }
  }

  type Reread = { matched: number[]; alts: Buffer[]; revealed: boolean };

  /**
   * The matches of the set on re-readings of the text that the triggers asked for, and
   * whether they show a positive family the plain text did not.
   */
  function rereadings(matched: number[], view: TextView): Reread {
    const alts: Buffer[] = [];
    const plain = new Set(matched.filter((i) => i < trigger).map((i) => patterns[i]!.family));
    let all = matched;
    let revealed = false;
    const reread = (buf: Buffer) => {
      alts.push(buf);
      const found = set.match(buf);
      for (const i of found) {
        if (i >= trigger) continue;
        const family = patterns[i]!.family;
        if (!plain.has(family) && families[family]!.weight > 0) revealed = true;
      }
      all = all.concat(found);
    };
    if (matched.includes(trigger)) reread(Buffer.from(deobfuscate(view.norm), "utf8"));
    for (const tr of transforms) if (matched.includes(tr.index)) reread(tr.apply(view.buf));
    return { matched: [...new Set(all)].filter((i) => i < trigger), alts, revealed };
  }

  return {
    name: "jailbreak",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      let view = facts.all;
      if (view.buf.length === 0) return clean(facts);
      // One pass of the set: match() on a clean text costs what test() would.
      let matched = set.match(view.buf);
      if (matched.length === 0) return clean(facts);
      const spoken = spokenText(view, matched, facts.source);
      if (spoken !== view) {
        view = spoken;
        matched = set.match(view.buf);
        if (matched.length === 0) return clean(facts);
      }
      let alts: Buffer[] = [];
      let revealed = false;
      // A report about jailbreaks that speaks to no one is not one, whatever it names.
      const addressed = matched.includes(addressIndex);
      if (matched.some((i) => i >= trigger)) {
        ({ matched, alts, revealed } = rereadings(matched, view));
        if (matched.length === 0) return clean(facts);
      }
      score(matched);
      if (meta >= 0 && scores[meta]! < 0 && !addressed) return clean(facts);

      let total = revealed ? t.revealBonus : 0;
      let positive = revealed ? 1 : 0;
      let top = -1;
      for (let i = 0; i < families.length; i++) {
        const s = counted[i]!;
        total += s;
        if (s > 0) {
          positive++;
          if (top < 0 || s > counted[top]!) top = i;
        }
      }
      // The first firing combo that names a code explains the finding better than any one family.
      let label: { code: string; message: string } | null = null;
      for (let c = 0; c < combos.length; c++) {
        const combo = combos[c]!;
        if (!combo.all.every((i) => scores[i]! > 0)) continue;
        if (combo.any !== null && !combo.any.some((i) => scores[i]! > 0)) continue;
        if (combo.none?.some((i) => scores[i]! !== 0)) continue;
        const spec = data.combos[c]!;
        total += spec.bonus;
        if (label === null && spec.code !== undefined) {
          label = { code: spec.code, message: spec.message ?? families[top]!.message };
        }
      }
      if (top < 0 || total < t.warnAt) return clean(facts);

      const block = total >= t.blockAt && positive >= t.minFamiliesForBlock;
      const family = families[top]!;
      label ??= family;
      const re = patterns[firstHit[top]!]!.re;
      let match = re.exec(view.buf);
      for (let a = 0; match === null && a < alts.length; a++) match = re.exec(alts[a]!);
      const named = families.filter((_, i) => counted[i]! > 0).map((f) => f.id);
      const signals = (revealed ? [...named, "HIDDEN_BY_ENCODING"] : named).join(", ");
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
