import RE2 from "re2";
import confusables from "../../data/confusables.json" with { type: "json" };
import { emptyStats, foldText } from "../pipeline/normalize.js";
import { canonicalJson, sha256Hex } from "./canonical.js";
import { capForFree, gradeOf } from "./grade.js";
import { CONTROL_IDS, type CompiledRule, type Pack, RULE_IDS } from "./pack.js";
import type {
  Finding,
  ObligationResult,
  RiskTier,
  ScoreInput,
  ScoreMode,
  ScoreResult,
  Severity,
  TierBasis,
} from "./types.js";

// The scoring engine: pure and synchronous. The same input and pack give the same result,
// byte for byte, but for generated_at. Text is folded with the gateway's normaliser (NFKC,
// confusables, invisible characters) so obfuscated spellings are read like plain ones, and
// only RE2 patterns ever run over it.

const EVIDENCE_MAX = 120;
/** How far before a match a negation word may sit ("does not rank, filter or assess …"). */
const NEGATION_WINDOW = 60;
/** A pattern is retried past at most this many negated matches; the text is short anyway. */
const MAX_RETRIES = 24;
/** Clause boundaries a negation does not cross ("it does not store data, but it ranks …"). */
const CLAUSE_BREAKS = [" but ", " however", " whereas ", " while ", " although "];

type Hit = Readonly<{ index: number; text: string }>;
type RuleHit = Readonly<{ rule: CompiledRule; hit: Hit }>;

function clip(text: string): string {
  const flat = text.replaceAll("\n", " ").trim();
  return flat.length > EVIDENCE_MAX ? `${flat.slice(0, EVIDENCE_MAX - 1)}…` : flat;
}

/** . ; ! ? and newline end a sentence. */
function isSentenceEnd(code: number): boolean {
  return code === 46 || code === 59 || code === 33 || code === 63 || code === 10;
}

/** True when a negation word sits in the same clause shortly before `index`. */
function negated(text: string, index: number, negation: RE2): boolean {
  let start = Math.max(0, index - NEGATION_WINDOW);
  for (let i = index - 1; i >= start; i--) {
    if (isSentenceEnd(text.charCodeAt(i))) {
      start = i + 1;
      break;
    }
  }
  let window = text.slice(start, index);
  for (const brk of CLAUSE_BREAKS) {
    const at = window.lastIndexOf(brk);
    if (at >= 0) window = window.slice(at + brk.length);
  }
  negation.lastIndex = 0;
  return negation.test(window);
}

/** The first occurrence of `re` in `text` that no negation cancels, or null. */
function firstHit(re: RE2, text: string, negation: RE2 | null): Hit | null {
  re.lastIndex = 0;
  for (let tries = 0; tries < MAX_RETRIES; tries++) {
    const m = re.exec(text);
    if (m === null) return null;
    if (negation === null || !negated(text, m.index, negation)) {
      return { index: m.index, text: m[0] };
    }
    re.lastIndex = m.index + 1;
  }
  return null;
}

/** The sentence around `index`: from after the previous . ; ! ? or newline to the next one. */
function sentenceAt(text: string, index: number): string {
  let start = index;
  while (start > 0 && !isSentenceEnd(text.charCodeAt(start - 1))) start--;
  let end = index;
  while (end < text.length && !isSentenceEnd(text.charCodeAt(end))) end++;
  return text.slice(start, end);
}

/**
 * A rule holds when every `all` pattern has a hit and no `none` pattern has an un-negated one.
 * Only the first `all` pattern (the use: a verb and its object) can be negated; the others are
 * context ("… a face recognition database"), which a nearby "without" does not undo. The first
 * `rule.sentence` patterns must hit in the sentence of one of the first pattern's hits.
 */
