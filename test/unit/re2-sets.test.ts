import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import fc from "fast-check";
import RE2 from "re2";
import { isProtectCaseFile } from "../../bench/eval-lib.js";
import { compilePatternSet, triggersOf } from "../../layers/re2-sets.js";

/** What one RE2.Set over every pattern would answer: the reference the gated sets must equal. */
function bruteForce(patterns: readonly RE2[], subject: string | Buffer): number[] {
  return patterns.flatMap((re, i) => (re.test(subject) ? [i] : []));
}

describe("triggersOf", () => {
  test("takes the most selective run of cheap atoms", () => {
    assert.deepEqual(triggersOf(String.raw`\b(?:do|does|say) anything now\b`), [
      String.raw`\b(?:do|does|say) anything`,
    ]);
  });

  test("stops at a broad run and looks past it", () => {
    assert.deepEqual(triggersOf(String.raw`\bdan\b[^.\n]{0,40}\bstands? for\b`), [
      String.raw`\bstands? for`,
    ]);
  });

  test("one trigger per top-level alternative, or none when one alternative has none", () => {
    assert.deepEqual(triggersOf("alpha|beta"), ["alpha", "beta"]);
    assert.equal(triggersOf(String.raw`alpha|\w+`), null);
  });

  test("a leading flag group applies to every trigger; flags elsewhere give none", () => {
    assert.deepEqual(triggersOf("(?i)alpha|beta"), ["(?i)alpha", "(?i)beta"]);
    assert.equal(triggersOf("alpha(?i)beta"), null);
  });

  test("patterns it cannot read safely get no trigger", () => {
    assert.equal(triggersOf(String.raw`\Q(a|b)\E`), null);
    assert.equal(triggersOf("[[:alpha:]]+word"), null);
    assert.equal(triggersOf("(?P<name>abcd)"), null);
    assert.equal(triggersOf("ab"), null);
  });

  test("escapes stay whole: \\x41 and octal \\101 are one character each", () => {
    for (const source of [String.raw`\x41\x42zzzz`, String.raw`\101\102zzzz`]) {
      const triggers = triggersOf(source) ?? [];
      const set = compilePatternSet([source], "escapes");
      assert.ok(
        triggers.every((t) => new RE2(t, "u").test("ABzzzz")),
        `${source}: ${triggers}`,
      );
      assert.deepEqual(set.match("ABzzzz"), [0]);
    }
  });

  test("optional parts count for nothing", () => {
    assert.equal(triggersOf("(?:abcd)?x"), null);
    assert.deepEqual(triggersOf("(?:abcd)?wxyz"), ["(?:abcd)?wxyz"]);
  });
});

// Random patterns over a tiny alphabet: every construct the trigger reader handles or refuses.
const atom: fc.Arbitrary<string> = fc.letrec((tie) => ({
  atom: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("a", "b", "c", " ", "d") },
    { weight: 2, arbitrary: fc.constantFrom("[ab]", "[^a]", String.raw`\s`, String.raw`\b`, ".") },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        String.raw`\w`,
        String.raw`\.`,
        "(?i)",
        String.raw`\x61`,
        String.raw`\142`,
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .array(tie("seq") as fc.Arbitrary<string>, { minLength: 1, maxLength: 3 })
        .map((alts) => `(?:${alts.join("|")})`),
    },
  ),
  seq: fc
    .array(
      fc.tuple(
        tie("atom") as fc.Arbitrary<string>,
        fc.constantFrom("", "", "", "?", "*", "+", "{0,2}", "{1,3}", "{2}"),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((parts) =>
      parts.map(([a, q]) => (a === "(?i)" || a === String.raw`\b` ? a : a + q)).join(""),
    ),
})).seq as fc.Arbitrary<string>;

const pattern = fc
  .array(atom, { minLength: 1, maxLength: 3 })
  .map((alts) => alts.join("|"))
  .filter((source) => {
    try {
      new RE2(source, "u");
      return true;
    } catch {
      return false;
    }
  });

describe("compilePatternSet", () => {
  test("answers exactly like one set over every pattern (random patterns and texts)", () => {
    fc.assert(
      fc.property(
        fc.array(pattern, { minLength: 1, maxLength: 24 }),
        fc.array(fc.stringMatching(/^[abcdAB .\n]{0,40}$/), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(1, 2, 3),
        (sources, texts, minTrigger) => {
          const set = compilePatternSet(sources, "test", minTrigger);
          const res = sources.map((s) => new RE2(s, "u"));
          for (const text of texts) {
            for (const subject of [text, Buffer.from(text)]) {
              const expected = bruteForce(res, subject);
              assert.deepEqual(set.match(subject), expected, `${JSON.stringify(text)}`);
              assert.equal(set.test(subject), expected.length > 0);
            }
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  test("answers exactly like one set over every pattern in data/ on our own fixtures", () => {
    const sources = new Set<string>();
    const collect = (value: unknown, key = ""): void => {
      if (typeof value === "string") {
        if (/pattern|trigger/i.test(key)) sources.add(value);
      } else if (Array.isArray(value)) {
        for (const v of value) collect(v, key);
      } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) collect(v, k);
      }
    };
    for (const file of readdirSync("data").filter((f) => f.endsWith(".json"))) {
      collect(JSON.parse(readFileSync(`data/${file}`, "utf8")));
    }
    const usable = [...sources].filter((s) => {
      try {
        new RE2(s, "u");
        return true;
      } catch {
        return false;
      }
    });
    assert.ok(usable.length > 500, `only ${usable.length} patterns found`);
    const gated = usable.filter((s) => triggersOf(s) !== null).length;
    assert.ok(gated > usable.length / 2, `only ${gated} of ${usable.length} patterns gated`);
    const texts = readdirSync("test/fixtures")
      .filter(isProtectCaseFile)
      .flatMap((f) => readFileSync(`test/fixtures/${f}`, "utf8").split("\n").filter(Boolean))
      .filter((_, i) => i % 7 === 0)
      .map((line) => JSON.stringify(JSON.parse(line).request).normalize("NFKC").toLowerCase());
    const set = compilePatternSet(usable, "data");
    const res = usable.map((s) => new RE2(s, "u"));
    let matched = 0;
    for (const text of texts) {
      const subject = Buffer.from(text);
      const expected = bruteForce(res, subject);
      matched += expected.length;
      assert.deepEqual(set.match(subject), expected, text.slice(0, 200));
    }
    assert.ok(matched > texts.length, "the fixtures should match many patterns");
  });
});
