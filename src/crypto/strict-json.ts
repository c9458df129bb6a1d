/** Thrown by parseStrictJson; the message says what was wrong, never echoing the input. */
export class StrictJsonError extends Error {
  override readonly name = "StrictJsonError";
}

const MAX_DEPTH = 32;

/**
 * Parses JSON text like JSON.parse but refuses what a signed token must not contain: duplicate
 * member names (JSON.parse keeps the last, so two verifiers could read two different claims),
 * anything after the value, and nesting deeper than 32. Objects are built with
 * Object.fromEntries, so a "__proto__" member is an own property, never a prototype.
 */
export function parseStrictJson(text: string): unknown {
  let at = 0;

  const fail = (what: string): never => {
    throw new StrictJsonError(`${what} at offset ${at}`);
  };

  const skipSpace = () => {
    for (;;) {
      const code = text.charCodeAt(at);
      if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) at++;
      else return;
    }
  };

  const parseString = (): string => {
    const start = at;
    at++; // opening quote
    for (;;) {
      if (at >= text.length) fail("unterminated string");
      const code = text.charCodeAt(at);
      if (code === 0x22) break;
      if (code < 0x20) fail("control character in string");
      at += code === 0x5c ? 2 : 1;
    }
    at++; // closing quote
    try {
      // The slice is a complete JSON string literal; JSON.parse checks and decodes its escapes.
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      return fail("bad string escape");
    }
  };

  const digits = (): number => {
    const start = at;
    while (at < text.length && text.charCodeAt(at) >= 0x30 && text.charCodeAt(at) <= 0x39) at++;
    return at - start;
  };

  const parseNumber = (): number => {
    const start = at;
    if (text[at] === "-") at++;
    if (text[at] === "0") at++;
    else if (digits() === 0) fail("bad number");
    if (text[at] === ".") {
      at++;
      if (digits() === 0) fail("bad number");
    }
    if (text[at] === "e" || text[at] === "E") {
      at++;
      if (text[at] === "+" || text[at] === "-") at++;
      if (digits() === 0) fail("bad number");
    }
    return Number(text.slice(start, at));
  };

  const literal = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, at)) {
      at += word.length;
      return value;
    }
    return fail("unexpected token");
  };

  const parseValue = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    skipSpace();
    const ch = text[at];
    if (ch === "{") {
      at++;
      const entries: [string, unknown][] = [];
      const seen = new Set<string>();
      skipSpace();
      if (text[at] === "}") {
        at++;
        return {};
      }
      for (;;) {
        skipSpace();
        if (text[at] !== '"') fail("expected member name");
        const key = parseString();
        if (seen.has(key)) fail("duplicate member name");
        seen.add(key);
        skipSpace();
        if (text[at] !== ":") fail("expected ':'");
        at++;
        entries.push([key, parseValue(depth + 1)]);
        skipSpace();
        if (text[at] === ",") {
          at++;
          continue;
        }
        if (text[at] === "}") {
          at++;
          return Object.fromEntries(entries);
        }
        fail("expected ',' or '}'");
      }
    }
    if (ch === "[") {
      at++;
      const items: unknown[] = [];
      skipSpace();
      if (text[at] === "]") {
        at++;
        return items;
      }
      for (;;) {
        items.push(parseValue(depth + 1));
        skipSpace();
        if (text[at] === ",") {
          at++;
          continue;
        }
        if (text[at] === "]") {
          at++;
          return items;
        }
        fail("expected ',' or ']'");
      }
    }
    if (ch === '"') return parseString();
    if (ch === "t") return literal("true", true);
    if (ch === "f") return literal("false", false);
    if (ch === "n") return literal("null", null);
    if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) return parseNumber();
    return fail("unexpected token");
  };

  const value = parseValue(0);
  skipSpace();
  if (at !== text.length) fail("trailing characters after the value");
  return value;
}
