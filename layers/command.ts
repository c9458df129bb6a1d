import RE2 from "re2";
import { z } from "zod";
import { done, evidenceOf, RuleFileSchema, RuleSpecSchema } from "./rules.js";
import type { Facts, Finding, Layer, Severity, TextView } from "./types.js";

/**
 * Where a rule looks. The same text means different things depending on the action: `a; id`
 * is an injection inside a tool argument, `cd x && make` is ordinary shell use, and a page of
 * tool output that documents `rm -rf` is not a command at all.
 */
const SCOPES = [
  "command",
  "script",
  "code",
  "arg",
  "address",
  "decoded",
  "written",
  "sql",
] as const;
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
  /** "raw": match the text as sent, before escapes are decoded (for escape-spelled commands). */
  view: z.enum(["norm", "raw"]).optional(),
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
  /** Param keys of a message that end up on a mail command line and in its headers. */
  addressKeys: z.array(z.string().min(1)),
  /** Param keys of a message that only end up in its headers (the subject: prose). */
  headerKeys: z.array(z.string().min(1)),
  /** A written file whose path matches runs by itself later (hooks, shell start-up, units, CI). */
  autorunTargets: z.string().min(1),
  /** Environment variables that make a program load code (LD_PRELOAD, NODE_OPTIONS…). */
  hijackEnvKeys: z.array(z.string().min(1)),
  /** A value of one of them that points at a temporary or hidden file or a command. */
  hijackEnvValue: z.string().min(1),
  /** First tokens of action names that wrap a CLI (kubectl_delete, aws_cli, git_push). */
  cliActions: z.array(z.string().regex(/^[a-z0-9]+$/)),
  /** Param keys of such an action that hold prose (a commit message), not arguments. */
  proseKeys: z.array(z.string().min(1)),
  /** Words in such an action's name that are not part of the command (aws_cli, run_kubectl). */
  cliFillerTokens: z.array(z.string().min(1)),
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
/** A message target longer than this is not an address list. */
const MAX_ADDRESS_CHARS = 1_000;
/** The command line rebuilt for a CLI-wrapping action is cut here. */
const MAX_CLI_LINE_CHARS = 16_384;

/**
 * Layer 4: shell and code execution. Finds injected second commands in tool arguments and
 * shell commands, destructive commands, download-and-execute, reverse shells, privilege
 * escalation and hostile code in code_exec content, in the decoded and normalised text.
 */