function matchRule(rule: CompiledRule, text: string, negation: RE2): Hit | null {
  const [lead, ...rest] = rule.all;
  if (lead === undefined) return null;
  let first: Hit | null = null;
  if (rule.sentence <= 1) {
    first = firstHit(lead, text, rule.negatable ? negation : null);
  } else {
    const together = rest.slice(0, rule.sentence - 1);
    lead.lastIndex = 0;
    for (let tries = 0; tries < MAX_RETRIES && first === null; tries++) {
      const m = lead.exec(text);
      if (m === null) break;
      lead.lastIndex = m.index + 1;
      if (rule.negatable && negated(text, m.index, negation)) continue;
      const sentence = sentenceAt(text, m.index);
      const inSentence = (re: RE2) => {
        re.lastIndex = 0;
        return re.test(sentence);
      };
      if (together.every(inSentence)) {
        first = { index: m.index, text: m[0] };
      }
    }
  }
  if (first === null) return null;
  for (const re of rest.slice(Math.max(0, rule.sentence - 1))) {
    if (firstHit(re, text, null) === null) return null;
  }
  for (const re of rule.none) {
    if (firstHit(re, text, negation) !== null) return null;
  }
  return first;
}

/**
 * The rules that hold, one per cited provision: several rules may spell out one point (4(a) by
 * CV wording or by recruitment context), and a provision is cited once, by its earliest evidence.
 */
function matchAll(rules: readonly CompiledRule[], text: string, negation: RE2): RuleHit[] {
  const byRef = new Map<string, RuleHit>();
  for (const rule of rules) {
    const hit = matchRule(rule, text, negation);
    if (hit === null) continue;
    const seen = byRef.get(rule.ref);
    if (seen === undefined || hit.index < seen.hit.index) byRef.set(rule.ref, { rule, hit });
  }
  // Pack order, so results do not depend on where in the text each provision was evidenced.
  const order = new Map(rules.map((r, i) => [r, i]));
  return [...byRef.values()].sort((a, b) => order.get(a.rule)! - order.get(b.rule)!);
}

// Tool names that act on the world in a way that is hard to undo.
const IRREVERSIBLE_TOOL = new RE2(
  "(?:^|[^a-z])(?:delete|remove|drop|destroy|purge|send|email|mail|sms|transfer|pay|payment|purchase|buy|order|refund|wire|execute|exec|shell|run|deploy|publish|post|tweet|cancel|terminate|fire|reject|approve|write|update|modify|transact)(?:[^a-z]|$)",
  "u",
);
const SPECIAL_CATEGORY = new RE2(
  "biometric|health|medical|genetic|racial|ethnic|political|religio|sexual|trade[- _]?union|criminal|child|minor",
  "u",
);
/** More tools than this, with no least-privilege evidence, is a broad toolset. */
const BROAD_TOOLSET = 12;

const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
  info: 4,
};

/** A tool name as words: send_email, deleteRecord, run-query → "send email", "delete record"… */
function toolWords(name: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    const code = name.charCodeAt(i);
    const prev = i > 0 ? name.charCodeAt(i - 1) : 0;
    if (ch === "_" || ch === "-" || ch === "." || ch === "/") {
      out += " ";
    } else if (code >= 65 && code <= 90 && prev >= 97 && prev <= 122) {
      out += ` ${ch}`;
    } else {
      out += ch;
    }
  }
  return out.toLowerCase();
}

const TO_LATIN: ReadonlyMap<string, string> = new Map(Object.entries(confusables.toLatin));

/** Greek (U+0370–03FF) or Cyrillic (U+0400–04FF). */
function isGreekOrCyrillic(code: number): boolean {
  return code >= 0x370 && code <= 0x4ff;
}

/**
 * The gateway's normaliser folds look-alikes inside mixed words but leaves a word written wholly
 * in Cyrillic or Greek alone (it may be Russian). In a description that is nearly all Latin, a
 * lone Cyrillic "а" or "о" is obfuscation, not Russian: fold those too.
 */
function foldStrayLetters(text: string): string {
  let latin = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 97 && code <= 122) latin++;
    else if (isGreekOrCyrillic(code)) other++;
  }
  if (other === 0 || other * 10 > latin) return text;
  let out = "";
  for (const ch of text) {
    out += isGreekOrCyrillic(ch.charCodeAt(0)) ? (TO_LATIN.get(ch) ?? ch) : ch;
  }
  return out;
}

