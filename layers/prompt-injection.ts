import RE2 from "re2";
import { z } from "zod";
import { compilePatternSet, type PatternSet } from "./re2-sets.js";
import { compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import type { Facts, Finding, Layer, Severity } from "./types.js";

const SignalSchema = z.strictObject({
  /** Lower snake name shared by every pattern of one signal. */
  signal: z.string().regex(/^[a-z][a-z0-9_]*$/),
  /** RE2 syntax, written in lower case in the script it matches; NFKC-normalised at start-up. */
  pattern: z.string().min(1),
  /**
   * A cheap pattern scanned over the whole text instead of `pattern`; `pattern` is then run only
   * near its matches. For patterns with long bounded gaps, which make one RE2.Set over a long text
   * slow (the automaton's states multiply with every gap counter).
   */
  trigger: z.string().min(1).optional(),
  /** Look for this pattern only inside windows around anchors, never over the whole text. */
  local: z.boolean().optional(),
  $comment: z.string().optional(),
});

const WindowSchema = z.strictObject({
  before: z.number().int().min(0).max(5_000),
  after: z.number().int().min(0).max(5_000),
  /** Clip the window to the sentence around the anchor (". ", "!", "?", newline). */
  sentence: z.boolean().optional(),
  /** End the window at the first of these strings after the anchor (a comment's "-->"). */
  stopAt: z.array(z.string().min(1)).optional(),
});

const ComboSchema = z.strictObject({
  code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  severity: z.enum(["BLOCK", "WARN"]),
  confidence: z.number().min(0).max(1),
  message: z.string().min(1),
  /** The signal whose matches are located; companions are looked for around each one. */
  anchor: z.string(),
  /** direct: the user's own prompt and agent text; untrusted: tool output, web, files. */
  scope: z.enum(["direct", "untrusted", "any"]),
  /** At least one of these signals near the anchor. */
  with: z.array(z.string()).min(1).optional(),
  /** Every one of these signals near the anchor. */
  also: z.array(z.string()).min(1).optional(),
  /** None of these signals near the anchor. */
  without: z.array(z.string()).min(1).optional(),
  window: WindowSchema.optional(),
  /** Skip anchors quoted as an example ("translate 'ignore previous instructions'"). */
  skipQuoted: z.boolean().optional(),
});

const ViewSchema = z.strictObject({
  /**
   * How the text is rewritten before it is scanned again: leet digits read as letters, letters
   * spaced apart joined up, reversed or ROT13 text turned back, quoted fragments put together.
   */
  view: z.enum(["leet", "spaced", "reversed", "rot13", "joined"]),
  /** The signal whose presence in the plain text makes the rewrite worth doing. */
  gate: z.string(),
  code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  confidence: z.number().min(0).max(1),
  message: z.string().min(1),
  /** For "joined": an RE2 pattern whose capture groups are the fragments to put together. */
  extract: z.string().min(1).optional(),
  /** WARN codes that become a BLOCK when only the rewritten text shows them. */
  escalate: z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/)).optional(),
  $comment: z.string().optional(),
});

