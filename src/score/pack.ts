import RE2 from "re2";
import { z } from "zod";
import packData from "../../data/eu-ai-act-v1.json" with { type: "json" };

// A rule pack: the articles, patterns and weights the scoring engine applies. It is data, so a
// new version of the law is a new file; it is validated and compiled once, at start-up, and a
// pattern that does not compile stops the gateway with the rule's id.

const TERM = /\{\{([A-Z][A-Z0-9_]*)\}\}/g;

/** Expands `{{NAME}}` terms (one level: a term may not use another). */
function expand(pattern: string, terms: Readonly<Record<string, string>>): string {
  return pattern.replace(TERM, (_all, name: string) => {
    const term = terms[name];
    if (term === undefined) throw new Error(`unknown term {{${name}}}`);
    return `(?:${term})`;
  });
}

const Id = z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: "must be SCREAMING_SNAKE" });

const RuleSchema = z
  .strictObject({
    id: Id,
    /** The provision cited, exactly as it appears in findings and tier_basis. */
    ref: z.string().min(1),
    /** Art. 5(1) letter, Annex III point number, or "I" for an Annex I link. */
    point: z.string().min(1).optional(),
    title: z.string().min(1),
    /** Every pattern must match somewhere (outside a negation) for the rule to hold. */
    all: z.array(z.string().min(1)).min(1),
    /** Any of these matching (outside a negation) cancels the rule. */
    none: z.array(z.string().min(1)).optional(),
    /** False: a negation word before the match does not cancel it (red flags say "without"). */
    negatable: z.boolean().optional(),
    /**
     * How many leading `all` patterns must hit in one sentence (the first pattern's); the rest may
     * hit anywhere. "Reads faces" and "to see how excited they are" must describe one use.
     */
    sentence: z.number().int().min(2).optional(),
  })
  .refine((r) => r.sentence === undefined || r.sentence <= r.all.length, {
    message: "sentence cannot exceed the number of `all` patterns",
  });

const ObligationSchema = z.strictObject({
  ref: z.string().min(1),
  title: z.string().min(1),
  applies: z.enum([
    "all",
    "high",
    "high-provider",
    "high-deployer",
    "high-fria",
    "art50-interaction",
    "art50-synthetic",
    "art50-emotion",
    "art50-deepfake",
  ]),
  weight: z.number().int().min(0).max(20),
  evidence: z.array(z.string().min(1)).min(1),
});

const ControlSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/),
  control: z.string().min(1),
  satisfies: z.array(z.string().min(1)).min(1),
  weight: z.number().int().min(0).max(20),
  evidence: z.array(z.string().min(1)).min(1),
});

const RedFlagSchema = z.strictObject({
  id: Id,
  title: z.string().min(1),
  severity: z.enum(["high", "medium"]),
  articles: z.array(z.string().min(1)).min(1),
  weight: z.number().int().min(1).max(30),
  any: z.array(z.string().min(1)).min(1),
});

const TIERS = ["prohibited", "high", "undetermined", "limited", "minimal"] as const;

/** Rule ids the engine itself names; a pack must define each. */
export const RULE_IDS = {
  interaction: "ART50_1_INTERACTION",
  synthetic: "ART50_2_SYNTHETIC",
  emotion: "ART50_3_EMOTION_BIOMETRIC",
  deepfake: "ART50_4_DEEPFAKE",
  publicText: "ART50_4_TEXT",
  credit: "A3_5B_CREDITWORTHINESS",
  insurance: "A3_5C_INSURANCE",
} as const;

const ENGINE_RULE_IDS: readonly string[] = Object.values(RULE_IDS);

/** Control ids the engine itself names (deployment facts and tool checks map onto them). */
export const CONTROL_IDS = {
  humanApproval: "human_approval",
  leastPrivilege: "least_privilege",
  piiHandling: "pii_handling",
} as const;

