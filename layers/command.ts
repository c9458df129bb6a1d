import RE2 from "re2";
import { z } from "zod";
import { done, evidenceOf, RuleFileSchema, RuleSpecSchema } from "./rules.js";
import type { Facts, Finding, Layer, Severity, TextView } from "./types.js";

/**
 * Where a rule looks. The same text means different things depending on the action: `a; id`
 * is an injection inside a tool argument, `cd x && make` is ordinary shell use, and a page of
 * tool output that documents `rm -rf` is not a command at all.
 */
const SCOPES = ["command", "script", "code", "arg", "decoded", "written", "sql"] as const;
type Scope = (typeof SCOPES)[number];

const CommandRuleSchema = RuleSpecSchema.omit({
  pattern: true,
  fields: true,
  view: true,
  kinds: true,
  notKinds: true,
  sources: true,
}).extend({
  /** RE2 on the normalised text, with {MACRO} references expanded at start-up. */
  pattern: z.string().min(1),
  scopes: z.array(z.enum(SCOPES)).min(1),
  /** When this also matches the same text, the rule does not apply (a known benign form). */
  skipIf: z.string().min(1).optional(),
  /** When this also matches the same text, the finding is only a WARN. */
  downgradeIf: z.string().min(1).optional(),
  /** Skip param values whose key names a list or pattern (`fields: "name|id"`). */
  skipListKeys: z.boolean().optional(),
});

type CommandRule = z.infer<typeof CommandRuleSchema>;

/** data/command.json: macros, scoped pattern rules and the lists the layer's logic uses. */
export const CommandDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  /** `{NAME}` in a pattern becomes the macro's text; an array becomes an alternation. */
  macros: z.record(
    z.string().regex(/^[A-Z]+$/),
    z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  ),
  rules: z.array(CommandRuleSchema).min(1),
  /** Command names that, split by quotes or backslashes (w'h'o'am'i), are an evasion. */
  splitWords: z.array(z.string().regex(/^[a-z0-9]{3,}$/)).min(1),
  /** Files a file_write must not target: they grant root or run code as root. */
  privilegedTargets: z.array(z.string().min(1)).min(1),
  /** Anchored patterns for a file_delete target: critical → BLOCK, system → WARN. */
  deleteTarget: z.strictObject({ critical: z.string().min(1), system: z.string().min(1) }),
  /** Written files with these extensions are documentation, not code that will run. */
  docExtensions: z.array(z.string().regex(/^\.[a-z0-9]+$/)).min(1),
  /** Param keys whose value is a shell command: judged as a command, not as an argument. */
  commandKeys: z.array(z.string().min(1)),
  /** Param keys whose value is source code: judged by what the code does. */
  codeKeys: z.array(z.string().min(1)),
  /** Param keys whose value is a list or pattern (`fields: "name|id"`). */
  listKeys: z.array(z.string().min(1)),
});

export type CommandData = z.infer<typeof CommandDataSchema>;

type Macros = CommandData["macros"];

const MACRO = /\{([A-Z]+)\}/g;
const MAX_MACRO_DEPTH = 6;

function expand(pattern: string, macros: Macros, where: string, depth = 0): string {
  if (depth > MAX_MACRO_DEPTH) throw new TypeError(`command: macros nest too deep in ${where}`);
  return pattern.replace(MACRO, (_, name: string) => {
    const body = macros[name];
    if (body === undefined) throw new TypeError(`command: unknown macro {${name}} in ${where}`);
    const text = typeof body === "string" ? body : body.join("|");
    return `(?:${expand(text, macros, `${where} > {${name}}`, depth + 1)})`;
  });
}

function compile(source: string, where: string): RE2 {
  try {
    return new RE2(source, "u");
  } catch (error) {
    throw new TypeError(`command: invalid RE2 pattern in ${where}: ${String(error)}`);
  }
}

type CompiledRule = Readonly<{
  spec: CommandRule;
  re: RE2;
  skip: RE2 | null;
  downgrade: RE2 | null;
}>;

type ScopeGroup = Readonly<{
  set: InstanceType<typeof RE2.Set>;
  rules: readonly CompiledRule[];
}>;

const NO_GROUPS: readonly ScopeGroup[] = [];

/**
 * Each command name with a quote, backslash, caret or `$@` inside it (w'h'o'am'i, c\\at). One
 * alternative per split position, so at least one splitter is required and a plain `curl`
 * never matches. Compiled on its own: inside an RE2.Set it would exceed the set's memory.
 */
