import RE2 from "re2";
import { z } from "zod";
import {
  type ActionKind,
  type Facts,
  type Finding,
  type LayerName,
  NO_FINDINGS,
  type Severity,
  type Source,
  type TextView,
} from "./types.js";

export const ACTION_KINDS = [
  "file_read",
  "file_write",
  "file_delete",
  "shell",
  "code_exec",
  "http",
  "sql",
  "message",
  "payment",
  "llm_prompt",
  "tool_output",
  "other",
] as const satisfies readonly ActionKind[];

export const SOURCES = [
  "user",
  "tool_output",
  "web",
  "file",
  "agent",
] as const satisfies readonly Source[];

export const FIELDS = ["action", "target", "content", "params", "decoded", "all"] as const;
export type FieldName = (typeof FIELDS)[number];

/** Checks an RE2 pattern compiles, so a bad data file stops start-up with the rule's id. */
function compiles(pattern: string): boolean {
  try {
    new RE2(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

/** One pattern rule as written in a data file. */
export const RuleSpecSchema = z.strictObject({
  id: z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: "must be SCREAMING_SNAKE" }),
  severity: z.enum(["BLOCK", "WARN"]),
  confidence: z.number().min(0).max(1),
  message: z.string().min(1),
  /** RE2 syntax. Matched against the normalised (decoded, lower-case) text unless view is raw. */
  pattern: z.string().min(1).refine(compiles, { message: "is not a valid RE2 pattern" }),
  fields: z.array(z.enum(FIELDS)).min(1).optional(),
  view: z.enum(["norm", "raw"]).optional(),
  kinds: z.array(z.enum(ACTION_KINDS)).min(1).optional(),
  notKinds: z.array(z.enum(ACTION_KINDS)).min(1).optional(),
  sources: z.array(z.enum(SOURCES)).min(1).optional(),
  /** Mask the evidence (secrets): only a short prefix and the length are shown. */
  redact: z.boolean().optional(),
  $comment: z.string().optional(),
});

export type RuleSpec = z.infer<typeof RuleSpecSchema>;

/** A data file of pattern rules, with optional extra sections a layer validates itself. */
export const RuleFileSchema = z.object({
  $comment: z.string().optional(),
  rules: z.array(RuleSpecSchema),
});

type CompiledRule = Readonly<{
  spec: RuleSpec;
  re: RE2;
  kinds: ReadonlySet<ActionKind> | null;
  notKinds: ReadonlySet<ActionKind> | null;
  sources: ReadonlySet<Source> | null;
}>;

type RE2Set = InstanceType<typeof RE2.Set>;

type Group = Readonly<{
  field: FieldName;
  raw: boolean;
  set: RE2Set;
  rules: readonly CompiledRule[];
}>;

const EVIDENCE_MAX = 120;

/** Clips evidence to 120 characters; secrets keep only four characters and their length. */
export function evidenceOf(text: string, redact = false): string {
  const flat = text.replaceAll("\n", " ").trim();
  if (redact) return `${flat.slice(0, 4)}…(${flat.length} chars)`;
  return flat.length > EVIDENCE_MAX ? `${flat.slice(0, EVIDENCE_MAX - 1)}…` : flat;
}

function viewsOf(facts: Facts, field: FieldName): readonly TextView[] {
  switch (field) {
    case "action":
      return [facts.action];
    case "target":
      return [facts.target];
    case "content":
      return [facts.content];
    case "params":
      return [facts.paramsText];
    case "decoded":
      return facts.decoded;
    case "all":
      return [facts.all];
  }
}

function applies(rule: CompiledRule, facts: Facts): boolean {
  if (rule.kinds !== null && !rule.kinds.has(facts.kind)) return false;
  if (rule.notKinds?.has(facts.kind)) return false;
  if (rule.sources !== null && !rule.sources.has(facts.source)) return false;
  return true;
}

export type RuleMatcher = (facts: Facts, found?: Finding[]) => Finding[];

/**
 * Compiles pattern rules once: per (field, view) one RE2.Set answers "does anything match"
 * in a single pass; only on a hit are the matching rules run alone, for their evidence.
 */
export function compileRules(layer: LayerName, specs: readonly RuleSpec[]): RuleMatcher {
  const buckets = new Map<string, { field: FieldName; raw: boolean; rules: CompiledRule[] }>();
  for (const spec of specs) {
    const compiled: CompiledRule = {
      spec,
      re: new RE2(spec.pattern, "u"),
      kinds: spec.kinds ? new Set(spec.kinds) : null,
      notKinds: spec.notKinds ? new Set(spec.notKinds) : null,
      sources: spec.sources ? new Set(spec.sources) : null,
    };
    for (const field of spec.fields ?? ["all"]) {
      const raw = spec.view === "raw";
      const key = `${field}:${raw}`;
      const bucket = buckets.get(key) ?? { field, raw, rules: [] };
      bucket.rules.push(compiled);
      buckets.set(key, bucket);
    }
  }
  const groups: Group[] = [...buckets.values()].map((b) => ({
    ...b,
    set: new RE2.Set(
      b.rules.map((r) => r.spec.pattern),
      "u",
    ),
  }));

  return (facts, found = []) => {
    let seen: Set<string> | null = null;
    for (const group of groups) {
      for (const v of viewsOf(facts, group.field)) {
        const subject: string | Buffer = group.raw ? v.raw : v.buf;
        if (subject.length === 0 || !group.set.test(subject)) continue;
        for (const index of group.set.match(subject)) {
          const rule = group.rules[index]!;
          if (!applies(rule, facts)) continue;
          seen ??= new Set(found.map((f) => f.code));
          if (seen.has(rule.spec.id)) continue;
          seen.add(rule.spec.id);
          const match = typeof subject === "string" ? rule.re.exec(subject) : rule.re.exec(subject);
          const text = match === null ? "" : String(match[0]);
          found.push({
            layer,
            code: rule.spec.id,
            severity: rule.spec.severity as Severity,
            confidence: rule.spec.confidence,
            message: rule.spec.message,
            evidence: evidenceOf(text, rule.spec.redact === true),
          });
        }
      }
    }
    return found;
  };
}

/** Returns the shared empty array when nothing was found, so "clean" allocates nothing. */
export function done(found: Finding[]): readonly Finding[] {
  return found.length === 0 ? NO_FINDINGS : found;
}
