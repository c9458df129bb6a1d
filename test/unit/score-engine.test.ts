import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { loadScoreCases } from "../../bench/eval-score-lib.js";
import packFile from "../../data/eu-ai-act-v1.json" with { type: "json" };
import { canonicalJson } from "../../src/score/canonical.js";
import { scoreAgent } from "../../src/score/engine.js";
import { complianceScoreOf } from "../../src/score/grade.js";
import { compilePack, defaultPack, PackError } from "../../src/score/pack.js";
import type { ScoreInput, ScoreMode, ScoreResult } from "../../src/score/types.js";

const pack = defaultPack();
const score = (description: string, mode: ScoreMode = "deep", extra: Partial<ScoreInput> = {}) =>
  scoreAgent(pack, { description, ...extra }, mode, 0);
const refs = (r: ScoreResult) => r.tier_basis.map((b) => b.ref);
const hasRef = (r: ScoreResult, ref: string) => refs(r).some((x) => x.includes(ref));

describe("layer 2: Art. 5 prohibited practices, one rule family per point", () => {
  const cases: [string, string][] = [
    ["a", "It shows subliminal images in the video feed so that viewers buy more snacks."],
    ["b", "It exploits the vulnerabilities of children with disabilities to sell them add-ons."],
    ["c", "Gives every citizen a social score that decides their access to public services."],
    ["d", "Predicts whether a person will commit a crime based only on their personality traits."],
    ["e", "Scrapes facial images from the internet to build a facial recognition database."],
    ["f", "Detects the emotions of employees from their faces on webcam during meetings."],
    ["g", "Uses face images to infer the sexual orientation and religion of shoppers."],
    ["h", "Police use live facial recognition on street cameras to identify passers-by."],
  ];
  for (const [point, description] of cases) {
    test(`Art. 5(1)(${point}) → prohibited, grade F, cited precisely`, () => {
      const r = score(description);
      assert.equal(r.risk_tier, "prohibited", JSON.stringify(r.tier_basis));
      assert.equal(r.grade, "F");
      assert.ok(hasRef(r, `Art. 5(1)(${point})`), refs(r).join("; "));
      assert.deepEqual(
        r.obligations.filter((o) => o.status === "violated").map((o) => o.ref),
        [...new Set(r.tier_basis.map((b) => b.ref))],
      );
    });
  }

  test("look-alikes of a practice that are not one", () => {
    for (const description of [
      "A moderation agent that detects manipulative techniques and dark patterns in ads.",
      "A penetration-testing agent that exploits vulnerabilities in our web applications.",
      "Driver monitoring that detects drowsiness and stress from the face for safety reasons.",
      "Predicts which machines are likely to fail so that engineers can replace parts.",
      "Reoffending risk estimate combining criminal record and prior convictions for probation officers.",
    ]) {
      assert.notEqual(score(description).risk_tier, "prohibited", description);
    }
  });

  test("emotion recognition outside work and education is Annex III 1(c), not Art. 5(1)(f)", () => {
    const r = score("Kiosk that detects the emotions of shoppers from their facial expressions.");
    assert.equal(r.risk_tier, "high");
    assert.ok(hasRef(r, "Annex III, point 1(c)"));
    assert.ok(r.obligations.some((o) => o.ref === "Art. 50(3)"));
  });
});

