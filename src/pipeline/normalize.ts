import confusables from "../../data/confusables.json" with { type: "json" };
import type { ObfuscationFacts } from "../../layers/types.js";

// Text normalisation for inspection. Everything here is a linear scan with charCodeAt: no
// regular expressions touch request text outside RE2, and no step can grow its input.

/** What normalisation removed, counted as it goes (the decoded-blob count is added later). */
export type NormalizeStats = {
  -readonly [K in Exclude<keyof ObfuscationFacts, "decodedBlobs">]: number;
};

export function emptyStats(): NormalizeStats {
  return {
    zeroWidth: 0,
    bidiControls: 0,
    percentRounds: 0,
    htmlEntities: 0,
    confusables: 0,
    escapes: 0,
    overlongUtf8: 0,
    nfkcChanges: 0,
  };
}

/** Percent-decoding stops after this many rounds; more layers than that is itself suspicious. */
const MAX_PERCENT_ROUNDS = 4;

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
  nbsp: " ",
  sol: "/",
  bsol: "\\",
  period: ".",
  colon: ":",
  semi: ";",
  lpar: "(",
  rpar: ")",
  excl: "!",
  num: "#",
  dollar: "$",
  percnt: "%",
  grave: "`",
  verbar: "|",
  vert: "|",
  equals: "=",
  lsqb: "[",
  rsqb: "]",
  lcub: "{",
  rcub: "}",
  tab: "\t",
  newline: "\n",
  ast: "*",
  quest: "?",
  commat: "@",
  hyphen: "-",
  dash: "-",
};

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** The value of the four hex digits at `start` (`%u002e`, `\\u002e`), or -1. */
function fourHexDigits(text: string, start: number): number {
  let value = 0;
  for (let k = start; k < start + 4; k++) {
    const h = hexValue(text.charCodeAt(k));
    if (h < 0) return -1;
    value = value * 16 + h;
  }
  return value;
}

function isAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || ((code | 0x20) >= 97 && (code | 0x20) <= 122);
}

function safeFromCodePoint(cp: number): string {
  return cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)
    ? String.fromCodePoint(cp)
    : "\ufffd";
}

/** Decodes `&lt;`, `&#46;`, `&#x2e;` (and repeats: `&amp;lt;` becomes `<`). */
export function decodeHtmlEntities(text: string, stats: NormalizeStats): string {
  if (text.indexOf("&") < 0) return text;
  let current = text;
  for (let round = 0; round < 3 && current.indexOf("&") >= 0; round++) {
    let out = "";
    let changed = false;
    let i = 0;
    while (i < current.length) {
      const amp = current.indexOf("&", i);
      if (amp < 0) {
        out += current.slice(i);
        break;
      }
      out += current.slice(i, amp);
      i = amp;
      // Find the entity end within 12 characters; a missing ';' is accepted for numeric forms.
      let j = i + 1;
      let decoded: string | undefined;
      if (current.charCodeAt(j) === 35 /* # */) {
        j++;
        const isHex = (current.charCodeAt(j) | 0x20) === 120; /* x */
        if (isHex) j++;
        const start = j;
        let value = 0;
        while (j < current.length && j - start < 8) {
          const digit = isHex ? hexValue(current.charCodeAt(j)) : current.charCodeAt(j) - 48;
          if (digit < 0 || digit > (isHex ? 15 : 9)) break;
          value = value * (isHex ? 16 : 10) + digit;
          j++;
        }
        if (j > start) {
          decoded = safeFromCodePoint(value);
          if (current.charCodeAt(j) === 59 /* ; */) j++;
        }
      } else {
        const start = j;
        while (j < current.length && j - start < 10 && isAlnum(current.charCodeAt(j))) j++;
        if (current.charCodeAt(j) === 59) {
          decoded = NAMED_ENTITIES[current.slice(start, j).toLowerCase()];
          j++;
        }
      }
      if (decoded === undefined) {
        out += "&";
        i++;
      } else {
        out += decoded;
        stats.htmlEntities++;
        changed = true;
        i = j;
      }
    }
    if (!changed) break;
    current = out;
  }
  return current;
}

/**
 * Decodes UTF-8 bytes leniently, mapping overlong forms (`c0 ae` → `.`) to what lenient
 * servers take them for, and invalid bytes to U+FFFD.
 */
