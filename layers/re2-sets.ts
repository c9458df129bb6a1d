import RE2 from "re2";

type RE2Set = InstanceType<typeof RE2.Set>;

/** Several RE2.Sets answering as one: indices are global, in the order of the sources. */
export type PatternSet = Readonly<{
  /** Indices of every pattern that matches somewhere in `subject`, ascending. */
  match(subject: string | Buffer): number[];
  /** True when any pattern matches somewhere in `subject`. */
  test(subject: string | Buffer): boolean;
}>;

// RE2 scans a set with one lazily built DFA kept in a bounded cache (8 MB, not configurable from
// node-re2). Its states multiply with the patterns it tracks at once, so on varied traffic a set
// of hundreds of multilingual phrases keeps flushing and rebuilding that cache: replaying the
// 5,300 requests of the development corpus cost 1.1 ms mean and 16 ms p99 per request with one
// 277-pattern set, 6 µs per byte. A benchmark that repeats one request hides this, its states
// being cached after the first call. Hence small sets, and a cheap trigger pass deciding which
// patterns are worth running at all (measured choices below: `npm run bench:layers`).

/** Full patterns per RE2.Set, for patterns without a trigger: 8 reach a steady cache state. */
const SET_CHUNK = 8;
/** Triggers per RE2.Set: literal words keep the automaton small, but not without bound. */
const TRIGGER_CHUNK = 64;
/** A trigger with fewer literal characters fires on nearly every text: the pattern runs always. */
const MIN_TRIGGER = 4;
/** Literal characters after which a trigger grows no longer: longer ones only cost states. */
const ENOUGH = 8;

type Part = Readonly<{ set: RE2Set; members: readonly number[] }>;

/** RE2.Sets over `members` (indices into `sources`), halving any that exceeds RE2's budget. */
function compileParts(
  sources: readonly string[],
  members: readonly number[],
  chunk: number,
  what: string,
): Part[] {
  const parts: Part[] = [];
  const build = (group: readonly number[]): void => {
    try {
      parts.push({
        set: new RE2.Set(
          group.map((i) => sources[i]!),
          "u",
        ),
        members: group,
      });
    } catch (error) {
      if (group.length <= 1) {
        throw new TypeError(`${what}: pattern #${group[0]} does not compile in an RE2.Set`, {
          cause: error,
        });
      }
      const mid = group.length >> 1;
      build(group.slice(0, mid));
      build(group.slice(mid));
    }
  };
  for (let from = 0; from < members.length; from += chunk) {
    build(members.slice(from, from + chunk));
  }
  return parts;
}

type Atom = Readonly<{
  text: string;
  quantifier: string;
  kind: "literal" | "class" | "group" | "escape" | "flags" | "zero" | "any";
}>;

/** Length of the character class starting at `i` (`[`), RE2 syntax. */
function classEnd(source: string, i: number): number {
  let j = i + 1;
  if (source[j] === "^") j++;
  if (source[j] === "]") j++;
  while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
  return j + 1;
}

/** Index just past the group opening at `i` (`(`). */
function groupEnd(source: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < source.length) {
    const c = source[j];
    if (c === "\\") j += 2;
    else if (c === "[") j = classEnd(source, j);
    else {
      if (c === "(") depth++;
      else if (c === ")" && --depth === 0) return j + 1;
      j++;
    }
  }
  return -1;
}

const QUANTIFIER = /^(?:[*+?]|\{\d+(?:,\d*)?\})\??/;

/** The top-level alternatives of `source`, each a list of atoms; null when it cannot tell. */
function alternativesOf(source: string): Atom[][] | null {
  // \Q…\E quoting and POSIX classes ([[:alpha:]]) would be misread below: no trigger for them.
  if (source.includes("\\Q") || source.includes("[:")) return null;
  const alternatives: Atom[][] = [[]];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    let end: number;
    let kind: Atom["kind"];
    if (c === "|") {
      alternatives.push([]);
      i++;
      continue;
    }
    if (c === "\\") {
      const next = source[i + 1];
      if (next === undefined) return null;
      end = i + 2;
      if ((next === "p" || next === "P" || next === "x") && source[end] === "{") {
        end = source.indexOf("}", end) + 1;
        if (end === 0) return null;
      } else if (next === "p" || next === "P") {
        end++;
      } else if (next === "x") {
        end += 2; // \x41: one character, never to be split
      } else if (next >= "0" && next <= "7") {
        while (end < i + 4 && source[end]! >= "0" && source[end]! <= "7") end++; // octal \101
      }
      kind = next === "b" || next === "B" || next === "A" || next === "z" ? "zero" : "escape";
    } else if (c === "[") {
      end = classEnd(source, i);
      kind = "class";
    } else if (c === "(") {
      end = groupEnd(source, i);
      if (end < 0) return null;
      // (?i) and the like change how the rest of the pattern reads: only safe at the very start.
      kind = /^\(\?[a-zA-Z-]+\)$/.test(source.slice(i, end)) ? "flags" : "group";
      if (kind === "group" && source[i + 1] === "?" && source[i + 2] !== ":") return null;
    } else if (c === "^" || c === "$") {
      end = i + 1;
      kind = "zero";
    } else if (c === ".") {
      end = i + 1;
      kind = "any";
    } else if (c === ")" || c === "*" || c === "+" || c === "?" || c === "{") {
      return null;
    } else {
      end = i + 1;
      kind = "literal";
    }
    const quantifier = QUANTIFIER.exec(source.slice(end))?.[0] ?? "";
    alternatives[alternatives.length - 1]!.push({ text: source.slice(i, end), quantifier, kind });
    i = end + quantifier.length;
  }
  return alternatives;
}