describe("layer 3: classification", () => {
  const points: [string, string][] = [
    [
      "1",
      "Identifies people afterwards by matching faces in recorded CCTV against a watch database.",
    ],
    ["2", "Controls the water pressure and valves of the city's drinking water supply network."],
    ["3", "Grades students' exam essays and assigns the final marks."],
    ["4", "Screens CVs and shortlists job applicants for interviews."],
    ["5", "Evaluates the creditworthiness of consumers applying for personal loans."],
    ["6", "Helps police assess the reliability of evidence in criminal investigations."],
    ["7", "Examines asylum applications and recommends whether to grant protection."],
    ["8", "Helps judges interpret the facts and apply the law to draft judgments."],
  ];
  for (const [point, description] of points) {
    test(`Annex III point ${point} → high-risk under Art. 6(2)`, () => {
      const r = score(description);
      assert.equal(r.risk_tier, "high", JSON.stringify(r.tier_basis));
      assert.ok(hasRef(r, `Art. 6(2), Annex III, point ${point}`), refs(r).join("; "));
      for (const ref of ["Art. 9", "Art. 10", "Art. 12", "Art. 14", "Art. 15"]) {
        assert.ok(
          r.obligations.some((o) => o.ref === ref),
          `${ref} applies to a high-risk system`,
        );
      }
    });
  }

  test("Annex I: a medical device is high-risk under Art. 6(1)", () => {
    const r = score(
      "Software that detects skin cancer from photos; certified as a medical device.",
    );
    assert.equal(r.risk_tier, "high");
    assert.ok(refs(r).some((x) => x.startsWith("Art. 6(1), Annex I")));
  });

  test("uses, not sectors: regulated-sector agents doing ordinary work are not high-risk", () => {
    for (const description of [
      "A bank's marketing chatbot that answers questions about our savings accounts.",
      "An insurer's agent that summarises policy documents for the legal team.",
      "Schedules cleaning rotas and orders ward supplies for the hospital.",
      "The police department's agent that plans patrol car servicing.",
      "Payroll agent that calculates salaries and tax for employees.",
      "The bank's fraud model flags suspicious card transactions for investigators.",
      "HR assistant that checks job descriptions for typos before they are posted.",
    ]) {
      const r = score(description);
      assert.notEqual(r.risk_tier, "high", `${description} → ${refs(r).join("; ")}`);
      assert.notEqual(r.risk_tier, "prohibited", description);
    }
  });

  test("negation: an agent that says it does not rank candidates is not classified for it", () => {
    const r = score("Formats CVs for recruiters; it does not rank, filter or assess candidates.");
    assert.notEqual(r.risk_tier, "high", refs(r).join("; "));
    const positive = score("Formats CVs for recruiters and ranks candidates for each job.");
    assert.equal(positive.risk_tier, "high");
  });

  test("Art. 6(3): a narrow procedural task in an Annex III area is not high-risk", () => {
    const r = score(
      "Performs a narrow procedural task for recruiters: it screens CVs for a missing signature field and nothing else.",
    );
    assert.notEqual(r.risk_tier, "high");
    assert.ok(hasRef(r, "Art. 6(3)(a)"), refs(r).join("; "));
    assert.ok(r.findings.some((f) => f.articles.includes("Art. 6(4)")));
    assert.ok(r.open_questions.length > 0);
  });

  test("Art. 6(3): profiling of natural persons is always high-risk", () => {
    const r = score(
      "Performs a narrow procedural task for recruiters: it screens CVs and builds a personality profile of each candidate.",
    );
    assert.equal(r.risk_tier, "high");
    assert.ok(r.findings.some((f) => f.title.startsWith("Art. 6(3) exception unavailable")));
  });

  test("Art. 50 triggers: chatbot, synthetic media, deep fakes → limited with the right paragraph", () => {
    const cases: [string, string][] = [
      ["A chatbot on our website answers visitors' questions about opening hours.", "Art. 50(1)"],
      ["Generates product images and short promotional videos for social media.", "Art. 50(2)"],
      ["Creates deepfake videos that swap faces of actors for a comedy show.", "Art. 50(4)"],
    ];
    for (const [description, ref] of cases) {
      const r = score(description);
      assert.equal(r.risk_tier, "limited", description);
      assert.ok(refs(r).includes(ref), `${description}: ${refs(r).join("; ")}`);
      assert.ok(r.obligations.some((o) => o.ref === ref && o.status === "missing"));
    }
    const disclosed = score(
      "A chatbot on our website answers questions; a banner tells users they are talking to an AI.",
    );
    assert.ok(
      disclosed.obligations.some((o) => o.ref === "Art. 50(1)" && o.status === "evidenced"),
    );
  });

  test("GPAI: building on a general-purpose model is noted, not a tier", () => {
    const r = score(
      "Summarises support tickets using a large language model (GPT-4o) via the API.",
    );
    assert.equal(r.risk_tier, "minimal");
    assert.ok(r.findings.some((f) => f.articles.some((a) => a.includes("GPAI"))));
  });

  test("undetermined: decisions about people in an unnamed area ask their questions", () => {
    const r = score("The agent evaluates individuals and decides on their applications.");
    assert.equal(r.risk_tier, "undetermined");
    assert.ok(r.open_questions.length >= 3);
    assert.ok(r.score <= pack.grading.tierCaps.undetermined);
  });
});