/** The layer's data file (data/prompt-injection.json). */
export const PromptInjectionDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  /** Matches of one anchor pattern examined per request, to bound the work. */
  maxAnchorHits: z.number().int().positive().max(64),
  /**
   * Action-name words that mean "the agent is reading something" (`read_email`,
   * `gmail.get_message`): text such actions carry is data from elsewhere, whatever their kind.
   */
  readActionTokens: z.array(z.string().regex(/^[a-z0-9]+$/)).min(1),
  /** Characters either side of a trigger match in which its full pattern is looked for. */
  triggerReach: z.number().int().positive().max(2_000),
  /** The finding raised when a flagged instruction was laced with invisible characters. */
  hidden: z.strictObject({
    code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
    confidence: z.number().min(0).max(1),
    message: z.string().min(1),
  }),
  /** Leetspeak characters and the letters they stand for, for the "leet" view. */
  leet: z.record(z.string().length(1), z.string().regex(/^[a-z]$/)),
  /** Largest text (characters) a rewritten view is built for. */
  maxViewChars: z.number().int().positive().max(65_536),
  views: z.array(ViewSchema),
  /**
   * Mention vs use: quoted phrases framed as examples (translate, classify, an attacker writes…)
   * are blanked before the text is judged again.
   */
  mention: z.strictObject({
    $comment: z.string().optional(),
    /** Quoted spans examined per text. */
    maxSpans: z.number().int().positive().max(64),
    /** Longest quotation (characters) that counts as one quoted span. */
    maxQuoteChars: z.number().int().positive().max(4_000),
    /** Characters before the opening quote and after the closing one searched for the frame. */
    before: z.number().int().min(0).max(1_000),
    after: z.number().int().min(0).max(1_000),
    /** Words that say the quotation is being talked about (translate, classify, example…). */
    frame: z.array(z.string().min(1)).min(1),
    /** Words that say the quotation is to be acted upon (then follow it); they keep it live. */
    use: z.array(z.string().min(1)).min(1),
    /**
     * Words just before an override that report or negate it instead of giving it ("emails that
     * tell you to …", "never …"); matched against the text ending at the anchor.
     */
    reported: z.array(z.string().min(1)).min(1),
    /** Signals whose matches are blanked when `reported` precedes them. */
    reportedSignals: z.array(z.string()).min(1),
    /** Characters before an anchor searched for `reported`. */
    reportedReach: z.number().int().positive().max(200),
  }),
  signals: z.array(SignalSchema).min(1),
  combos: z.array(ComboSchema).min(1),
}).superRefine((data, ctx) => {
  const names = new Set(data.signals.map((s) => s.signal));
  // Anchors and view gates are found by the whole-text scan, which skips local patterns.
  const anchors = new Set([...data.combos.map((c) => c.anchor), ...data.views.map((v) => v.gate)]);
  data.signals.forEach((s, i) => {
    if (s.local === true && (s.trigger !== undefined || anchors.has(s.signal))) {
      ctx.addIssue({
        code: "custom",
        path: ["signals", i],
        message: `local pattern of "${s.signal}" cannot anchor a combo, gate a view or have a trigger`,
      });
    }
  });
  data.views.forEach((v, i) => {
    if (!names.has(v.gate)) {
      ctx.addIssue({ code: "custom", path: ["views", i], message: `unknown signal "${v.gate}"` });
    }
    if (v.view === "joined" && v.extract === undefined) {
      ctx.addIssue({ code: "custom", path: ["views", i], message: "joined view needs extract" });
    }
  });
  data.combos.forEach((c, i) => {
    for (const name of [c.anchor, ...(c.with ?? []), ...(c.also ?? []), ...(c.without ?? [])]) {
      if (!names.has(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["combos", i],
          message: `unknown signal "${name}"`,
        });
      }
    }
  });
});

export type PromptInjectionData = z.infer<typeof PromptInjectionDataSchema>;

type Scope = "direct" | "untrusted" | "any";
type Span = Readonly<{ start: number; end: number }>;
type Window = Readonly<{
  before: number;
  after: number;
  sentence: boolean;
  stopAt: readonly string[];
}>;

type Combo = Readonly<{
  code: string;
  severity: Severity;
  confidence: number;
  message: string;
  anchor: number;
  scope: Scope;
  with: readonly number[];
  also: readonly number[];
  without: readonly number[];
  window: Window;
  skipQuoted: boolean;
  /** Scans a window for this combo's companion signals only; null when it needs none. */
  companions: Companions | null;
}>;

type Companions = Readonly<{
  id: number;
  set: PatternSet;
  /** The signal of each pattern in `set`. */
  signalOf: readonly number[];
}>;

// Characters that open or close a quotation: a phrase between them is being mentioned, not used.
const QUOTES = new Set([..."'\"`“”‘’«»„「」『』"].map((c) => c.charCodeAt(0)));
// Invisible characters used to lace words; U+200D (emoji joiner) and variation selectors are
// left out because ordinary emoji sequences contain them.
const LACING = new Set([0x200b, 0x200c, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x00ad, 0x180e]);
const MIN_LACING = 2;
const MAX_WINDOWS = 32;
const DEFAULT_WINDOW: Window = { before: 200, after: 300, sentence: false, stopAt: [] };

/**
 * Brings a pattern written in natural script to the pipeline's normal form (NFKC). Look-alike
 * folding needs nothing here: it only rewrites words that mix scripts, never a word written
 * wholly in Cyrillic or Greek as these phrases are.
 */
function foldPattern(pattern: string): string {
  return pattern.normalize("NFKC");
}

/**
 * True when an RE2 pattern can only match text with non-ASCII characters: once escapes and
 * Unicode classes are set aside, it names no ASCII letter or digit (a Cyrillic or CJK phrase).
 */
