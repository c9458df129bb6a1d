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
  /** An action-name word that stands for a CLI under another name (azure → az). */
  cliAliases: z.record(z.string().regex(/^[a-z0-9]+$/), z.string().min(1)),
  /** Param keys naming the program a tool runs, besides the command keys (`program`, `exe`). */
  programKeys: z.array(z.string().min(1)),
  /** Param keys holding that program's argument vector (`args: ["-F", "/dev/sda"]`). */
  argvKeys: z.array(z.string().min(1)),
  /** An unknown tool named for destroying a data container, judged by the data it names. */
  destroyAction: z.strictObject({
    $comment: z.string().optional(),
    verbs: z.array(z.string().regex(/^[a-z0-9]+$/)).min(1),
    nouns: z.array(z.string().regex(/^[a-z0-9]+$/)).min(1),
    /** A name of production, backup, customer or finance data. */
    dataPattern: z.string().min(1),
  }),
  /** Questions sent to a web or knowledge search engine: read, never run. */
  webQuery: z.strictObject({
    $comment: z.string().optional(),
    /** Words of an action name that name such an engine (web_search, google_search). */
    actionTokens: z.array(z.string().regex(/^[a-z0-9]+$/)).min(1),
    /** Param keys holding the question. */
    keys: z.array(z.string().min(1)).min(1),
  }),
  /**
   * Words of an unknown action's name that say its content is installed or run (crontab_edit,
   * schedule_job, run_snippet): that content is judged by the rules for written code.
   */
  runContentTokens: z.array(z.string().regex(/^[a-z0-9]+$/)).min(1),
  /** An encoded PowerShell command is judged by its decoded script, not by the encoding. */
  encodedCommand: z.strictObject({
    /** The rule that finds `-EncodedCommand <base64>`. */
    rule: z.string().min(1),
    /** A decoded script that only reads and formats (Get-*, Measure-*, Select-*). */
    harmlessScript: z.string().min(1),
  }),
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
const EMPTY_BUF = Buffer.alloc(0);

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
/** An argument vector longer than this many elements is cut (hostile input). */
const MAX_ARGV = 256;

/** `args[3]` → `args`: the array a param string is an element of, or null for a scalar. */
function arrayOf(path: string): string | null {
  if (!path.endsWith("]")) return null;
  const open = path.lastIndexOf("[");
  return open > 0 ? path.slice(0, open) : null;
}

type Argv = { key: string; raw: string[]; norm: string[] };

/** A param value and its key, judged in one scope. */
type Item = Readonly<{ view: TextView; key: string | null }>;
/** From this many values on, a scope's values are prefiltered joined (see scanMany). */
const JOIN_MIN_VALUES = 12;
const SPLIT_MESSAGE = "A command name is broken up with quotes or backslashes to evade filters";

/** A quoted span longer than this is not a quotation (an unbalanced quote). */
const MAX_QUOTE_CHARS = 600;
/** Words outside the quotes that make a text prose about what it quotes. */
const MIN_PROSE_WORDS = 5;
/** Prose longer than this is not worth the rewrite: judged whole. */
const MAX_PROSE_CHARS = 16_384;

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c > 127;
}

/**
 * Mention, not use: prose that quotes a command (a ticket describing `curl … | sh`, a
 * translation of 'never run rm -rf /') talks about it. Returns the text with every quoted or
 * backticked span blanked out when at least one span exists and the rest is prose (five words
 * or more); null when the text is not such prose and must be judged whole. A quote opens after
 * a non-word character and closes before one, so the apostrophe of "root's" opens nothing.
 */