describe("layer 1: scope and role", () => {
  test("exclusively military use is outside the Act (Art. 2(3))", () => {
    const r = score(
      "A targeting model used exclusively for military purposes by the armed forces.",
    );
    assert.equal(r.risk_tier, "minimal");
    assert.ok(refs(r).includes("Art. 2(3)"));
    assert.deepEqual(r.obligations, []);
  });

  test("an exclusion never hides a prohibited practice", () => {
    const r = score(
      "Research prototype used solely for research and not placed on the market; it assigns every citizen a social score.",
    );
    assert.equal(r.risk_tier, "prohibited");
  });

  test("role: a deployer owes Art. 26, a provider Art. 43/49; unknown asks which", () => {
    const base = "Screens CVs and shortlists job applicants for interviews.";
    const deployer = score(`${base} We use it internally in our HR team.`);
    assert.ok(deployer.obligations.some((o) => o.ref === "Art. 26"));
    assert.ok(!deployer.obligations.some((o) => o.ref === "Art. 43, Art. 49"));
    const provider = score(base, "deep", { deployment: { role: "provider" } });
    assert.ok(provider.obligations.some((o) => o.ref === "Art. 43, Art. 49"));
    assert.ok(!provider.obligations.some((o) => o.ref === "Art. 26"));
    const unknown = score(base);
    assert.ok(unknown.open_questions.some((q) => q.includes("provider")));
  });

  test("FRIA (Art. 27) for a public-authority deployer of a high-risk system", () => {
    const r = score("Assesses whether applicants are eligible for housing benefits.", "deep", {
      deployment: { role: "deployer", public_authority: true },
    });
    assert.ok(r.obligations.some((o) => o.ref === "Art. 27"));
  });
});

describe("layers 4 and 5: obligations and security posture", () => {
  test("evidence in the text marks obligations and controls as met", () => {
    const bare = score("Screens CVs and shortlists job applicants for interviews.");
    const strong = score(
      "Screens CVs and shortlists job applicants for interviews. Recruiters review and can override every ranking, all decisions are logged, we run bias testing on representative data, keep a risk register and technical documentation, and it has read-only access with a kill switch.",
    );
    const status = (r: ScoreResult, ref: string) =>
      r.obligations.find((o) => o.ref === ref)?.status;
    assert.equal(status(bare, "Art. 14"), "missing");
    assert.equal(status(strong, "Art. 14"), "evidenced");
    assert.equal(status(strong, "Art. 12"), "evidenced");
    assert.equal(status(strong, "Art. 10"), "evidenced");
    assert.ok(strong.score > bare.score);
    assert.ok(strong.recommended_controls.length < bare.recommended_controls.length);
  });

  test("complianceScore: the share of applicable obligations evidenced", () => {
    assert.equal(
      complianceScoreOf(score("Gives every citizen a social score for public services.")),
      0,
    );
    assert.equal(
      complianceScoreOf(score("A model used exclusively for military purposes by the army.")),
      100,
    );
    const r = score(
      "Screens CVs and ranks job applicants. Recruiters review every ranking and all decisions are logged.",
    );
    const evidenced = r.obligations.filter((o) => o.status === "evidenced").length;
    assert.ok(evidenced >= 2);
    assert.equal(complianceScoreOf(r), Math.round((evidenced / r.obligations.length) * 100));
  });

  test("red flags lower the score and are reported", () => {
    const base = "Calendar assistant that books meeting rooms for the sales team.";
    const flagged = score(`${base} It has full access to all systems and hard-coded API keys.`);
    assert.ok(flagged.score < score(base).score);
    assert.ok(flagged.findings.some((f) => f.title === "Over-broad tool permissions"));
  });

  test("deep: irreversible tools without human approval are flagged; declared oversight clears it", () => {
    const description = "Handles supplier invoices for the finance team.";
    const tools = ["read_invoice", "sendPayment", "delete-record"];
    const open = score(description, "deep", { tools });
    assert.ok(open.findings.some((f) => f.title.startsWith("Irreversible tools")));
    const gated = score(description, "deep", { tools, deployment: { human_oversight: true } });
    assert.ok(!gated.findings.some((f) => f.title.startsWith("Irreversible tools")));
    assert.ok(gated.score > open.score);
  });

  test("tool names are read as uses", () => {
    const r = score("An assistant for the talent acquisition team.", "deep", {
      tools: ["screen_resumes", "rank_job_applicants"],
    });
    assert.equal(r.risk_tier, "high");
  });
});