// A run of a broad class (a negated class, ".", \w, \S, a letter class, a repeated group): the
// construct that multiplies automaton states, never part of a trigger.
const BROAD_RUN =
  /(?:\[\^[^\]]*\]|\\[wWSdDpP](?:\{[^}]*\})?|(?<!\\)\.|\)|\[[^\]]{3,}\])(?:[*+]|\{\d+,\d*\})/;
const OPTIONAL = /^(?:\?|\*|\{0(?:,\d*)?\})\??$/;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** Literal characters every match of one of `alternatives` must contain (the least of them). */
function requiredLetters(alternatives: readonly (readonly Atom[])[]): number {
  let least = Number.POSITIVE_INFINITY;
  for (const atoms of alternatives) {
    let n = 0;
    for (const atom of atoms) if (!OPTIONAL.test(atom.quantifier)) n += scoreOf(atom);
    least = Math.min(least, n);
  }
  return Number.isFinite(least) ? least : 0;
}

/** Literal characters one occurrence of `atom` must contain. */
function scoreOf(atom: Atom): number {
  if (atom.kind === "literal") return 1;
  if (atom.kind === "escape") return LETTER_OR_DIGIT.test(atom.text[1]!) ? 0 : 1;
  if (atom.kind !== "group") return 0;
  const inner = alternativesOf(atom.text.slice(atom.text.startsWith("(?:") ? 3 : 1, -1));
  return inner === null ? 0 : requiredLetters(inner);
}

const isLetter = (cell: { text: string } | undefined) =>
  cell !== undefined && cell.text.length === 1 && LETTER_OR_DIGIT.test(cell.text);

/** The most selective run of cheap consecutive atoms in one alternative, with its score. */
const isBroad = (atom: Atom) =>
  atom.kind === "any" || atom.kind === "flags" || BROAD_RUN.test(atom.text + atom.quantifier);

/**
 * For a required group with broad parts, like `(?:ignor\S*|negeer\S*)`: the group of each
 * alternative's leading cheap atoms, `(?:ignor|negeer)`, which every match of the group starts
 * with. A run may end with it but not continue past it.
 */
function groupPrefix(atom: Atom): { text: string; score: number } | null {
  if (atom.kind !== "group" || atom.quantifier !== "") return null;
  const inner = alternativesOf(atom.text.slice(atom.text.startsWith("(?:") ? 3 : 1, -1));
  // (?i) inside one alternative reaches the alternatives after it: leave such groups alone.
  if (inner === null || inner.some((atoms) => atoms.some((a) => a.kind === "flags"))) return null;
  const prefixes: string[] = [];
  let least = Number.POSITIVE_INFINITY;
  for (const atoms of inner) {
    let text = "";
    let score = 0;
    for (const a of atoms) {
      if (isBroad(a)) break;
      text += a.text + a.quantifier;
      if (!OPTIONAL.test(a.quantifier)) score += scoreOf(a);
    }
    if (score === 0) return null;
    prefixes.push(text);
    least = Math.min(least, score);
  }
  return { text: `(?:${prefixes.join("|")})`, score: least };
}

type Cell = Readonly<{ text: string; score: number; broad: boolean; terminal: boolean }>;

function cellOf(atom: Atom): Cell {
  if (!isBroad(atom)) {
    const score = OPTIONAL.test(atom.quantifier) ? 0 : scoreOf(atom);
    return { text: atom.text + atom.quantifier, score, broad: false, terminal: false };
  }
  const prefix = groupPrefix(atom);
  return prefix === null
    ? { text: "", score: 0, broad: true, terminal: false }
    : { ...prefix, broad: false, terminal: true };
}

/** The most selective run of cheap consecutive atoms in one alternative, with its score. */
function bestPiece(atoms: readonly Atom[]): { source: string; score: number } | null {
  const cells = atoms.map(cellOf);
  let best: { source: string; score: number } | null = null;
  for (let start = 0; start < cells.length; start++) {
    let source = "";
    let score = 0;
    for (let end = start; end < cells.length; end++) {
      const cell = cells[end]!;
      if (cell.broad) break;
      source += cell.text;
      score += cell.score;
      if (best === null || score > best.score) best = { source, score };
      // Enough, but finish the word: a cut inside one ("anyth") fires on more texts.
      if (cell.terminal || (score >= ENOUGH && !isLetter(cells[end + 1]))) break;
    }
  }
  return best;
}