function needsNonAscii(pattern: string): boolean {
  const bare = pattern
    .replace(/\\[pP](?:\{[^}]*\}|[A-Za-z])/g, "")
    .replace(/\\./g, "")
    .replace(/\{\d+(?:,\d*)?\}/g, "");
  if (/[A-Za-z0-9]/.test(bare)) return false;
  for (let i = 0; i < bare.length; i++) if (bare.charCodeAt(i) > 0x7f) return true;
  return false;
}

/** True when the match is wrapped in quotation marks: an example, not an instruction. */
function isQuoted(text: string, start: number, end: number): boolean {
  let i = start - 1;
  while (i >= 0 && start - i <= 3 && text.charCodeAt(i) === 32) i--;
  if (i < 0 || !QUOTES.has(text.charCodeAt(i))) return false;
  const limit = Math.min(text.length, end + 40);
  for (let j = end; j < limit; j++) if (QUOTES.has(text.charCodeAt(j))) return true;
  return false;
}

function isBoundary(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === 10) return true;
  if (c === 46 || c === 33 || c === 63) {
    // "www.example.com" and "v3.2" keep their dots; a sentence ends at ". " or the text end.
    const next = text.charCodeAt(i + 1);
    return Number.isNaN(next) || next === 32 || next === 10 || next === 9 || next === 13;
  }
  return false;
}

function windowBounds(text: string, start: number, end: number, w: Window): [number, number] {
  let a = Math.max(0, start - w.before);
  let b = Math.min(text.length, end + w.after);
  if (w.sentence) {
    for (let i = start - 1; i >= a; i--) {
      if (isBoundary(text, i)) {
        a = i + 1;
        break;
      }
    }
    for (let i = end; i < b; i++) {
      if (isBoundary(text, i)) {
        b = i + 1;
        break;
      }
    }
  }
  for (const stop of w.stopAt) {
    // Searched within the window only, so a long text without the marker costs nothing more.
    const at = text.slice(end, b).indexOf(stop);
    if (at !== -1) b = end + at;
  }
  return [a, b];
}

/** Counts invisible characters inside the raw text, stopping once there are enough. */
function lacedWithInvisibles(raw: string): boolean {
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (LACING.has(c) || (c === 0xfeff && i > 0)) n++;
    // Unicode tag characters (U+E0020–E007F) arrive as a surrogate pair starting with U+DB40.
    else if (c === 0xdb40) n++;
    if (n >= MIN_LACING) return true;
  }
  return false;
}

/** Leet words (letters mixed with digits or symbols) read as letters; null if there are too few. */
function unleet(text: string, leet: ReadonlyMap<number, string>): string | null {
  let out = "";
  let word = "";
  let mixed = 0;
  let letters = false;
  let symbols = false;
  const flush = () => {
    if (letters && symbols) {
      mixed++;
      for (let j = 0; j < word.length; j++) out += leet.get(word.charCodeAt(j)) ?? word[j];
    } else out += word;
    word = "";
    letters = false;
    symbols = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const isLetter = c >= 97 && c <= 122;
    if (isLetter || leet.has(c)) {
      word += text[i];
      if (isLetter) letters = true;
      else symbols = true;
    } else {
      flush();
      out += text[i];
    }
  }
  flush();
  // One leet word is a product name or a hash; an instruction needs several.
  return mixed >= 2 ? out : null;
}

const isAsciiLetter = (c: number) => c >= 97 && c <= 122;

/**
 * Letters written one by one ("i g n o r e", "i-g-n-o-r-e") joined into words; null when there
 * is no such run. A separator that differs from the run's first one, or a longer gap, is kept
 * as a word break, so "i-g-n-o-r-e a-l-l" becomes "ignore all".
 */
function unspace(text: string): string | null {
  let out = "";
  let changed = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const standalone = isAsciiLetter(c) && (i === 0 || !isAsciiLetter(text.charCodeAt(i - 1)));
    if (!standalone || i + 2 >= text.length || isAsciiLetter(text.charCodeAt(i + 1))) {
      out += text[i];
      i++;
      continue;
    }
    // A run: letter, separator, letter, separator… where every letter stands alone.
    const sep = text.charCodeAt(i + 1);
    let j = i;
    let run = "";
    let letters = 0;
    while (j < text.length && isAsciiLetter(text.charCodeAt(j))) {
      if (j + 1 < text.length && isAsciiLetter(text.charCodeAt(j + 1))) break;
      run += text[j];
      letters++;
      let k = j + 1;
      while (k < text.length && k - j <= 3 && !isAsciiLetter(text.charCodeAt(k))) k++;
      const gap = k - j - 1;
      if (k >= text.length || !isAsciiLetter(text.charCodeAt(k)) || gap === 0 || gap > 3) {
        j++;
        break;
      }
      if (gap > 1 || text.charCodeAt(j + 1) !== sep) run += " ";
      j = k;
    }
    if (letters >= 6) {
      out += run;
      changed = true;
    } else out += text.slice(i, j);
    i = j;
  }
  return changed ? out : null;
}