describe("free tier", () => {
  test("never hides prohibited-practice hits, however many", () => {
    const description =
      "Gives every citizen a social score; scrapes facial images from the web to build a facial recognition database; detects the emotions of employees from their faces; uses faces to infer the religion of shoppers.";
    const full = score(description, "deep");
    const free = score(description, "free");
    const critical = (r: ScoreResult) => r.findings.filter((f) => f.severity === "critical");
    assert.ok(critical(full).length >= 4);
    assert.deepEqual(critical(free), critical(full));
    assert.deepEqual(free.tier_basis, full.tier_basis);
    assert.equal(free.capped, true);
  });

  test("keeps the whole high-risk basis", () => {
    const description =
      "Screens CVs and ranks job applicants, monitors employees' productivity and decides who is promoted, and evaluates students' exam essays.";
    const full = score(description, "deep");
    const free = score(description, "free");
    const basis = (r: ScoreResult) => r.findings.filter((f) => f.title.startsWith("High-risk:"));
    assert.ok(basis(full).length >= 3);
    assert.deepEqual(basis(free), basis(full));
    assert.deepEqual(free.tier_basis, full.tier_basis);
  });
});

describe("pack loading", () => {
  const clone = () => JSON.parse(JSON.stringify(packFile)) as typeof packFile;

  test("the shipped pack validates and compiles", () => {
    assert.equal(compilePack(clone()).id, "eu-ai-act-v1");
  });

  test("a pack missing an Art. 5 point or an Annex III point is refused", () => {
    const noH = clone();
    noH.prohibited = noH.prohibited.filter((r) => r.point !== "h");
    assert.throws(
      () => compilePack(noH),
      (e: unknown) => e instanceof PackError && /\(h\)/.test(String(e)),
    );
    const no7 = clone();
    no7.annexIII = no7.annexIII.filter((r) => r.point !== "7");
    assert.throws(() => compilePack(no7), /point 7/);
  });

  test("a pattern RE2 cannot compile, an unknown term or an unknown field is refused", () => {
    const bad = clone();
    bad.prohibited[0]!.all[0] = "(?<=lookbehind)x";
    assert.throws(() => compilePack(bad), /ART5_A_SUBLIMINAL/);
    const term = clone();
    term.prohibited[0]!.all[0] = "{{NO_SUCH_TERM}}";
    assert.throws(() => compilePack(term), /NO_SUCH_TERM/);
    const extra = { ...clone(), surprise: true };
    assert.throws(() => compilePack(extra), PackError);
  });
});

// ---- properties ---------------------------------------------------------------------------

const fixtureCases = loadScoreCases(resolve(import.meta.dirname, "../fixtures"));
const descriptions = fixtureCases.map((c) => c.description);
/** Descriptions labelled minimal or limited: no listed use in them. */
const ordinary = fixtureCases
  .filter((c) => c.tier === "minimal" || c.tier === "limited")
  .map((c) => c.description);

/** Sentences that only ever add evidence of a control. */
const CONTROL_SENTENCES = [
  "Every tool call is logged to an audit trail.",
  "A human approves each consequential action before it runs.",
  "A kill switch can stop the agent at once.",
  "Its credentials are read-only and scoped to the two tools it needs.",
  "Prompt injection defences isolate untrusted content.",
  "API keys are stored in a secrets manager.",
  "Personal data is masked in logs and kept for 30 days.",
  "Spend limits cap each transaction.",
  "Staff operating it have had AI literacy training.",
  "A risk register and technical documentation are maintained.",
  "Accuracy and robustness are validated against a held-out test set.",
  "A banner tells everyone they are interacting with an AI.",
  "Secrets never appear in prompts or code; they live in a vault.",
  "No tool can delete data without a human sign-off.",
  "Bias testing on representative data is repeated every quarter.",
];

/** Sentences that only ever add a red flag. */
const RED_FLAG_SENTENCES = [
  "It acts without human review.",
  "It has full access to all systems.",
  "API keys are pasted in the system prompt.",
  "It executes arbitrary code it writes.",
  "It stores all conversations indefinitely.",
  "It wires money without limits.",
];

const join = (base: string, extra: readonly string[]) =>
  extra.length === 0
    ? base
    : `${base}${base.trimEnd().endsWith(".") ? "" : "."} ${extra.join(" ")}`;

const modes = fc.constantFrom<ScoreMode>("free", "deep");