export function outsideQuotes(text: string): string | null {
  if (text.length > MAX_PROSE_CHARS) return null;
  let out = "";
  let last = 0;
  let spans = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 96 && c !== 34 && c !== 39) continue;
    if (c !== 96 && i > 0 && isWordChar(text.charCodeAt(i - 1))) continue;
    // A run of backticks (a code fence) closes with the same run.
    let run = 1;
    while (c === 96 && text.charCodeAt(i + run) === 96) run++;
    const fence = text.slice(i, i + run);
    let close = text.indexOf(fence, i + run);
    while (
      close >= 0 &&
      c !== 96 &&
      close + 1 < text.length &&
      isWordChar(text.charCodeAt(close + 1))
    ) {
      close = text.indexOf(fence, close + 1);
    }
    if (close < 0 || close - i > (run > 1 ? MAX_PROSE_CHARS : MAX_QUOTE_CHARS)) continue;
    out += `${text.slice(last, i)} `;
    last = close + run;
    i = last - 1;
    spans++;
  }
  if (spans === 0) return null;
  out += text.slice(last);
  let words = 0;
  let letters = 0;
  for (let i = 0; i <= out.length; i++) {
    const c = i < out.length ? out.charCodeAt(i) : 32;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c > 127) letters++;
    else {
      if (letters >= 2 && (c === 32 || c === 10 || c === 44 || c === 46 || c === 58)) words++;
      letters = 0;
    }
  }
  return words >= MIN_PROSE_WORDS ? out : null;
}

/** Code punctuation that prose outside its quotes hardly uses. */
const CODE_MARKS = new Set([";", "(", ")", "{", "}", "=", "|", "&", "<", ">", "$", "[", "]"]);
/** More code punctuation than this outside the quotes: the text is code, not prose. */
const MAX_PROSE_MARKS = 3;

/** True when text (already without its quoted spans) reads as prose rather than code. */
function isProse(text: string): boolean {
  let marks = 0;
  for (const c of text) if (CODE_MARKS.has(c) && ++marks > MAX_PROSE_MARKS) return false;
  return true;
}

/** Scopes the content of an unknown tool that runs it is judged in (a script, code). */
const RUN_SCOPES: readonly Scope[] = ["script", "code", "written"];

/** The words of an action name, split at anything but a lower-case letter or a digit. */
export function wordsOfName(name: string): string[] {
  const words: string[] = [];
  let start = 0;
  for (let i = 0; i <= name.length && words.length < 16; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) continue;
    if (i > start) words.push(name.slice(start, i));
    start = i + 1;
  }
  return words;
}