// Quotation marks that pair with themselves or with a distinct closing mark.
const CLOSER = new Map<number, number>([
  [0x22, 0x22], // "
  [0x60, 0x60], // `
  [0x27, 0x27], // '
  [0x2018, 0x2019], // ‘ ’
  [0x201c, 0x201d], // “ ”
  [0xab, 0xbb], // « »
  [0x201e, 0x201c], // „ “
  [0x300c, 0x300d], // 「 」
  [0x300e, 0x300f], // 『 』
]);

/** A letter or digit, roughly: apostrophes between them are contractions, not quotes. */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c >= 0xc0;
}

/**
 * Spans [open, close] of quotations on one line, in order, at most `max` of them. An apostrophe
 * opens only after a non-letter and closes only before one, so "it's" and "llm's" are no quotes.
 */
function quotedSpans(text: string, max: number, maxLen: number): [number, number][] {
  const spans: [number, number][] = [];
  let i = 0;
  // Openings without a closing mark cost a scan each: a few dozen are enough for real text.
  let misses = 0;
  while (i < text.length && spans.length < max && misses < 4 * max) {
    const c = text.charCodeAt(i);
    const closer = CLOSER.get(c);
    const apostrophe = c === 0x27 || c === 0x2018;
    if (
      closer === undefined ||
      (apostrophe && i > 0 && isWordChar(text.charCodeAt(i - 1))) ||
      i + 1 >= text.length ||
      text.charCodeAt(i + 1) === 32
    ) {
      i++;
      continue;
    }
    let close = -1;
    const limit = Math.min(text.length, i + 1 + maxLen);
    for (let j = i + 1; j < limit; j++) {
      const d = text.charCodeAt(j);
      if (d === 10) break;
      if (d !== closer && !(apostrophe && d === 0x2019)) continue;
      if (apostrophe && j + 1 < text.length && isWordChar(text.charCodeAt(j + 1))) continue;
      close = j;
      break;
    }
    if (close === -1) {
      misses++;
      i++;
      continue;
    }
    spans.push([i, close]);
    i = close + 1;
  }
  return spans;
}

/** The text backwards, keeping surrogate pairs whole. */
/**
 * JSON or code string escapes of layout (`\\n`, `\\r`, `\\t`, `\\"`) read as the characters they
 * stand for, so a line-start label inside a tool's JSON output is a line start. Works on the
 * UTF-8 bytes in place of each two-byte escape (a backslash never occurs inside a multi-byte
 * sequence); null when the text has none.
 */
function unescapeLayout(buf: Buffer): Buffer | null {
  let out: Buffer | null = null;
  let at = buf.indexOf(0x5c);
  while (at !== -1 && at + 1 < buf.length) {
    const next = buf[at + 1];
    // \n and \r become a line break, \t a space, \" a quote; each keeps two bytes.
    const second = next === 110 || next === 114 ? 10 : next === 116 ? 32 : next === 34 ? 34 : -1;
    if (second !== -1) {
      out ??= Buffer.from(buf);
      out[at] = 32;
      out[at + 1] = second;
    }
    at = buf.indexOf(0x5c, at + 2);
  }
  return out;
}

function reverseText(text: string): string {
  let out = "";
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      out += text[i - 1]! + text[i]!;
      i--;
    } else out += text[i];
  }
  return out;
}

/** ROT13 of the lower-case Latin letters. */
function rot13(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += isAsciiLetter(c) ? String.fromCharCode(((c - 97 + 13) % 26) + 97) : text[i];
  }
  return out;
}

const MAX_FRAGMENTS = 24;