/** The pack file as written in data/. */
export const PackSchema = z
  .strictObject({
    $comment: z.string().optional(),
    id: z.string().regex(/^[a-z0-9-]+-v\d+$/),
    version: z.string().regex(/^\d+\.\d+\.\d+$/),
    regulation: z.string().min(1),
    terms: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string().min(1)),
    negation: z.string().min(1),
    scope: z.strictObject({
      exclusions: z.array(RuleSchema),
      provider: z.array(RuleSchema),
      deployer: z.array(RuleSchema),
    }),
    prohibited: z.array(RuleSchema).min(1),
    annexI: z.array(RuleSchema),
    annexIII: z.array(RuleSchema).min(1),
    areas: z.array(RuleSchema),
    exception: z.array(RuleSchema),
    profiling: z.array(RuleSchema).min(1),
    transparency: z.array(RuleSchema),
    gpai: z.array(RuleSchema),
    ambiguity: z.array(RuleSchema),
    obligations: z.array(ObligationSchema).min(1),
    controls: z.array(ControlSchema).min(1),
    redFlags: z.array(RedFlagSchema),
    questions: z.strictObject({
      undetermined: z.array(z.string().min(1)).min(1),
      exception: z.array(z.string().min(1)).min(1),
      role: z.array(z.string().min(1)).min(1),
    }),
    grading: z.strictObject({
      thresholds: z.strictObject({
        A: z.number(),
        B: z.number(),
        C: z.number(),
        D: z.number(),
        E: z.number(),
      }),
      tierCaps: z.strictObject(
        Object.fromEntries(TIERS.map((t) => [t, z.number().min(0).max(100)])) as Record<
          (typeof TIERS)[number],
          z.ZodNumber
        >,
      ),
      freeMaxScore: z.number().min(0).max(100),
    }),
  })
  .superRefine((pack, ctx) => {
    // The engine promises to cite every point of Art. 5(1) and of Annex III; a pack that
    // dropped one would silently stop detecting a whole family.
    const letters = new Set(pack.prohibited.map((r) => r.point));
    for (const letter of ["a", "b", "c", "d", "e", "f", "g", "h"]) {
      if (!letters.has(letter)) {
        ctx.addIssue({ code: "custom", path: ["prohibited"], message: `no rule for (${letter})` });
      }
    }
    const points = new Set(pack.annexIII.map((r) => r.point));
    for (const point of ["1", "2", "3", "4", "5", "6", "7", "8"]) {
      if (!points.has(point)) {
        ctx.addIssue({ code: "custom", path: ["annexIII"], message: `no rule for point ${point}` });
      }
    }
    // The engine refers to these rules by id (which Art. 50 paragraph, which uses need a FRIA).
    const ids = new Set([...pack.transparency, ...pack.annexIII].map((r) => r.id));
    for (const id of ENGINE_RULE_IDS) {
      if (!ids.has(id)) ctx.addIssue({ code: "custom", path: [], message: `no rule ${id}` });
    }
    const controls = new Set(pack.controls.map((c) => c.id));
    for (const id of Object.values(CONTROL_IDS)) {
      if (!controls.has(id))
        ctx.addIssue({ code: "custom", path: [], message: `no control ${id}` });
    }
    const t = pack.grading.thresholds;
    if (!(t.A > t.B && t.B > t.C && t.C > t.D && t.D > t.E)) {
      ctx.addIssue({ code: "custom", path: ["grading"], message: "thresholds must decrease" });
    }
  });

export type PackFile = z.infer<typeof PackSchema>;
type RuleSpec = z.infer<typeof RuleSchema>;

/** A compiled rule: RE2 patterns with the global flag, so every occurrence can be inspected. */
export type CompiledRule = Readonly<{
  id: string;
  ref: string;
  point: string | undefined;
  title: string;
  all: readonly RE2[];
  none: readonly RE2[];
  negatable: boolean;
  /** Leading `all` patterns that must hit in the first pattern's sentence (1: only itself). */
  sentence: number;
}>;

export type CompiledObligation = Readonly<{
  ref: string;
  title: string;
  applies: PackFile["obligations"][number]["applies"];
  weight: number;
  evidence: RE2;
}>;

export type CompiledControl = Readonly<{
  id: string;
  control: string;
  satisfies: readonly string[];
  weight: number;
  evidence: RE2;
}>;

export type CompiledRedFlag = Readonly<{
  id: string;
  title: string;
  severity: "high" | "medium";
  articles: readonly string[];
  weight: number;
  any: RE2;
}>;