function decodeUtf8Lenient(bytes: number[], stats: NormalizeStats): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      out += String.fromCharCode(b0);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    if (b0 >= 0xc0 && b0 < 0xe0) {
      need = 1;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 < 0xf0) {
      need = 2;
      cp = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 < 0xf8) {
      need = 3;
      cp = b0 & 0x07;
    } else {
      out += "\ufffd";
      i++;
      continue;
    }
    // c0/c1 lead bytes only ever start overlong forms; lenient servers take any byte after
    // them as the continuation (the %c0%2e trick). Other lead bytes need real continuations.
    const lenient = b0 === 0xc0 || b0 === 0xc1;
    let ok = i + need < bytes.length;
    for (let j = 1; ok && j <= need; j++) {
      const b = bytes[i + j]!;
      if (!lenient && (b & 0xc0) !== 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (!ok) {
      out += "\ufffd";
      i++;
      continue;
    }
    const minimum = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
    if (cp < minimum) stats.overlongUtf8++;
    out += safeFromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

/**
 * One round of percent-decoding: `%2e`, `%u002e`, and the split form `%2%e` (a percent and
 * one hex digit, twice) that survives a decoder which first turned `%%32%%65` into `%2%e`.
 */
function percentDecodeOnce(text: string, stats: NormalizeStats): string {
  let out = "";
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) {
      out += decodeUtf8Lenient(bytes, stats);
      bytes = [];
    }
  };
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) === 37 /* % */) {
      const h1 = hexValue(text.charCodeAt(i + 1));
      const h2 = hexValue(text.charCodeAt(i + 2));
      if (h1 >= 0 && h2 >= 0) {
        bytes.push(h1 * 16 + h2);
        i += 3;
        continue;
      }
      if ((text.charCodeAt(i + 1) | 0x20) === 117 /* u */) {
        const cp = fourHexDigits(text, i + 2);
        if (cp >= 0) {
          flush();
          out += safeFromCodePoint(cp);
          i += 6;
          continue;
        }
      }
      if (h1 >= 0 && text.charCodeAt(i + 2) === 37) {
        const h3 = hexValue(text.charCodeAt(i + 3));
        if (h3 >= 0) {
          bytes.push(h1 * 16 + h3);
          i += 4;
          continue;
        }
      }
    }
    flush();
    const next = text.indexOf("%", i + 1);
    const stop = next < 0 ? text.length : next;
    out += text.slice(i, stop);
    i = stop;
  }
  flush();
  return out;
}

/** Percent-decodes until the text stops changing (at most four rounds). */
export function percentDecode(text: string, stats: NormalizeStats): string {
  let current = text;
  for (let round = 0; round < MAX_PERCENT_ROUNDS && current.indexOf("%") >= 0; round++) {
    const next = percentDecodeOnce(current, stats);
    if (next === current) break;
    stats.percentRounds = Math.max(stats.percentRounds, round + 1);
    current = next;
  }
  return current;
}