/** Quoted fragments of the text, in order: the first capture group of each match of `re`. */
function fragmentsOf(re: RE2, text: string): string[] {
  const parts: string[] = [];
  re.lastIndex = 0;
  while (parts.length < MAX_FRAGMENTS) {
    const m = re.exec(text);
    if (m === null) break;
    if (m[0].length === 0) re.lastIndex = m.index + 1;
    for (let g = 1; g < m.length; g++) {
      if (m[g] !== undefined) {
        parts.push(m[g]!);
        break;
      }
    }
  }
  return parts;
}

/**
 * Layer 7: instruction override, system-prompt extraction and role hijack in a user's prompt
 * (direct), and instructions hidden in text the agent reads — e-mails, web pages, files, tool
 * results (indirect). Signals are found in one pattern-set scan of the whole text (cheap
 * triggers stand in for gap-heavy patterns, checked only near them); an anchor signal plus
 * companions in a window around it decide, so "forward the invoice to accounting@…" in an
 * e-mail is harmless while the same words after "Note to the AI reading this" are an injection.
 * Provenance weighs: data that steers only the answer's format is a WARN, data that redirects
 * the agent (exfiltration, links, code, deception) is a BLOCK.
 */
export function createPromptInjectionLayer(input: unknown): Layer {
  const data = PromptInjectionDataSchema.parse(input);
  // Stand-alone pattern rules (no companions needed) go through the shared rule compiler.
  const rules = compileRules(
    "prompt_injection",
    data.rules.map((r) => ({ ...r, pattern: foldPattern(r.pattern) })),
  );
  const signalNames = [...new Set(data.signals.map((s) => s.signal))];
  const signalIndex = new Map(signalNames.map((name, i) => [name, i]));
  const compile = (pattern: string, flags: string, what: string): RE2 => {
    try {
      return new RE2(foldPattern(pattern), flags);
    } catch (error) {
      throw new TypeError(`Invalid prompt-injection ${what}: ${String(error)}`);
    }
  };
  const patterns = data.signals.map((s, i) => ({
    signal: signalIndex.get(s.signal)!,
    re: compile(s.pattern, "gu", `pattern #${i} (${s.signal})`),
    trigger:
      s.trigger === undefined ? null : compile(s.trigger, "gu", `trigger #${i} (${s.signal})`),
    local: s.local === true,
  }));
  // Whole-text scan: cheap patterns and triggers. Window scan: every full pattern.
  const globalIndex = patterns.flatMap((p, i) => (p.local ? [] : [i]));
  const globalSource = (i: number) =>
    foldPattern(data.signals[i]!.trigger ?? data.signals[i]!.pattern);
  const globalSet = compilePatternSet(globalIndex.map(globalSource), "prompt_injection signals");
  // Most requests are plain ASCII: they are scanned without the patterns that cannot match
  // ASCII text (other scripts), which keeps the common automaton small.
  const asciiIndex = globalIndex.filter((i) => !needsNonAscii(globalSource(i)));
  const asciiSet = compilePatternSet(asciiIndex.map(globalSource), "prompt_injection signals");
  // Signals with window-only patterns may be present although the whole-text scan cannot tell.
  const maybe = new Uint8Array(signalNames.length);
  for (const p of patterns) if (p.local) maybe[p.signal] = 1;
  const reach = data.triggerReach;
  const readTokens = new Set(data.readActionTokens);
  /** True when the action reads data from elsewhere (mail, pages, files, search results). */
  const readsData = (facts: Facts): boolean => {
    if (facts.content.raw === "") return false;
    for (const token of facts.actionName.split("_")) if (readTokens.has(token)) return true;
    return false;
  };
  const ids = (names: readonly string[] | undefined) =>
    (names ?? []).map((n) => signalIndex.get(n)!);
  // One small RE2.Set per distinct companion list: a window is scanned only for what its combo
  // needs, which keeps the automaton small even with gap-heavy companion patterns.
  const companionSets = new Map<string, Companions>();
  const companionsOf = (signals: readonly number[]): Companions | null => {
    const wanted = [...new Set(signals)].sort((a, b) => a - b);
    if (wanted.length === 0) return null;
    const key = wanted.join(",");
    let found = companionSets.get(key);
    if (found === undefined) {
      const members = patterns.flatMap((p, i) => (wanted.includes(p.signal) ? [i] : []));
      found = {
        id: companionSets.size,
        set: compilePatternSet(
          members.map((i) => foldPattern(data.signals[i]!.pattern)),
          "prompt_injection companions",
        ),
        signalOf: members.map((i) => patterns[i]!.signal),
      };
      companionSets.set(key, found);
    }
    return found;
  };
  const combos: Combo[] = data.combos.map((c) => ({
    code: c.code,
    severity: c.severity,
    confidence: c.confidence,
    message: c.message,
    anchor: signalIndex.get(c.anchor)!,
    scope: c.scope,
    with: ids(c.with),
    also: ids(c.also),
    without: ids(c.without),
    window: c.window
      ? {
          before: c.window.before,
          after: c.window.after,
          sentence: c.window.sentence === true,
          stopAt: c.window.stopAt ?? [],
        }
      : DEFAULT_WINDOW,
    skipQuoted: c.skipQuoted === true,
    companions: companionsOf([...ids(c.with), ...ids(c.also), ...ids(c.without)]),
  }));
  const maxHits = data.maxAnchorHits;

  // For each signal, the indices of its patterns (anchors are located pattern by pattern).
  const anchorPatterns: number[][] = signalNames.map(() => []);
  patterns.forEach((p, i) => {
    anchorPatterns[p.signal]!.push(i);
  });

  /**
   * Signals and patterns (or their triggers) present in the whole text, as bitmaps; null when
   * nothing matches. A UTF-8 buffer as long as its string holds only ASCII.
   */
  const scanText = (text: string, subject: Buffer) => {
    const ascii = subject.length === text.length;
    const matches = (ascii ? asciiSet : globalSet).match(subject);
    if (matches.length === 0) return null;
    const index = ascii ? asciiIndex : globalIndex;
    const signals = new Uint8Array(signalNames.length);
    const hits = new Uint8Array(patterns.length);
    for (const k of matches) {
      const i = index[k]!;
      signals[patterns[i]!.signal] = 1;
      hits[i] = 1;
    }
    return { signals, hits };
  };

  /** Companion signals present in a window. */
  const scanWindow = (companions: Companions, subject: string): Uint8Array => {
    const signals = new Uint8Array(signalNames.length);
    for (const k of companions.set.match(subject)) signals[companions.signalOf[k]!] = 1;
    return signals;
  };

  /** Up to `limit` matches of `re` in text[from, to), as absolute spans. */
  const execAll = (re: RE2, text: string, from: number, to: number, out: Span[], limit: number) => {
    const subject = from === 0 && to === text.length ? text : text.slice(from, to);
    re.lastIndex = 0;
    while (out.length < limit) {
      const m = re.exec(subject);
      if (m === null) break;
      const start = from + m.index;
      const end = start + m[0].length;
      if (end === start) re.lastIndex = m.index + 1;
      if (!out.some((s) => s.start === start)) out.push({ start, end });
    }
  };

  // Rewritten views: each is tried only when its gate signal shows in the plain text.
  const views = data.views.map((v) => ({
    ...v,
    gate: signalIndex.get(v.gate)!,
    extract: v.extract === undefined ? null : compile(v.extract, "gu", `extract (${v.view})`),
    escalate: new Set(v.escalate ?? []),
  }));
  const leetMap = new Map(Object.entries(data.leet).map(([k, v]) => [k.charCodeAt(0), v]));
  const maxViewChars = data.maxViewChars;

  /** The texts one view yields (none when the rewrite changes nothing). */
  const rewrite = (view: (typeof views)[number], text: string): string[] => {
    switch (view.view) {
      case "leet": {
        const t = unleet(text, leetMap);
        return t === null ? [] : [t];
      }
      case "spaced": {
        const t = unspace(text);
        return t === null ? [] : [t];
      }
      case "reversed":
        return [reverseText(text)];
      case "rot13":
        return [rot13(text)];
      case "joined": {
        const parts = fragmentsOf(view.extract!, text);
        if (parts.length < 2) return [];
        // Fragments may carry their own spaces ("ignore all" + " instructions") or split words.
        return [parts.join(" "), parts.join("")];
      }
    }
  };

  const mention = data.mention;
  const frameSet = compilePatternSet(mention.frame.map(foldPattern), "prompt_injection frames");
  const useSet = compilePatternSet(mention.use.map(foldPattern), "prompt_injection uses");
  const reportedSet = compilePatternSet(
    mention.reported.map(foldPattern),
    "prompt_injection reports",
  );
  /** True when the text around a quoted phrase asks for it to be acted upon (then do it). */
  const usedNear = (text: string, span: Span): boolean =>
    useSet.test(text.slice(Math.max(0, span.start - mention.before), span.end + mention.before));
  // Patterns of the signals whose reported or negated matches are blanked (overrides).
  const reportedPatterns = mention.reportedSignals.flatMap((name) =>
    patterns.flatMap((p, i) => (p.signal === signalIndex.get(name) && !p.local ? [i] : [])),
  );
  /** True when the words right before an anchor report or negate it instead of giving it. */
  const reportedAt = (text: string, start: number): boolean =>
    reportedSet.test(text.slice(Math.max(0, start - mention.reportedReach), start));
  /**
   * The text with quotations that are merely mentioned (framed as an example, a phrase to
   * translate or classify, an attacker's payload) blanked out; null when there are none.
   */
  const maskMentions = (text: string, hits: Uint8Array): string | null => {
    let out: string | null = null;
    for (const [open, close] of quotedSpans(text, mention.maxSpans, mention.maxQuoteChars)) {
      let from = Math.max(0, open - mention.before);
      // The frame belongs to the same paragraph as the quotation.
      const para = text.lastIndexOf("\n\n", open);
      if (para >= from) from = para + 2;
      const around = `${text.slice(from, open)} \n ${text.slice(close + 1, close + 1 + mention.after)}`;
      if (!frameSet.test(around) || useSet.test(around)) continue;
      const base: string = out ?? text;
      out = base.slice(0, open + 1) + " ".repeat(close - open - 1) + base.slice(close);
    }
    // Overrides that are reported or negated ("e-mails that tell you to ignore …") go too.
    for (const index of reportedPatterns) {
      if (hits[index] !== 1) continue;
      const spans: Span[] = [];
      execAll(patterns[index]!.re, text, 0, text.length, spans, maxHits);
      for (const span of spans) {
        if (!reportedAt(text, span.start) || usedNear(text, span)) continue;
        const base: string = out ?? text;
        out = base.slice(0, span.start) + " ".repeat(span.end - span.start) + base.slice(span.end);
      }
    }
    return out;
  };

  /** Where a scope's combos apply: provenance of the text being judged. */
  type Scopes = Readonly<{ direct: boolean; untrusted: boolean }>;

  /** Runs every combo over one text and adds what fires to `found`. */
  const analyze = (text: string, buf: Buffer, scopes: Scopes, found: Finding[]) => {
    if (buf.length === 0) return null;
    const scanned = scanText(text, buf);
    if (scanned === null) return null;
    const { signals: present, hits: matched } = scanned;
    // Where each matched pattern occurs, located once and shared by every combo.
    const spanCache = new Map<number, Span[]>();
    const spansOf = (index: number): Span[] => {
      let spans = spanCache.get(index);
      if (spans !== undefined) return spans;
      spans = [];
      const p = patterns[index]!;
      if (p.trigger === null) {
        execAll(p.re, text, 0, text.length, spans, maxHits);
      } else {
        const near: Span[] = [];
        execAll(p.trigger, text, 0, text.length, near, maxHits);
        for (const t of near) {
          const from = Math.max(0, t.start - reach);
          execAll(p.re, text, from, Math.min(text.length, t.end + reach), spans, maxHits);
        }
      }
      spanCache.set(index, spans);
      return spans;
    };
    const codes = new Set(found.map((f) => f.code));
    // Windows are looked at once per (start, end) however many combos ask for them.
    const windowCache = new Map<string, Uint8Array>();
    let windowsLeft = MAX_WINDOWS;

    for (const combo of combos) {
      if (codes.has(combo.code) || present[combo.anchor] !== 1) continue;
      if (combo.scope === "direct" && !scopes.direct) continue;
      if (combo.scope === "untrusted" && !scopes.untrusted) continue;
      // Cheap whole-text pre-check before locating anchors.
      if (combo.with.length > 0 && !combo.with.some((s) => present[s] === 1 || maybe[s] === 1))
        continue;
      if (combo.also.some((s) => present[s] !== 1 && maybe[s] !== 1)) continue;
      const needsWindow = combo.companions !== null;
      let hit: Span | null = null;
      for (const index of anchorPatterns[combo.anchor]!) {
        if (hit !== null) break;
        if (matched[index] !== 1) continue;
        for (const span of spansOf(index)) {
          if (combo.skipQuoted) {
            if (isQuoted(text, span.start, span.end) && !usedNear(text, span)) continue;
            if (reportedAt(text, span.start) && !usedNear(text, span)) continue;
          }
          if (!needsWindow) {
            hit = span;
            break;
          }
          const [a, b] = windowBounds(text, span.start, span.end, combo.window);
          const key = `${combo.companions!.id}:${a}:${b}`;
          let near = windowCache.get(key);
          if (near === undefined) {
            if (windowsLeft-- <= 0) break;
            near = scanWindow(combo.companions!, text.slice(a, b));
            windowCache.set(key, near);
          }
          if (combo.with.length > 0 && !combo.with.some((s) => near[s] === 1)) continue;
          if (combo.also.some((s) => near[s] !== 1)) continue;
          if (combo.without.some((s) => near[s] === 1)) continue;
          hit = span;
          break;
        }
      }
      if (hit === null) continue;
      codes.add(combo.code);
      found.push({
        layer: "prompt_injection",
        code: combo.code,
        severity: combo.severity,
        confidence: combo.confidence,
        message: combo.message,
        evidence: evidenceOf(text.slice(hit.start, Math.max(hit.end, hit.start + 80))),
      });
    }
    return scanned;
  };

  /** Rewritten views of the text, scanned again; a BLOCK in one becomes the view's finding. */
  const analyzeViews = (
    text: string,
    present: Uint8Array,
    scopes: Scopes,
    found: Finding[],
  ): void => {
    if (text.length > maxViewChars) return;
    // What the plain text already showed is no news in a rewrite of it.
    const plain = new Set(found.map((f) => f.code));
    for (const view of views) {
      if (present[view.gate] !== 1 || found.some((f) => f.code === view.code)) continue;
      let warned: Finding[] = [];
      let blocked: Finding | undefined;
      for (const t of rewrite(view, text)) {
        const inner: Finding[] = [];
        analyze(t, Buffer.from(t), scopes, inner);
        blocked = inner.find(
          (f) => f.severity === "BLOCK" || (view.escalate.has(f.code) && !plain.has(f.code)),
        );
        if (blocked !== undefined) break;
        if (warned.length === 0) warned = inner;
      }
      if (blocked !== undefined) {
        found.push({
          layer: "prompt_injection",
          code: view.code,
          severity: "BLOCK",
          confidence: view.confidence,
          message: view.message,
          evidence: blocked.evidence ?? "",
        });
        continue;
      }
      // A WARN-level request that was disguised keeps its WARN (a plain question in leetspeak).
      const codes = new Set(found.map((f) => f.code));
      for (const f of warned) if (!codes.has(f.code)) found.push(f);
    }
  };

  return {
    name: "prompt_injection",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const all = facts.all;
      const found = rules(facts);
      const reads = readsData(facts);
      const untrusted =
        facts.kind === "tool_output" ||
        facts.source === "tool_output" ||
        facts.source === "web" ||
        facts.source === "file" ||
        (!facts.sourceDeclared && facts.kind !== "llm_prompt" && reads);
      // An unknown action says nothing about where its text came from: judge it both ways.
      const unknown = facts.kind === "other" && !facts.sourceDeclared && !untrusted;
      const scopes: Scopes = { direct: !untrusted || unknown, untrusted: untrusted || unknown };
      const base = found.length;
      const unescaped = unescapeLayout(all.buf);
      let text = unescaped === null ? all.norm : unescaped.toString("utf8");
      let scanned = analyze(text, unescaped ?? all.buf, scopes, found);
      if (scanned === null) return done(found);
      if (found.length > base && text.length <= maxViewChars) {
        // Judged again without the quotations that are only talked about.
        const masked = maskMentions(text, scanned.hits);
        if (masked !== null) {
          found.length = base;
          text = masked;
          scanned = analyze(text, Buffer.from(text), scopes, found);
          if (scanned === null) return done(found);
        }
      }
      if (!found.some((f) => f.severity === "BLOCK"))
        analyzeViews(text, scanned.signals, scopes, found);

      if (found.length === 0) return done(found);
      const blocked = found.some((f) => f.severity === "BLOCK");
      if (!blocked && lacedWithInvisibles(facts.all.raw)) {
        return [
          {
            layer: "prompt_injection",
            code: data.hidden.code,
            severity: "BLOCK",
            confidence: data.hidden.confidence,
            message: data.hidden.message,
            evidence: found[0]!.evidence ?? "",
          },
          ...found,
        ];
      }
      // One verdict per request: a BLOCK makes the layer's WARNs noise.
      return blocked ? found.filter((f) => f.severity === "BLOCK") : found;
    },
  };
}