function splitWordsPattern(words: readonly string[]): string {
  const splitter = `(?:['"\\\\^]|\\$@)`;
  const alternatives: string[] = [];
  for (const word of words) {
    for (let cut = 1; cut < word.length; cut++) {
      let alt = "";
      for (let i = 0; i < word.length; i++) {
        alt += word[i];
        if (i === word.length - 1) break;
        alt += i === cut - 1 ? `${splitter}+` : `${splitter}*`;
      }
      alternatives.push(alt);
    }
  }
  return `(?:^|[^a-z0-9_])(?:${alternatives.join("|")})(?:$|[^a-z0-9_])`;
}

/**
 * One RE2.Set per scope answers "does any rule match" in one pass. A set has a fixed memory
 * budget, so a scope whose rules do not fit is split in halves: two passes instead of one.
 */
function buildSets(
  patterns: readonly string[],
  rules: readonly CompiledRule[],
  scope: string,
): ScopeGroup[] {
  try {
    return [{ set: new RE2.Set(patterns, "u"), rules }];
  } catch (error) {
    if (patterns.length <= 1) {
      throw new TypeError(`command: rule ${rules[0]?.spec.id} does not fit an RE2.Set (${scope})`, {
        cause: error,
      });
    }
    const half = Math.ceil(patterns.length / 2);
    return [
      ...buildSets(patterns.slice(0, half), rules.slice(0, half), scope),
      ...buildSets(patterns.slice(half), rules.slice(half), scope),
    ];
  }
}

const LAYER = "command";

/**
 * Layer 4: shell and code execution. Finds injected second commands in tool arguments and
 * shell commands, destructive commands, download-and-execute, reverse shells, privilege
 * escalation and hostile code in code_exec content, in the decoded and normalised text.
 */