/** Decodes `\x2e`, `\u002e`, `\u{2e}` and the `0x2e`/`0x2f`/`0x5c` spellings of `.`, `/`, `\`. */
export function decodeEscapes(text: string, stats: NormalizeStats): string {
  if (text.indexOf("\\") < 0 && text.indexOf("0x") < 0 && text.indexOf("0X") < 0) return text;
  let out = "";
  let i = 0;
  let lastHexEscapeEnd = -1;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === 92 /* \ */) {
      const kind = text.charCodeAt(i + 1) | 0x20;
      if (kind === 120 /* x */) {
        const h1 = hexValue(text.charCodeAt(i + 2));
        const h2 = hexValue(text.charCodeAt(i + 3));
        if (h1 >= 0 && h2 >= 0) {
          out += String.fromCharCode(h1 * 16 + h2);
          stats.escapes++;
          i += 4;
          continue;
        }
      } else if (kind === 117 /* u */) {
        if (text.charCodeAt(i + 2) === 123 /* { */) {
          const end = text.indexOf("}", i + 3);
          if (end > i + 3 && end - i <= 10) {
            let cp = 0;
            let valid = true;
            for (let k = i + 3; k < end; k++) {
              const h = hexValue(text.charCodeAt(k));
              if (h < 0) valid = false;
              cp = cp * 16 + Math.max(h, 0);
            }
            if (valid) {
              out += safeFromCodePoint(cp);
              stats.escapes++;
              i = end + 1;
              continue;
            }
          }
        } else {
          const cp = fourHexDigits(text, i + 2);
          if (cp >= 0) {
            out += String.fromCharCode(cp);
            stats.escapes++;
            i += 6;
            continue;
          }
        }
      }
    } else if (
      ch === 48 /* 0 */ &&
      (text.charCodeAt(i + 1) | 0x20) === 120 &&
      (i === lastHexEscapeEnd || !isAlnum(text.charCodeAt(i - 1)))
    ) {
      const h1 = hexValue(text.charCodeAt(i + 2));
      const h2 = hexValue(text.charCodeAt(i + 3));
      const value = h1 * 16 + h2;
      // A run like 0x2e0x2e0x2f is decoded whole; a longer literal (0x2f3) is a number.
      const after = text.charCodeAt(i + 4);
      const endsHere =
        i === lastHexEscapeEnd ||
        hexValue(after) < 0 ||
        (after === 48 && (text.charCodeAt(i + 5) | 0x20) === 120);
      if (h1 >= 0 && h2 >= 0 && endsHere && (value === 0x2e || value === 0x2f || value === 0x5c)) {
        out += String.fromCharCode(value);
        stats.escapes++;
        i += 4;
        lastHexEscapeEnd = i;
        continue;
      }
    }
    // Copy up to the next character that can start an escape.
    let stop = i + 1;
    while (stop < text.length) {
      const c = text.charCodeAt(stop);
      if (c === 92 || c === 48) break;
      stop++;
    }
    out += text.slice(i, stop);
    i = stop;
  }
  return out;
}

/** Look-alike letters (data/confusables.json), by code point. */
const TO_LATIN: ReadonlyMap<number, string> = new Map(
  Object.entries(confusables.toLatin).map(([k, v]) => [k.codePointAt(0)!, v]),
);

/** Latin letters with a Cyrillic twin, for words that are mostly Cyrillic. */
const LATIN_TO_CYRILLIC: ReadonlyMap<string, string> = new Map(
  Object.entries(confusables.toLatin)
    .filter(([k]) => isCyrillic(k.codePointAt(0)!) && k === k.toLowerCase())
    .map(([k, v]) => [v, k]),
);

function isCyrillic(code: number): boolean {
  return code >= 0x0400 && code <= 0x052f;
}

function isGreek(code: number): boolean {
  return code >= 0x0370 && code <= 0x03ff;
}

function isAsciiLetter(code: number): boolean {
  return (code | 0x20) >= 97 && (code | 0x20) <= 122;
}

/** Letters that belong to no word-level script decision (IPA, small capitals): always folded. */
function isLatinLookalike(code: number): boolean {
  return (
    (code >= 0x0250 && code <= 0x02af) ||
    (code >= 0x1d00 && code <= 0x1d7f) ||
    (code >= 0xa720 && code <= 0xa7ff)
  );
}

/**
 * Folds look-alikes inside one word: a word that mixes Latin with Cyrillic or Greek is
 * rewritten in its majority script (`раypal` → `paypal`, `пpивет` → `привет`), so neither
 * Latin attack phrases nor native Russian text is mangled.
 */