/** The text the rules read: the description, plus the tool names as words (deep only). */
function analysisText(input: ScoreInput): string {
  const parts = [input.description];
  if (input.tools !== undefined && input.tools.length > 0) {
    // send_email, deleteRecord → "send email", "delete record": names say what the agent does.
    parts.push(`Tools: ${input.tools.map(toolWords).join(", ")}.`);
  }
  return foldStrayLetters(foldText(parts.join("\n"), emptyStats()));
}

/** SHA-256 of the canonical JSON of everything the caller sent that the result depends on. */
export function inputSha256(input: ScoreInput): string {
  return sha256Hex(
    canonicalJson({
      description: input.description,
      agent_name: input.agentName,
      tools: input.tools,
      data_categories: input.dataCategories,
      deployment: input.deployment,
    }),
  );
}

type Role = Readonly<{ provider: boolean; deployer: boolean; known: boolean }>;

function roleOf(input: ScoreInput, text: string, pack: Pack): Role {
  const declared = input.deployment?.role;
  if (declared !== undefined) {
    return { provider: declared !== "deployer", deployer: declared !== "provider", known: true };
  }
  const provider = matchAll(pack.provider, text, pack.negation).length > 0;
  const deployer = matchAll(pack.deployer, text, pack.negation).length > 0;
  // Unknown role: both sets of obligations may apply, and the result asks which it is.
  return provider || deployer
    ? { provider, deployer, known: true }
    : { provider: true, deployer: true, known: false };
}

/** What layers 1–3 found in one description: every rule family's hits. */
type Analysis = Readonly<{
  text: string;
  deployment: NonNullable<ScoreInput["deployment"]>;
  role: Role;
  exclusions: readonly RuleHit[];
  prohibited: readonly RuleHit[];
  annexI: readonly RuleHit[];
  /** In text order: the use mentioned first is the primary one. */
  annexIII: readonly RuleHit[];
  profiling: readonly RuleHit[];
  exception: readonly RuleHit[];
  areas: readonly RuleHit[];
  transparency: readonly RuleHit[];
  gpai: readonly RuleHit[];
  ambiguity: readonly RuleHit[];
  /** Ids of the Art. 50 rules that apply (deployment.user_facing adds the chatbot one). */
  triggers: ReadonlySet<string>;
  /** Art. 6(3): an Annex III use that is only narrow or preparatory, and no profiling. */
  exceptionApplies: boolean;
  /** Outside the Act (Art. 2), and no Art. 5 practice that an exclusion must never hide. */
  excluded: boolean;
}>;

/** Layers 1–3: scope and role, Art. 5 practices, classification rules. */
function analyse(pack: Pack, input: ScoreInput): Analysis {
  const text = analysisText(input);
  const neg = pack.negation;
  const deployment = input.deployment ?? {};
  const exclusions = matchAll(pack.exclusions, text, neg);
  const prohibited = matchAll(pack.prohibited, text, neg);
  const annexI = matchAll(pack.annexI, text, neg);
  // Descriptions lead with what the agent is for, so the use mentioned first is the primary one.
  const annexIII = matchAll(pack.annexIII, text, neg).sort((a, b) => a.hit.index - b.hit.index);
  const profiling = matchAll(pack.profiling, text, neg);
  const exception = matchAll(pack.exception, text, neg);
  const transparency = matchAll(pack.transparency, text, neg);
  const triggers = new Set(transparency.map((t) => t.rule.id));
  if (deployment.user_facing === true) triggers.add(RULE_IDS.interaction);
  return {
    text,
    deployment,
    role: roleOf(input, text, pack),
    exclusions,
    prohibited,
    annexI,
    annexIII,
    profiling,
    exception,
    areas: matchAll(pack.areas, text, neg),
    transparency,
    gpai: matchAll(pack.gpai, text, neg),
    ambiguity: matchAll(pack.ambiguity, text, neg),
    triggers,
    // Art. 6(3): profiling of natural persons always keeps an Annex III system high-risk.
    exceptionApplies:
      annexIII.length > 0 && exception.length > 0 && profiling.length === 0 && annexI.length === 0,
    excluded: exclusions.length > 0 && prohibited.length === 0,
  };
}