/** A validated pack with every pattern compiled; shared, immutable, safe to reuse. */
export type Pack = Readonly<{
  id: string;
  version: string;
  negation: RE2;
  exclusions: readonly CompiledRule[];
  provider: readonly CompiledRule[];
  deployer: readonly CompiledRule[];
  prohibited: readonly CompiledRule[];
  annexI: readonly CompiledRule[];
  annexIII: readonly CompiledRule[];
  areas: readonly CompiledRule[];
  exception: readonly CompiledRule[];
  profiling: readonly CompiledRule[];
  transparency: readonly CompiledRule[];
  gpai: readonly CompiledRule[];
  ambiguity: readonly CompiledRule[];
  obligations: readonly CompiledObligation[];
  controls: readonly CompiledControl[];
  redFlags: readonly CompiledRedFlag[];
  questions: PackFile["questions"];
  grading: PackFile["grading"];
}>;

/** Thrown when a pack file fails validation or a pattern does not compile. */
export class PackError extends Error {
  override readonly name = "PackError";
}

function compile(pattern: string, terms: Readonly<Record<string, string>>, where: string): RE2 {
  try {
    return new RE2(expand(pattern, terms), "gu");
  } catch (err) {
    throw new PackError(`${where}: ${(err as Error).message}`);
  }
}

/** Several alternatives as one pattern: one scan of the text instead of one per alternative. */
function compileAny(patterns: readonly string[], terms: Record<string, string>, where: string) {
  return compile(patterns.map((p) => `(?:${p})`).join("|"), terms, where);
}

function compileRules(
  rules: readonly RuleSpec[],
  terms: Record<string, string>,
  section: string,
): CompiledRule[] {
  return rules.map((rule) =>
    Object.freeze({
      id: rule.id,
      ref: rule.ref,
      point: rule.point,
      title: rule.title,
      all: rule.all.map((p, i) => compile(p, terms, `${section}.${rule.id}.all[${i}]`)),
      none: (rule.none ?? []).map((p, i) => compile(p, terms, `${section}.${rule.id}.none[${i}]`)),
      negatable: rule.negatable ?? true,
      sentence: rule.sentence ?? 1,
    }),
  );
}

/** Validates and compiles a pack file; throws a PackError naming the first problem. */
export function compilePack(raw: unknown): Pack {
  const parsed = PackSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PackError(
      `invalid rule pack at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "unknown"}`,
    );
  }
  const p = parsed.data;
  const t = p.terms;
  return Object.freeze({
    id: p.id,
    version: p.version,
    negation: compile(p.negation, t, "negation"),
    exclusions: compileRules(p.scope.exclusions, t, "scope.exclusions"),
    provider: compileRules(p.scope.provider, t, "scope.provider"),
    deployer: compileRules(p.scope.deployer, t, "scope.deployer"),
    prohibited: compileRules(p.prohibited, t, "prohibited"),
    annexI: compileRules(p.annexI, t, "annexI"),
    annexIII: compileRules(p.annexIII, t, "annexIII"),
    areas: compileRules(p.areas, t, "areas"),
    exception: compileRules(p.exception, t, "exception"),
    profiling: compileRules(p.profiling, t, "profiling"),
    transparency: compileRules(p.transparency, t, "transparency"),
    gpai: compileRules(p.gpai, t, "gpai"),
    ambiguity: compileRules(p.ambiguity, t, "ambiguity"),
    obligations: p.obligations.map((o) =>
      Object.freeze({
        ref: o.ref,
        title: o.title,
        applies: o.applies,
        weight: o.weight,
        evidence: compileAny(o.evidence, t, `obligations.${o.ref}`),
      }),
    ),
    controls: p.controls.map((c) =>
      Object.freeze({
        id: c.id,
        control: c.control,
        satisfies: c.satisfies,
        weight: c.weight,
        evidence: compileAny(c.evidence, t, `controls.${c.id}`),
      }),
    ),
    redFlags: p.redFlags.map((f) =>
      Object.freeze({
        id: f.id,
        title: f.title,
        severity: f.severity,
        articles: f.articles,
        weight: f.weight,
        any: compileAny(f.any, t, `redFlags.${f.id}`),
      }),
    ),
    questions: p.questions,
    grading: p.grading,
  });
}

let shipped: Pack | undefined;

/** The shipped pack (data/eu-ai-act-v1.json), validated and compiled on first use. */
export function defaultPack(): Pack {
  shipped ??= compilePack(packData);
  return shipped;
}