function foldWord(word: string, stats: NormalizeStats): string {
  let latin = 0;
  let other = 0;
  let lookalikes = 0;
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i);
    if (isAsciiLetter(code)) latin++;
    else if (isCyrillic(code) || isGreek(code)) other++;
    else if (isLatinLookalike(code) && TO_LATIN.has(code)) lookalikes++;
  }
  if (lookalikes === 0 && (latin === 0 || other === 0)) return word;
  const toLatin = latin + lookalikes >= other;
  let out = "";
  for (const ch of word) {
    const code = ch.codePointAt(0)!;
    if (isLatinLookalike(code) || (toLatin && (isCyrillic(code) || isGreek(code)))) {
      const folded = TO_LATIN.get(code);
      if (folded !== undefined) {
        out += folded;
        stats.confusables++;
        continue;
      }
    } else if (!toLatin && isAsciiLetter(code)) {
      const twin = LATIN_TO_CYRILLIC.get(ch.toLowerCase());
      if (twin !== undefined) {
        out += twin;
        stats.confusables++;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

const QUOTES: ReadonlyMap<number, string> = new Map([
  [0x2018, "'"],
  [0x2019, "'"],
  [0x201a, "'"],
  [0x201b, "'"],
  [0x2039, "'"],
  [0x203a, "'"],
  [0x201c, '"'],
  [0x201d, '"'],
  [0x201e, '"'],
  [0x201f, '"'],
  [0x00ab, '"'],
  [0x00bb, '"'],
]);

function isInvisible(code: number): "zero" | "bidi" | null {
  if (code === 0x200b || code === 0x200c || code === 0x200d || code === 0x2060 || code === 0xfeff) {
    return "zero";
  }
  if (code === 0x00ad || code === 0x180e || code === 0x034f || (code >= 0x2061 && code <= 0x2064)) {
    return "zero";
  }
  if (code === 0x200e || code === 0x200f || (code >= 0x202a && code <= 0x202e)) return "bidi";
  if (code >= 0x2066 && code <= 0x2069) return "bidi";
  return null;
}

/**
 * Removes invisible characters, folds confusables and lower-cases. Unicode tag characters
 * (U+E0020–E007E, the "ASCII smuggling" trick) are turned back into the ASCII they hide.
 */
export function foldText(text: string, stats: NormalizeStats): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7e) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text.toLowerCase();
  const nfkc = text.normalize("NFKC");
  if (nfkc !== text) stats.nfkcChanges++;
  // First pass: drop invisible characters, so a zero-width space cannot split a word in two.
  let visible = "";
  for (let i = 0; i < nfkc.length; i++) {
    const code = nfkc.charCodeAt(i);
    if (code < 0x80) {
      let stop = i + 1;
      while (stop < nfkc.length && nfkc.charCodeAt(stop) < 0x80) stop++;
      visible += nfkc.slice(i, stop);
      i = stop - 1;
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < nfkc.length) {
      const cp = nfkc.codePointAt(i)!;
      i++;
      if (cp >= 0xe0020 && cp <= 0xe007e) {
        visible += String.fromCharCode(cp - 0xe0000);
        stats.zeroWidth++;
      } else if (cp >= 0xe0000 && cp <= 0xe007f) {
        stats.zeroWidth++;
      } else {
        visible += String.fromCodePoint(cp);
      }
      continue;
    }
    const invisible = isInvisible(code);
    if (invisible === "zero") {
      stats.zeroWidth++;
      continue;
    }
    if (invisible === "bidi") {
      stats.bidiControls++;
      continue;
    }
    // Typographic quotes become ASCII ones, so patterns need only one spelling of a quote.
    visible += QUOTES.get(code) ?? nfkc[i];
  }
  // Second pass: fold look-alikes word by word (a word: letters and digits of any script).
  let out = "";
  let i = 0;
  while (i < visible.length) {
    const code = visible.charCodeAt(i);
    const wordChar = code > 0x7f || isAsciiLetter(code) || (code >= 48 && code <= 57);
    if (!wordChar) {
      let stop = i + 1;
      while (stop < visible.length) {
        const c = visible.charCodeAt(stop);
        if (c > 0x7f || isAsciiLetter(c) || (c >= 48 && c <= 57)) break;
        stop++;
      }
      out += visible.slice(i, stop);
      i = stop;
      continue;
    }
    let stop = i + 1;
    while (stop < visible.length) {
      const c = visible.charCodeAt(stop);
      if (
        !(c > 0x7f || isAsciiLetter(c) || (c >= 48 && c <= 57)) ||
        (c >= 0x2000 && c <= 0x206f) ||
        c === 0x3000
      )
        break;
      stop++;
    }
    out += foldWord(visible.slice(i, stop), stats);
    i = stop;
  }
  return out.toLowerCase();
}

/** The full normalisation of one text: entities, percent, escapes, then fold. */
export function normalizeText(
  raw: string,
  stats: NormalizeStats,
): { decoded: string; norm: string } {
  let text = decodeHtmlEntities(raw, stats);
  if (text.indexOf("%") >= 0) text = percentDecode(text, stats);
  // Entities may hide inside percent-encoding and the reverse; one more pass catches that.
  if (text.indexOf("&") >= 0) text = decodeHtmlEntities(text, stats);
  text = decodeEscapes(text, stats);
  return { decoded: text, norm: foldText(text, stats) };
}