/** A view of words joined by spaces (an argument vector read as a command line). */
function joinedView(raw: readonly string[], norm: readonly string[]): TextView {
  const line = norm.join(" ").slice(0, MAX_CLI_LINE_CHARS);
  return { raw: raw.join(" ").slice(0, MAX_CLI_LINE_CHARS), norm: line, buf: Buffer.from(line) };
}

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
  // The same rules in multi-line mode, for many param values joined by newlines: `^` and `$`
  // then also match at each value's edges, so whatever matches one value matches the join.
  const joinedGroups = new Map<string, readonly ScopeGroup[]>();
  for (const [key, bucket] of byScope) {
    groups.set(key, buildSets(bucket.patterns, bucket.rules, key));
    joinedGroups.set(
      key,
      buildSets(
        bucket.patterns.map((p) => `(?m)${p}`),
        bucket.rules,
        `${key}:joined`,
      ),
    );
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
  const cliAliases = new Map(Object.entries(data.cliAliases));
  const programKeys = new Set(
    [...data.programKeys, ...data.commandKeys].map((k) => k.toLowerCase()),
  );
  const argvKeys = new Set(data.argvKeys.map((k) => k.toLowerCase()));
  const destroyVerbs = new Set(data.destroyAction.verbs);
  const destroyNouns = new Set(data.destroyAction.nouns);
  const destroyData = compile(
    expand(data.destroyAction.dataPattern, macros, "destroyAction"),
    "destroyAction",
  );
  const webTokens = new Set(data.webQuery.actionTokens);
  const webKeys = new Set(data.webQuery.keys.map((k) => k.toLowerCase()));
  const runContentTokens = new Set(data.runContentTokens);
  const encodedRule = data.encodedCommand.rule;
  const harmlessScript = compile(data.encodedCommand.harmlessScript, "encodedCommand");
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
        if (!hasCode(found, rule.spec.id)) runRule(rule, subject, listKey, found);
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
        SPLIT_MESSAGE,
        match === null ? "" : String(match[0]),
      );
    }
  }

  /** One rule on one text; true when it produced (or had already produced) its finding. */
  function runRule(
    rule: CompiledRule,
    subject: Buffer | string,
    listKey: boolean,
    found: Finding[],
  ): boolean {
    const spec = rule.spec;
    if (listKey && spec.skipListKeys === true) return false;
    const match = typeof subject === "string" ? rule.re.exec(subject) : rule.re.exec(subject);
    if (match === null || rule.skip?.test(subject)) return false;
    const text = String(match[0]);
    if (spec.severity === "BLOCK" && rule.downgrade?.test(subject)) {
      push(found, spec.id, "WARN", Math.min(spec.confidence, 0.6), spec.message, text);
    } else {
      push(found, spec.id, spec.severity, spec.confidence, spec.message, text);
    }
    return true;
  }

  function hasCode(found: readonly Finding[], code: string): boolean {
    for (const f of found) if (f.code === code) return true;
    return false;
  }

  /**
   * Many values, one scope. Judged one by one, 1,500 params cost 1,500 passes of every set
   * (hostile input), so the values are joined by newlines and the multi-line sets tell in one
   * pass which rules can match anywhere. Only those rules then run over the values, in order,
   * until one value really matches (a join can create matches across two values: each
   * candidate is confirmed on a single value). Same findings as judging each value alone.
   */
  function scanMany(scope: Scope, items: readonly Item[], found: Finding[]): void {
    if (items.length < JOIN_MIN_VALUES) {
      for (const it of items) scan(scope, it.view, it.key, found);
      return;
    }
    const listKey = items.map((it) => it.key !== null && listKeys.has(it.key.toLowerCase()));
    const confirm = (rule: CompiledRule, raw: boolean) => {
      if (hasCode(found, rule.spec.id)) return;
      for (let i = 0; i < items.length; i++) {
        const view = items[i]!.view;
        if (view.buf.length === 0) continue;
        if (raw && !view.raw.includes("\\")) continue;
        if (runRule(rule, raw ? view.raw : view.buf, listKey[i]!, found)) return;
      }
    };
    const joined = Buffer.from(items.map((it) => it.view.norm).join("\n"));
    for (const group of joinedGroups.get(scope) ?? NO_GROUPS) {
      for (const index of group.set.match(joined)) confirm(group.rules[index]!, false);
    }
    const rawItems = items.filter((it) => it.view.raw.includes("\\"));
    if (rawItems.length > 0) {
      const rawJoined = rawItems.map((it) => it.view.raw).join("\n");
      for (const group of joinedGroups.get(`${scope}:raw`) ?? NO_GROUPS) {
        for (const index of group.set.match(rawJoined)) confirm(group.rules[index]!, true);
      }
    }
    if (splitScopes.has(scope) && splitWords.test(joined)) {
      for (const it of items) {
        if (it.view.buf.length === 0) continue;
        const match = splitWords.exec(it.view.buf);
        if (match === null) continue;
        push(found, "CMD_SPLIT_OBFUSCATION", "BLOCK", 0.85, SPLIT_MESSAGE, String(match[0]));
        break;
      }
    }
  }

  function scanParams(scope: Scope, facts: Facts, found: Finding[]): void {
    scanMany(
      scope,
      facts.paramStrings.map((p) => ({ view: p.value, key: p.key })),
      found,
    );
  }

  /**
   * Arguments of other tools: a `command` param is a shell command and a `code` param is
   * source code, judged as such; anything else is an argument value.
   */
  function scanArgs(facts: Facts, found: Finding[]): void {
    const webSearch =
      facts.kind === "other" && wordsOfName(facts.actionName).some((w) => webTokens.has(w));
    const byScope: Record<"command" | "code" | "arg", Item[]> = { command: [], code: [], arg: [] };
    for (const p of facts.paramStrings) {
      const key = p.key.toLowerCase();
      // A question to a web search engine talks about commands; it never reaches a shell.
      if (webSearch && webKeys.has(key)) continue;
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
      const scope: Scope = isCommandKey(key) ? "command" : codeKeys.has(key) ? "code" : "arg";
      // An unknown tool's prose (a ticket's description, a commit message) quotes commands
      // to talk about them: only what stands outside the quotes is judged.
      if (facts.kind === "other" && proseKeys.has(key) && scope === "arg") {
        const norm = outsideQuotes(p.value.norm);
        const raw = norm === null ? null : outsideQuotes(p.value.raw);
        if (norm !== null) {
          const view = { raw: raw ?? norm, norm, buf: Buffer.from(norm) };
          byScope[scope].push({ view, key: p.key });
          continue;
        }
      }
      byScope[scope].push({ view: p.value, key: p.key });
    }
    scanMany("command", byScope.command, found);
    scanMany("code", byScope.code, found);
    scanMany("arg", byScope.arg, found);
  }

  /** `cmd`, `command`, and names ending in one (hook_cmd, post_command): a shell command. */
  function isCommandKey(key: string): boolean {
    if (commandKeys.has(key)) return true;
    const words = wordsOfName(key);
    return words.length > 1 && commandKeys.has(words[words.length - 1]!);
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
      // A hook the messaging tool runs (post_command, hook_cmd) is a command, not prose.
      else if (isCommandKey(key)) scan("command", p.value, p.key, found);
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
    const alias = cliAliases.get(tokens[0] ?? "");
    if (alias !== undefined) tokens[0] = alias;
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
    for (const flag of flagsOf(facts)) add({ raw: flag, norm: flag, buf: EMPTY_BUF });
    if (norm.length === 1) return;
    const line = norm.join(" ").slice(0, MAX_CLI_LINE_CHARS);
    scan(
      "command",
      { raw: raw.join(" ").slice(0, MAX_CLI_LINE_CHARS), norm: line, buf: Buffer.from(line) },
      null,
      found,
    );
  }

  /**
   * A tool given its program and argument vector separately ({cmd: "mkfs.ext4", args: ["-F",
   * "/dev/sda"]}) runs one command line; an array argument (extra_args: ["-exec", "sh", "-c",
   * …]) is one argument list. Each param string is judged alone elsewhere, so only the joined
   * forms are judged here: the program and its vector as a command, other arrays of two or more
   * elements as a command under a shell or command key, else as tool arguments.
   */
  function scanArgv(facts: Facts, found: Finding[]): void {
    let program: TextView | null = null;
    const arrays: Argv[] = [];
    let current: Argv | null = null;
    let currentPath = "";
    let count = 0;
    for (const p of facts.paramStrings) {
      const array = arrayOf(p.path);
      if (array === null) {
        current = null;
        const key = p.key.toLowerCase();
        if (program === null && programKeys.has(key)) program = p.value;
        // An argument string ({arguments: "-nop -c …"}) is a vector of one.
        else if (argvKeys.has(key)) arrays.push({ key, raw: [p.value.raw], norm: [p.value.norm] });
        continue;
      }
      if (++count > MAX_ARGV) break;
      if (current === null || array !== currentPath) {
        current = { key: p.key.toLowerCase(), raw: [], norm: [] };
        currentPath = array;
        arrays.push(current);
      }
      current.raw.push(p.value.raw);
      current.norm.push(p.value.norm);
    }
    if (arrays.length === 0) return;
    let usedByProgram: Argv | null = null;
    if (program !== null && program.norm.length > 0) {
      usedByProgram = arrays.find((a) => argvKeys.has(a.key)) ?? null;
      if (usedByProgram !== null) {
        const view = joinedView(
          [program.raw, ...usedByProgram.raw],
          [program.norm, ...usedByProgram.norm],
        );
        scan("command", view, null, found);
      }
    }
    for (const a of arrays) {
      if (a === usedByProgram || a.norm.length < 2) continue;
      const scope: Scope = facts.kind === "shell" || programKeys.has(a.key) ? "command" : "arg";
      scan(scope, joinedView(a.raw, a.norm), a.key, found);
    }
  }

  /**
   * `delete_bucket` {bucket: "acme-prod-backups"}: an unknown tool whose name destroys a whole
   * data container, pointed at production, backup, customer or finance data.
   */
  function judgeDestroyAction(facts: Facts, found: Finding[]): void {
    const words = wordsOfName(facts.actionName);
    if (!words.some((w) => destroyVerbs.has(w)) || !words.some((w) => destroyNouns.has(w))) return;
    let named: string | null = null;
    if (facts.target.buf.length > 0 && destroyData.test(facts.target.buf))
      named = facts.target.norm;
    for (const p of facts.paramStrings) {
      if (named !== null) break;
      if (proseKeys.has(p.key.toLowerCase()) || p.value.buf.length > 256) continue;
      if (p.value.buf.length > 0 && destroyData.test(p.value.buf)) named = p.value.norm;
    }
    if (named === null) return;
    push(
      found,
      "DESTRUCTIVE_DATA_CONTAINER",
      "BLOCK",
      0.85,
      "A tool destroys a whole bucket, database, cluster or backup set holding production or business data",
      `${facts.actionName} ${named}`,
    );
  }

  /** Boolean flags of a CLI-wrapping action as the options they stand for: force → --force. */
  function flagsOf(facts: Facts): string[] {
    const params = facts.params;
    if (params === null || typeof params !== "object" || Array.isArray(params)) return [];
    const flags: string[] = [];
    for (const [key, value] of Object.entries(params)) {
      if (value !== true || flags.length >= 32) continue;
      const name = key.toLowerCase().replaceAll("_", "-");
      flags.push(name.length === 1 ? `-${name}` : `--${name}`);
    }
    return flags;
  }

  /**
   * `-EncodedCommand <base64>` hides a script; the facts decode it and the decoded rules judge
   * what it does. The encoding alone is only a WARN once the script is readable, and nothing
   * at all when every statement of it only reads and formats.
   */
  function judgeEncoded(facts: Facts, found: Finding[]): void {
    const at = found.findIndex((f) => f.code === encodedRule);
    if (at < 0 || facts.decoded.length === 0) return;
    let harmless = true;
    for (const d of facts.decoded) {
      if (d.buf.length === 0 || !harmlessScript.test(d.buf)) {
        harmless = false;
        break;
      }
    }
    if (harmless) {
      found.splice(at, 1);
      return;
    }
    const f = found[at]!;
    found[at] = { ...f, severity: "WARN", confidence: Math.min(f.confidence, 0.45) };
  }

  /**
   * An unknown tool named for installing or running its content (crontab_edit, run_snippet)
   * will execute that content: judged as written code. Prose that quotes a payload to talk
   * about it is judged only outside the quotes.
   */
  function scanRunContent(facts: Facts, found: Finding[]): void {
    const content = facts.content;
    if (content.buf.length === 0) return;
    if (!wordsOfName(facts.actionName).some((w) => runContentTokens.has(w))) return;
    const norm = outsideQuotes(content.norm);
    if (norm === null || !isProse(norm)) {
      for (const scope of RUN_SCOPES) scan(scope, content, null, found);
      return;
    }
    const raw = outsideQuotes(content.raw) ?? norm;
    const view = { raw, norm, buf: Buffer.from(norm) };
    for (const scope of RUN_SCOPES) scan(scope, view, null, found);
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
          scanArgv(facts, found);
          scanDecoded(facts, found);
          judgeEncoded(facts, found);
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
          scanArgv(facts, found);
          scanDecoded(facts, found);
          if (facts.kind === "other") {
            scanRunContent(facts, found);
            scanCliLine(facts, found);
            judgeDestroyAction(facts, found);
          }
          judgeEncoded(facts, found);
        }
      }
      return done(found);
    },
  };
}