const basisOf = (hits: readonly RuleHit[], prefix = ""): TierBasis[] =>
  hits.map((h) => ({ ref: `${prefix}${h.rule.ref}`, evidence: clip(h.hit.text) }));

/** The tier, most severe reading first, and the provisions and evidence it rests on. */
function classify(a: Analysis): { tier: RiskTier; basis: TierBasis[] } {
  if (a.prohibited.length > 0) return { tier: "prohibited", basis: basisOf(a.prohibited) };
  if (a.excluded) return { tier: "minimal", basis: basisOf(a.exclusions) };
  if (a.annexI.length > 0 || (a.annexIII.length > 0 && !a.exceptionApplies)) {
    const basis = [...basisOf(a.annexI), ...basisOf(a.annexIII, "Art. 6(2), ")];
    // An exception was claimed but profiling defeats it: say so in the basis.
    if (a.annexIII.length > 0 && a.exception.length > 0) basis.push(...basisOf(a.profiling));
    return { tier: "high", basis };
  }
  if (a.ambiguity.length > 0 && a.exception.length === 0) {
    return { tier: "undetermined", basis: basisOf(a.ambiguity) };
  }
  const basis: TierBasis[] = a.exceptionApplies
    ? [...basisOf(a.annexIII), ...basisOf(a.exception)]
    : [];
  basis.push(...basisOf(a.transparency));
  if (a.deployment.user_facing === true && !basis.some((b) => b.ref === "Art. 50(1)")) {
    basis.push({ ref: "Art. 50(1)", evidence: "deployment.user_facing: true" });
  }
  if (basis.length === 0) {
    basis.push({
      ref: "Art. 6; Annex III",
      evidence: "no prohibited practice, Annex I product or Annex III use described",
    });
  }
  return { tier: a.triggers.size > 0 ? "limited" : "minimal", basis };
}

/** Layer 5 evidence: the controls the text (or the declared deployment) shows. */
function evidencedControls(pack: Pack, a: Analysis): Set<string> {
  const found = new Set<string>();
  for (const control of pack.controls) {
    if (firstHit(control.evidence, a.text, pack.negation) !== null) found.add(control.id);
  }
  const { human_oversight, autonomy } = a.deployment;
  if (human_oversight === true || autonomy === "act_with_approval" || autonomy === "suggest_only") {
    found.add(CONTROL_IDS.humanApproval);
  }
  return found;
}

type Obligation = Pack["obligations"][number];

/** Layer 4: the obligations that apply to this tier and role, each evidenced or missing. */
function obligationsOf(
  pack: Pack,
  a: Analysis,
  tier: RiskTier,
  controls: ReadonlySet<string>,
): { obligations: ObligationResult[]; missing: Obligation[] } {
  if (tier === "prohibited") {
    return {
      obligations: a.prohibited.map((p) => ({ ref: p.rule.ref, status: "violated" })),
      missing: [],
    };
  }
  if (a.excluded) return { obligations: [], missing: [] };
  const high = tier === "high";
  const { role, triggers } = a;
  const fria =
    a.deployment.public_authority === true ||
    a.annexIII.some((h) => h.rule.id === RULE_IDS.credit || h.rule.id === RULE_IDS.insurance);
  const obligations: ObligationResult[] = [];
  const missing: Obligation[] = [];
  for (const o of pack.obligations) {
    const applies =
      o.applies === "all" ||
      (o.applies === "high" && high) ||
      (o.applies === "high-provider" && high && role.provider) ||
      (o.applies === "high-deployer" && high && role.deployer) ||
      (o.applies === "high-fria" && high && role.deployer && fria) ||
      (o.applies === "art50-interaction" && triggers.has(RULE_IDS.interaction)) ||
      (o.applies === "art50-synthetic" && triggers.has(RULE_IDS.synthetic)) ||
      (o.applies === "art50-emotion" && triggers.has(RULE_IDS.emotion)) ||
      (o.applies === "art50-deepfake" &&
        (triggers.has(RULE_IDS.deepfake) || triggers.has(RULE_IDS.publicText)));
    if (!applies) continue;
    // A control that satisfies the provision is evidence for it too (logging → Art. 12).
    const evidenced =
      pack.controls.some((c) => controls.has(c.id) && c.satisfies.includes(o.ref)) ||
      firstHit(o.evidence, a.text, pack.negation) !== null;
    obligations.push({ ref: o.ref, status: evidenced ? "evidenced" : "missing" });
    if (!evidenced) missing.push(o);
  }
  return { obligations, missing };
}