/**
 * Cheap necessary conditions for `source`, in the manner of RE2's FilteredRE2: for each top-level
 * alternative, its most selective run of consecutive atoms without a broad run (a concatenation's
 * every match contains a match of any run of its parts). Text in which none of them matches
 * cannot match `source`. Null when some alternative has no run of `minTrigger` literal characters.
 */
export function triggersOf(source: string, minTrigger = MIN_TRIGGER): string[] | null {
  const alternatives = alternativesOf(source);
  if (alternatives === null) return null;
  const first = alternatives[0]?.[0];
  // A leading (?i) applies to every alternative; flags anywhere else: no trigger.
  const lead = first?.kind === "flags" ? first.text : "";
  if (lead !== "") alternatives[0]!.shift();
  const out: string[] = [];
  for (const atoms of alternatives) {
    if (atoms.some((a) => a.kind === "flags")) return null;
    const best = bestPiece(atoms);
    if (best === null || best.score < minTrigger) return null;
    out.push(lead + best.source);
  }
  return out;
}

/**
 * Compiles `sources` for "which of these match anywhere?" without blowing RE2's DFA cache: RE2.Sets
 * of literal triggers (see `triggersOf`) run over the text, and only the patterns whose trigger
 * fired are tried (alone, or as their set of SET_CHUNK when several of it fired); patterns without a trigger share sets of
 * SET_CHUNK that always run. Same answers as one RE2.Set over `sources`. `what` names the owner
 * in compile errors; `minTrigger` is for tests on tiny alphabets.
 */
export function compilePatternSet(
  sources: readonly string[],
  what: string,
  minTrigger = MIN_TRIGGER,
): PatternSet {
  const triggers = sources.map((source) => triggersOf(source, minTrigger));
  const always = sources.flatMap((_, i) => (triggers[i] === null ? [i] : []));
  const gated = sources.flatMap((_, i) => (triggers[i] === null ? [] : [i]));
  const alwaysParts = compileParts(sources, always, SET_CHUNK, what);
  const single = sources.map((source, i) => {
    if (triggers[i] === null) return null;
    try {
      return new RE2(source, "u");
    } catch (error) {
      throw new TypeError(`${what}: pattern #${i} does not compile`, { cause: error });
    }
  });
  const triggerSources: string[] = [];
  const triggerOwner: number[] = [];
  triggers.forEach((list, i) => {
    for (const t of list ?? []) {
      triggerSources.push(t);
      triggerOwner.push(i);
    }
  });
  const triggerParts = compileParts(
    triggerSources,
    triggerSources.map((_, k) => k),
    TRIGGER_CHUNK,
    `${what} (triggers)`,
  );

  // The gated patterns also in sets of SET_CHUNK: when several members of one set fired (long
  // prose fires many), one pass over the set is cheaper than a pass per pattern.
  const gatedParts = compileParts(sources, gated, SET_CHUNK, what);
  const partOf = new Int32Array(sources.length);
  for (const [p, part] of gatedParts.entries()) for (const i of part.members) partOf[i] = p;
  const firedInPart = new Int32Array(gatedParts.length);

  /** Calls `found` for each gated pattern that matches `subject`. */
  const runGated = (subject: string | Buffer, found: (i: number) => boolean): boolean => {
    const fired: number[] = [];
    for (const part of triggerParts) {
      for (const k of part.set.match(subject)) fired.push(triggerOwner[part.members[k]!]!);
    }
    if (fired.length === 0) return false;
    const unique = fired.length === 1 ? fired : [...new Set(fired)];
    for (const i of unique) firedInPart[partOf[i]!]!++;
    let stop = false;
    for (const i of unique) {
      const p = partOf[i]!;
      const n = firedInPart[p]!;
      if (n === 0 || stop) continue;
      firedInPart[p] = 0;
      if (n === 1) {
        if (single[i]!.test(subject)) stop = found(i);
      } else {
        const part = gatedParts[p]!;
        for (const k of part.set.match(subject)) if (!stop) stop = found(part.members[k]!);
      }
    }
    firedInPart.fill(0);
    return stop;
  };

  return {
    match(subject) {
      const out: number[] = [];
      for (const part of alwaysParts) {
        for (const k of part.set.match(subject)) out.push(part.members[k]!);
      }
      runGated(subject, (i) => {
        out.push(i);
        return false;
      });
      return out.sort((a, b) => a - b);
    },
    test(subject) {
      for (const part of alwaysParts) if (part.set.test(subject)) return true;
      return runGated(subject, () => true);
    },
  };
}