export function createCommandLayer(input: unknown): Layer {
  const data = CommandDataSchema.parse(input);
  const macros = data.macros;

  // Rules on the text as sent live in their own sets, keyed `scope:raw`.
  const byScope = new Map<string, { patterns: string[]; rules: CompiledRule[] }>();
  for (const spec of data.rules) {
    const raw = spec.view === "raw";
    // The text as sent keeps its case: raw rules ignore it themselves.
    const source = `${raw ? "(?i)" : ""}${expand(spec.pattern, macros, spec.id)}`;
    const compiled: CompiledRule = {
      spec,
      re: compile(source, spec.id),
      skip: spec.skipIf ? compile(expand(spec.skipIf, macros, spec.id), `${spec.id}.skipIf`) : null,
      downgrade: spec.downgradeIf
        ? compile(expand(spec.downgradeIf, macros, spec.id), `${spec.id}.downgradeIf`)
        : null,
    };
    for (const scope of spec.scopes) {
      const key = raw ? `${scope}:raw` : scope;
      const bucket = byScope.get(key) ?? { patterns: [], rules: [] };
      bucket.patterns.push(source);
      bucket.rules.push(compiled);
      byScope.set(key, bucket);
    }
  }
  const groups = new Map<string, readonly ScopeGroup[]>();
  for (const [key, bucket] of byScope) {
    groups.set(key, buildSets(bucket.patterns, bucket.rules, key));
  }
  const rawGroups = new Map<Scope, readonly ScopeGroup[]>();
  for (const scope of SCOPES) {
    const g = groups.get(`${scope}:raw`);
    if (g !== undefined) rawGroups.set(scope, g);
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
  const addressKeys = new Set(data.addressKeys.map((k) => k.toLowerCase()));
  const headerKeys = new Set(data.headerKeys.map((k) => k.toLowerCase()));
  const autorun = compile(expand(data.autorunTargets, macros, "autorunTargets"), "autorunTargets");
  const hijackKeys = new Set(data.hijackEnvKeys.map((k) => k.toLowerCase()));
  const cliActions = new Set(data.cliActions);
  const proseKeys = new Set(data.proseKeys.map((k) => k.toLowerCase()));
  const cliFiller = new Set(data.cliFillerTokens);
  const hijackValue = compile(
    expand(data.hijackEnvValue, macros, "hijackEnvValue"),
    "hijackEnvValue",
  );

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

  function runGroups(
    list: readonly ScopeGroup[],
    subject: Buffer | string,
    listKey: boolean,
    found: Finding[],
  ): void {
    for (const group of list) {
      if (!group.set.test(subject)) continue;
      for (const index of group.set.match(subject)) {
        const rule = group.rules[index]!;
        const spec = rule.spec;
        if (listKey && spec.skipListKeys === true) continue;
        if (rule.skip?.test(subject)) continue;
        const match = typeof subject === "string" ? rule.re.exec(subject) : rule.re.exec(subject);
        const text = match === null ? "" : String(match[0]);
        if (spec.severity === "BLOCK" && rule.downgrade?.test(subject)) {
          push(found, spec.id, "WARN", Math.min(spec.confidence, 0.6), spec.message, text);
        } else {
          push(found, spec.id, spec.severity, spec.confidence, spec.message, text);
        }
      }
    }
  }

  /** Runs one scope's rules over one piece of text. */
  function scan(scope: Scope, view: TextView, key: string | null, found: Finding[]): void {
    const buf = view.buf;
    if (buf.length === 0) return;
    const listKey = key !== null && listKeys.has(key.toLowerCase());
    runGroups(groups.get(scope) ?? NO_GROUPS, buf, listKey, found);
    // Raw rules exist for escapes (\x63, \143) the normalised text has decoded: without a
    // backslash there is nothing for them to see.
    const raw = rawGroups.get(scope);
    if (raw !== undefined && view.raw.includes("\\")) runGroups(raw, view.raw, listKey, found);
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
      // An environment map handed to a tool: {"LD_PRELOAD": "/tmp/.x.so"}.
      if (hijackKeys.has(key) && p.value.buf.length > 0 && hijackValue.test(p.value.buf)) {
        push(
          found,
          "LIBRARY_INJECTION",
          "BLOCK",
          0.85,
          "A loader or runtime hook variable loads code from a temporary or hidden file or runs a command",
          `${p.key}=${p.value.norm}`,
        );
      }
      const scope: Scope = commandKeys.has(key) ? "command" : codeKeys.has(key) ? "code" : "arg";
      scan(scope, p.value, p.key, found);
    }
  }

  /** The sender, recipients and subject of a message, as mail command-line arguments. */
  function scanAddresses(facts: Facts, found: Finding[]): void {
    if (facts.target.raw.length <= MAX_ADDRESS_CHARS) {
      scan("address", facts.target, null, found);
      scan("arg", facts.target, null, found);
    }
    for (const p of facts.paramStrings) {
      const key = p.key.toLowerCase();
      if (addressKeys.has(key)) {
        scan("address", p.value, p.key, found);
        scan("arg", p.value, p.key, found);
      } else if (headerKeys.has(key)) scan("address", p.value, p.key, found);
    }
  }

  /**
   * An unknown action named after a CLI hands its arguments to that CLI: `kubectl_delete`
   * {resource: "namespace", name: "production"} runs `kubectl delete namespace production`.
   * The line is rebuilt from the action's name, target and argument values and judged as a
   * command. Prose params (a commit message) are left out.
   */
  function scanCliLine(facts: Facts, found: Finding[]): void {
    const tokens = facts.actionName.split("_").filter((t) => !cliFiller.has(t));
    if (!cliActions.has(tokens[0] ?? "")) return;
    const name = tokens.join(" ");
    const raw: string[] = [name];
    const norm: string[] = [name];
    let length = norm[0]!.length;
    const add = (view: TextView) => {
      if (view.raw === "" || length > MAX_CLI_LINE_CHARS) return;
      raw.push(view.raw);
      norm.push(view.norm);
      length += view.norm.length + 1;
    };
    add(facts.target);
    for (const p of facts.paramStrings) if (!proseKeys.has(p.key.toLowerCase())) add(p.value);
    if (norm.length === 1) return;
    const line = norm.join(" ").slice(0, MAX_CLI_LINE_CHARS);
    scan(
      "command",
      { raw: raw.join(" ").slice(0, MAX_CLI_LINE_CHARS), norm: line, buf: Buffer.from(line) },
      null,
      found,
    );
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
        // A message body describes, it does not run; but its sender, recipients and subject
        // may be handed to a mail command line (sendmail -X) or written into its headers.
        case "message": {
          scanAddresses(facts, found);
          return done(found);
        }
        // Text that describes commands is not a command: prompts and tool output belong to
        // the injection layers.
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
          // Hooks, shell start-up files, units and CI files run by themselves: judge them as
          // the scripts they are.
          if (facts.target.buf.length > 0 && autorun.test(facts.target.buf)) {
            scan("script", facts.content, null, found);
          }
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
          if (facts.kind === "other") scanCliLine(facts, found);
        }
      }
      return done(found);
    },
  };
}