type Flag = Readonly<{
  title: string;
  severity: "high" | "medium";
  articles: readonly string[];
  weight: number;
}>;

/** Red flags: what the text or the deep inputs say that makes the agent riskier. */
function redFlagsOf(
  pack: Pack,
  a: Analysis,
  input: ScoreInput,
  tier: RiskTier,
  controls: ReadonlySet<string>,
): Flag[] {
  const flags: Flag[] = pack.redFlags.filter((f) => firstHit(f.any, a.text, null) !== null);
  if (a.excluded) return flags;
  const tools = input.tools ?? [];
  if (
    tools.some((t) => IRREVERSIBLE_TOOL.test(toolWords(t))) &&
    !controls.has(CONTROL_IDS.humanApproval)
  ) {
    flags.push({
      title: "Irreversible tools (send, pay, delete, execute…) without human approval",
      severity: "high",
      articles: ["Art. 14(4)", "Art. 26(2)"],
      weight: 6,
    });
  }
  if (tools.length > BROAD_TOOLSET && !controls.has(CONTROL_IDS.leastPrivilege)) {
    flags.push({
      title: `Broad toolset (${tools.length} tools) without least-privilege scoping`,
      severity: "medium",
      articles: ["Art. 15(4)"],
      weight: 4,
    });
  }
  if (a.deployment.autonomy === "autonomous" && tier === "high") {
    flags.push({
      title: "High-risk use run autonomously",
      severity: "high",
      articles: ["Art. 14", "Art. 26(2)"],
      weight: 6,
    });
  }
  return flags;
}