describe("invariants (fast-check)", () => {
  test("any Art. 5 hit grades F, whatever controls are added", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...descriptions),
        fc.subarray(CONTROL_SENTENCES),
        modes,
        (base, controls, mode) => {
          const r = score(join(base, controls), mode);
          const art5 = r.tier_basis.some((b) => b.ref.startsWith("Art. 5(1)"));
          if (art5) {
            assert.equal(r.grade, "F");
            assert.equal(r.risk_tier, "prohibited");
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  test("adding evidence of a control never lowers the score", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...descriptions),
        fc.subarray(CONTROL_SENTENCES, { minLength: 1 }),
        modes,
        (base, controls, mode) => {
          const before = score(base, mode).score;
          const after = score(join(base, controls), mode).score;
          assert.ok(after >= before, `${before} → ${after} adding ${controls.join(" ")}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("adding a red flag never raises the score", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...descriptions),
        fc.subarray(CONTROL_SENTENCES),
        fc.subarray(RED_FLAG_SENTENCES, { minLength: 1 }),
        modes,
        (base, controls, flags, mode) => {
          const withControls = join(base, controls);
          const before = score(withControls, mode).score;
          const after = score(join(withControls, flags), mode).score;
          assert.ok(after <= before, `${before} → ${after} adding ${flags.join(" ")}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("two ordinary descriptions together never add up to a listed use", () => {
    // Sector words in one sentence and a verb in another must not combine into a use.
    fc.assert(
      fc.property(fc.constantFrom(...ordinary), fc.constantFrom(...ordinary), (a, b) => {
        const r = score(`${a} ${b}`);
        assert.ok(
          r.risk_tier !== "high" && r.risk_tier !== "prohibited",
          `${r.risk_tier}: ${refs(r).join("; ")}`,
        );
      }),
      { numRuns: 400 },
    );
  });

  test("the same input gives the same bytes, but for generated_at", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...descriptions),
        fc.array(fc.constantFrom("send_email", "read_file", "transfer_funds", "search"), {
          maxLength: 4,
        }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        modes,
        (description, tools, t1, t2, mode) => {
          const input: ScoreInput = { description, tools, deployment: { role: "deployer" } };
          const a = scoreAgent(pack, input, mode, t1);
          const b = scoreAgent(pack, { ...input, tools: [...tools] }, mode, t2);
          const strip = (r: ScoreResult) => JSON.stringify({ ...r, generated_at: "" });
          assert.equal(strip(a), strip(b));
          assert.equal(canonicalJson(a.findings), canonicalJson(b.findings));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("Unicode-obfuscated variants give the same tier", () => {
    const CYRILLIC: Readonly<Record<string, string>> = {
      a: "\u0430",
      e: "\u0435",
      o: "\u043e",
      p: "\u0440",
      c: "\u0441",
      x: "\u0445",
      y: "\u0443",
    };
    const ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060"];
    /** One Cyrillic twin per chosen word (Latin stays the majority), zero-width joiners, fullwidth. */
    const obfuscate = (text: string, seed: number): string => {
      let rng = seed >>> 0 || 1;
      const next = () => {
        rng ^= rng << 13;
        rng ^= rng >>> 17;
        rng ^= rng << 5;
        return (rng >>> 0) / 0x1_0000_0000;
      };
      return text
        .split(" ")
        .map((word) => {
          let w = word;
          const roll = next();
          if (roll < 0.3) {
            const i = [...w].findIndex((ch) => CYRILLIC[ch] !== undefined);
            if (i >= 0) w = w.slice(0, i) + CYRILLIC[w[i]!]! + w.slice(i + 1);
          } else if (roll < 0.5 && w.length > 2) {
            const at = 1 + Math.floor(next() * (w.length - 1));
            w = w.slice(0, at) + ZERO_WIDTH[Math.floor(next() * 4)]! + w.slice(at);
          } else if (roll < 0.6) {
            w = [...w]
              .map((ch) =>
                ch >= "a" && ch <= "z" ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch,
              )
              .join("");
          }
          return w;
        })
        .join(" ");
    };
    fc.assert(
      fc.property(fc.constantFrom(...descriptions), fc.integer(), (description, seed) => {
        const variant = obfuscate(description, seed);
        const plain = score(description);
        const tricky = score(variant);
        assert.equal(tricky.risk_tier, plain.risk_tier, variant);
        assert.deepEqual(refs(tricky), refs(plain), variant);
      }),
      { numRuns: 300 },
    );
  });
});