export function createCommandLayer(input: unknown): Layer {
  const data = CommandDataSchema.parse(input);
  const macros = data.macros;

  const byScope = new Map<Scope, { patterns: string[]; rules: CompiledRule[] }>();
  for (const spec of data.rules) {
    const source = expand(spec.pattern, macros, spec.id);
    const compiled: CompiledRule = {
      spec,
      re: compile(source, spec.id),
      skip: spec.skipIf ? compile(expand(spec.skipIf, macros, spec.id), `${spec.id}.skipIf`) : null,
      downgrade: spec.downgradeIf
        ? compile(expand(spec.downgradeIf, macros, spec.id), `${spec.id}.downgradeIf`)
        : null,
    };
    for (const scope of spec.scopes) {
      const bucket = byScope.get(scope) ?? { patterns: [], rules: [] };
      bucket.patterns.push(source);
      bucket.rules.push(compiled);
      byScope.set(scope, bucket);
    }
  }
  const groups = new Map<Scope, readonly ScopeGroup[]>();
  for (const [scope, bucket] of byScope) {
    groups.set(scope, buildSets(bucket.patterns, bucket.rules, scope));
  }

  const splitWords = compile(splitWordsPattern(data.splitWords), "splitWords");
  const splitScopes: ReadonlySet<Scope> = new Set<Scope>(["command", "script", "arg", "decoded"]);
  const privileged = compile(
    `^\\s*['"]?(?:${data.privilegedTargets.map((p, i) => expand(p, macros, `privilegedTargets[${i}]`)).join("|")})['"]?\\s*$`,
    "privilegedTargets",
  );
  const deleteCritical = compile(
    expand(data.deleteTarget.critical, macros, "deleteTarget"),
    "deleteTarget.critical",
  );
  const deleteSystem = compile(
    expand(data.deleteTarget.system, macros, "deleteTarget"),
    "deleteTarget.system",
  );
  const docExtensions = data.docExtensions;
  const listKeys = new Set(data.listKeys.map((k) => k.toLowerCase()));
  const commandKeys = new Set(data.commandKeys.map((k) => k.toLowerCase()));
  const codeKeys = new Set(data.codeKeys.map((k) => k.toLowerCase()));

  function push(
    found: Finding[],
    code: string,
    severity: Severity,
    confidence: number,
    message: string,
    evidence: string,
  ): void {
    for (const f of found) if (f.code === code) return;
    found.push({
      layer: LAYER,
      code,
      severity,
      confidence,
      message,
      evidence: evidenceOf(evidence),
    });
  }

  /** Runs one scope's rules over one piece of text. */
  function scan(scope: Scope, view: TextView, key: string | null, found: Finding[]): void {
    const buf = view.buf;
    if (buf.length === 0) return;
    for (const group of groups.get(scope) ?? NO_GROUPS) {
      if (!group.set.test(buf)) continue;
      const listKey = key !== null && listKeys.has(key.toLowerCase());
      for (const index of group.set.match(buf)) {
        const rule = group.rules[index]!;
        const spec = rule.spec;
        if (listKey && spec.skipListKeys === true) continue;
        if (rule.skip?.test(buf)) continue;
        const match = rule.re.exec(buf);
        const text = match === null ? "" : String(match[0]);
        if (spec.severity === "BLOCK" && rule.downgrade?.test(buf)) {
          push(found, spec.id, "WARN", Math.min(spec.confidence, 0.6), spec.message, text);
        } else {
          push(found, spec.id, spec.severity, spec.confidence, spec.message, text);
        }
      }
    }
    if (splitScopes.has(scope) && splitWords.test(buf)) {
      const match = splitWords.exec(buf);
      push(
        found,
        "CMD_SPLIT_OBFUSCATION",
        "BLOCK",
        0.85,
        "A command name is broken up with quotes or backslashes to evade filters",
        match === null ? "" : String(match[0]),
      );
    }
  }

  function scanParams(scope: Scope, facts: Facts, found: Finding[]): void {
    for (const p of facts.paramStrings) scan(scope, p.value, p.key, found);
  }

  /**
   * Arguments of other tools: a `command` param is a shell command and a `code` param is
   * source code, judged as such; anything else is an argument value.
   */
  function scanArgs(facts: Facts, found: Finding[]): void {
    for (const p of facts.paramStrings) {
      const key = p.key.toLowerCase();
      const scope: Scope = commandKeys.has(key) ? "command" : codeKeys.has(key) ? "code" : "arg";
      scan(scope, p.value, p.key, found);
    }
  }

  function scanDecoded(facts: Facts, found: Finding[]): void {
    for (const d of facts.decoded) scan("decoded", d, null, found);
  }

  function isDocumentation(target: string): boolean {
    for (const ext of docExtensions) if (target.endsWith(ext)) return true;
    return false;
  }

  return {
    name: LAYER,
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const found: Finding[] = [];
      switch (facts.kind) {
        // Text that describes commands is not a command: prompts, messages and tool output
        // belong to the injection layers.
        case "message":
        case "llm_prompt":
        case "tool_output":
          return done(found);
        case "shell": {
          scan("command", facts.target, null, found);
          // A multi-line body is a script: newlines separate commands there by design.
          scan(facts.content.raw.includes("\n") ? "script" : "command", facts.content, null, found);
          scanParams("command", facts, found);
          scanDecoded(facts, found);
          break;
        }
        case "code_exec": {
          scan("code", facts.target, null, found);
          scan("code", facts.content, null, found);
          scanParams("code", facts, found);
          scanDecoded(facts, found);
          break;
        }
        case "sql": {
          scan("sql", facts.content, null, found);
          scan("sql", facts.target, null, found);
          break;
        }
        case "file_write": {
          scan("arg", facts.target, null, found);
          scanArgs(facts, found);
          if (!isDocumentation(facts.target.norm)) scan("written", facts.content, null, found);
          scanDecoded(facts, found);
          if (facts.target.buf.length > 0 && privileged.test(facts.target.buf)) {
            push(
              found,
              "PRIVESC_SYSTEM_FILE_WRITE",
              "BLOCK",
              0.9,
              "The write targets a file that grants root or runs code as root",
              facts.target.norm,
            );
          }
          break;
        }
        case "file_delete": {
          scan("arg", facts.target, null, found);
          scanArgs(facts, found);
          scanDecoded(facts, found);
          const target = facts.target.buf;
          if (target.length > 0) {
            if (deleteCritical.test(target)) {
              push(
                found,
                "DESTRUCTIVE_DELETE_CRITICAL",
                "BLOCK",
                0.95,
                "Deletes the root, a system directory, a home directory or service data",
                facts.target.norm,
              );
            } else if (deleteSystem.test(target)) {
              push(
                found,
                "DESTRUCTIVE_DELETE_SYSTEM",
                "WARN",
                0.6,
                "Deletes a file inside a system directory",
                facts.target.norm,
              );
            }
          }
          break;
        }
        default: {
          scan("arg", facts.target, null, found);
          scanArgs(facts, found);
          scanDecoded(facts, found);
        }
      }
      return done(found);
    },
  };
}