/** Findings, most severe first (the engine's order within a severity), and open questions. */
function findingsOf(
  pack: Pack,
  a: Analysis,
  input: ScoreInput,
  tier: RiskTier,
  parts: Readonly<{
    controls: ReadonlySet<string>;
    missing: readonly Obligation[];
    flags: readonly Flag[];
  }>,
): { findings: Finding[]; questions: string[] } {
  const findings: Finding[] = [];
  const questions: string[] = [];
  const add = (
    severity: Severity,
    title: string,
    articles: readonly string[],
    status: Finding["status"],
  ) => findings.push({ severity, title, articles, status });

  for (const p of a.prohibited) {
    add("critical", `Prohibited practice: ${p.rule.title}`, [p.rule.ref], "detected");
  }
  if (tier === "high") {
    for (const h of a.annexI) add("high", `High-risk: ${h.rule.title}`, [h.rule.ref], "detected");
    for (const h of a.annexIII) {
      add("high", `High-risk: ${h.rule.title}`, ["Art. 6(2)", h.rule.ref], "detected");
    }
  }
  for (const f of parts.flags) add(f.severity, f.title, f.articles, "detected");
  if (tier === "undetermined") {
    add(
      "medium",
      "Risk tier undetermined: decisions about people in an unnamed area",
      ["Art. 6(2)", "Annex III"],
      "review",
    );
    questions.push(...pack.questions.undetermined);
  }
  for (const o of parts.missing) {
    add(o.applies === "all" ? "low" : "medium", `No evidence of: ${o.title}`, [o.ref], "missing");
  }
  if (!a.excluded) {
    for (const c of pack.controls) {
      if (!parts.controls.has(c.id))
        add("low", `No evidence of: ${c.control}`, c.satisfies, "missing");
    }
  }
  if (a.exception.length > 0 && a.annexIII.length > 0) {
    if (a.exceptionApplies) {
      add(
        "info",
        "Art. 6(3) exception claimed: not high-risk if the assessment is documented",
        [...a.exception.map((e) => e.rule.ref), "Art. 6(4)", "Art. 49(2)"],
        "review",
      );
      questions.push(...pack.questions.exception);
    } else {
      add(
        "medium",
        "Art. 6(3) exception unavailable: the system profiles natural persons",
        ["Art. 6(3)"],
        "review",
      );
    }
  }
  if (tier !== "prohibited") {
    for (const g of a.gpai) add("info", g.rule.title, [g.rule.ref], "info");
  }
  for (const e of a.exclusions) {
    add(
      "info",
      `Outside the Act's scope: ${e.rule.title}`,
      [e.rule.ref],
      a.excluded ? "review" : "info",
    );
  }
  const special = (input.dataCategories ?? []).filter((c) =>
    SPECIAL_CATEGORY.test(c.toLowerCase()),
  );
  if (special.length > 0) {
    const handled = parts.controls.has(CONTROL_IDS.piiHandling);
    add(
      handled ? "info" : "medium",
      `Special-category or sensitive data: ${special.join(", ")}`,
      ["Art. 10(5)", "GDPR Art. 9"],
      handled ? "info" : "missing",
    );
  }
  if (tier === "high" && !a.role.known) questions.push(...pack.questions.role);
  if ((tier === "minimal" || tier === "limited") && !a.excluded && a.annexIII.length === 0) {
    // A sector is not a use: say which Annex III areas were mentioned, and that no listed use was.
    for (const h of a.areas) {
      add(
        "info",
        `${h.rule.title} mentioned, but no Annex III use described`,
        [h.rule.ref],
        "review",
      );
    }
  }
  const sorted = findings
    .map((f, i) => ({ f, i }))
    .sort((x, y) => SEVERITY_RANK[x.f.severity] - SEVERITY_RANK[y.f.severity] || x.i - y.i)
    .map(({ f }) => f);
  return { findings: sorted, questions: [...new Set(questions)] };
}

/** Scores an agent description against a rule pack; `now` only sets generated_at. */
export function scoreAgent(
  pack: Pack,
  input: ScoreInput,
  mode: ScoreMode,
  now: number,
): ScoreResult {
  const analysis = analyse(pack, input);
  const { tier, basis } = classify(analysis);
  const controls = evidencedControls(pack, analysis);
  const { obligations, missing } = obligationsOf(pack, analysis, tier, controls);
  const flags = redFlagsOf(pack, analysis, input, tier, controls);
  const { findings, questions } = findingsOf(pack, analysis, input, tier, {
    controls,
    missing,
    flags,
  });
  const missingControls = analysis.excluded ? [] : pack.controls.filter((c) => !controls.has(c.id));

  // Every missing obligation and control, and every red flag, costs its weight; the tier caps.
  const penalty =
    missing.reduce((sum, o) => sum + o.weight, 0) +
    missingControls.reduce((sum, c) => sum + c.weight, 0) +
    flags.reduce((sum, f) => sum + f.weight, 0);
  const score = Math.max(0, Math.min(pack.grading.tierCaps[tier], 100 - penalty));

  const full: ScoreResult = {
    grade: gradeOf(score, pack.grading.thresholds),
    score,
    risk_tier: tier,
    tier_basis: basis,
    findings,
    obligations,
    recommended_controls: missingControls.map((c) => ({
      control: c.control,
      satisfies: c.satisfies,
    })),
    open_questions: questions,
    capped: false,
    pack: pack.id,
    input_sha256: inputSha256(input),
    generated_at: new Date(now).toISOString(),
  };
  return mode === "free" ? capForFree(full, pack) : full;
}
