import RE2 from "re2";
import { z } from "zod";
import piiData from "../data/pii.json" with { type: "json" };
import secretsData from "../data/secrets.json" with { type: "json" };
import { createPiiScanner, PiiDataSchema } from "./pii.js";
import { ACTION_KINDS, compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import {
  createSecretScanner,
  createSinkClassifier,
  hostMatches,
  isProviderUse,
  Re2PatternSchema,
  SecretsDataSchema,
  shannonEntropy,
} from "./secrets.js";
import type { ActionKind, Facts, Finding, Layer, Severity } from "./types.js";

const NamedPatternSchema = z.strictObject({
  id: z.string().min(1),
  label: z.string().optional(),
  pattern: Re2PatternSchema,
});

export const ExfiltrationDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  /** Kinds whose text is a command or code that runs. */
  commandKinds: z.array(z.enum(ACTION_KINDS)),
  /** Kinds judged as one unit (code: data flows through variables across lines). */
  wholeUnitKinds: z.array(z.enum(ACTION_KINDS)),
  /** Kinds that write a script which would exfiltrate when run. */
  scriptKinds: z.array(z.enum(ACTION_KINDS)),
  maxStatements: z.number().int().positive(),
  egress: z.array(NamedPatternSchema).min(1),
  sensitivePaths: z.array(NamedPatternSchema.extend({ label: z.string() })).min(1),
  homeArchivePattern: Re2PatternSchema,
  envDumpPattern: Re2PatternSchema,
  useContextPattern: Re2PatternSchema,
  useContextLookback: z.number().int().positive(),
  captureOpPattern: Re2PatternSchema,
  gitAddPattern: Re2PatternSchema,
  gitPushPattern: Re2PatternSchema,
  /** What the contents of a sensitive file look like, when the file itself is pasted. */
  sensitiveContent: z.array(NamedPatternSchema.extend({ label: z.string() })),
  dns: z.strictObject({
    substitutionPattern: Re2PatternSchema,
    benignSubstitutionPattern: Re2PatternSchema,
    loopVariablePattern: Re2PatternSchema,
    encoderPattern: Re2PatternSchema,
    longLabelPattern: Re2PatternSchema,
    longLabelMinEntropy: z.number(),
    icmpPattern: Re2PatternSchema,
    codeLookupPattern: Re2PatternSchema,
    codeEncoderPattern: Re2PatternSchema,
  }),
  oobDomains: z.array(z.string().regex(/^[a-z0-9.-]+$/)),
  $attachmentKeysComment: z.string().optional(),
  attachmentKeys: z.array(z.string()),
  uploadActionTokens: z.array(z.string()),
  severities: z.strictObject({
    $comment: z.string().optional(),
    sensitiveFileEgress: z.number(),
    sensitiveFileFlow: z.number(),
    homeArchiveEgress: z.number(),
    envDumpEgress: z.number(),
    sensitiveAttachment: z.number(),
    dnsSubstitution: z.number(),
    dnsSubstitutionWeak: z.number(),
    dnsEncodedLoop: z.number(),
    dnsLongLabel: z.number(),
    secretEgress: z.number(),
    secretAuthEgress: z.number(),
    piiEgress: z.number(),
    oobDomain: z.number(),
    pasteUpload: z.number(),
    icmp: z.number(),
    codeLookup: z.number(),
    gitPush: z.number(),
    sensitiveContent: z.number(),
    exfilScript: z.number(),
  }),
});
export type ExfiltrationData = z.infer<typeof ExfiltrationDataSchema>;

/**
 * Splits shell text into statements at `;`, `&&`, `||`, `&` and newlines, outside quotes and
 * `$( … )`; pipelines stay whole (a pipe carries data from one command to the next).
 */
export function shellStatements(text: string, max: number): string[] {
  const out: string[] = [];
  let quote = 0;
  let depth = 0;
  let start = 0;
  const push = (end: number) => {
    const s = text.slice(start, end).trim();
    if (s !== "") out.push(s);
  };
  for (let i = 0; i < text.length; i++) {
    // Past the cap the rest is one statement: coarser, but nothing goes unread.
    if (out.length >= max - 1) break;
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === 92 /* \ */ && quote !== 39) i++;
      else if (c === quote) quote = 0;
      continue;
    }
    if (c === 39 || c === 34 || c === 96) {
      quote = c;
    } else if (c === 36 /* $ */ && text.charCodeAt(i + 1) === 40 /* ( */) {
      depth++;
      i++;
    } else if (c === 40 && depth > 0) {
      depth++;
    } else if (c === 41 /* ) */ && depth > 0) {
      depth--;
    } else if (
      depth === 0 &&
      (c === 59 || c === 10 || c === 38 || (c === 124 && text.charCodeAt(i + 1) === 124))
    ) {
      push(i);
      if ((c === 38 && text.charCodeAt(i + 1) === 38) || c === 124) i++;
      start = i + 1;
    }
  }
  if (out.length < max) push(text.length);
  return out;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Characters that end a path token when scanning back from a match. */
function isPathSeparator(c: number): boolean {
  // space, tab, newline, CR, ' " = @ < > ( ,
  return (
    isSpace(c) ||
    c === 39 ||
    c === 34 ||
    c === 61 ||
    c === 64 ||
    c === 60 ||
    c === 62 ||
    c === 40 ||
    c === 44
  );
}

function isIdentifier(word: string): boolean {
  if (word === "") return false;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    const letter = (c | 0x20) >= 97 && (c | 0x20) <= 122;
    if (!(letter || c === 95 || (i > 0 && c >= 48 && c <= 57))) return false;
  }
  return true;
}

/** Whitespace-separated words of a statement, quotes stripped (to follow files between statements). */
function wordsOf(statement: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < statement.length) {
    while (i < statement.length && isSpace(statement.charCodeAt(i))) i++;
    let start = i;
    while (i < statement.length && !isSpace(statement.charCodeAt(i))) i++;
    let end = i;
    // Strip leading " ' @ = and trailing " ' ; , ).
    while (start < end && "\"'@=".includes(statement[start]!)) start++;
    while (end > start && "\"';,)".includes(statement[end - 1]!)) end--;
    const w = statement.slice(start, end);
    if (w.length >= 3 && !w.startsWith("-")) words.push(w);
  }
  return words;
}

/** The variable a statement assigns (`X=$(cat …)` → X), or null. */
function assignedVariable(statement: string): string | null {
  const eq = statement.indexOf("=");
  if (eq <= 0) return null;
  let start = eq;
  while (start > 0 && !isSpace(statement.charCodeAt(start - 1))) start--;
  const name = statement.slice(start, eq);
  return isIdentifier(name) ? name : null;
}

/** `files[0].path` → ["files", "path"]. */
function pathSegments(path: string): string[] {
  const out: string[] = [];
  let current = "";
  for (let i = 0; i <= path.length; i++) {
    const ch = path[i];
    if (ch === undefined || ch === "." || ch === "[" || ch === "]") {
      if (current !== "" && !isAllDigits(current)) out.push(current.toLowerCase());
      current = "";
    } else current += ch;
  }
  return out;
}

function isAllDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return text !== "";
}

type Compiled = Readonly<{ id: string; label: string; re: RE2 }>;

/**
 * Layer 11: data leaving the machine. Commands and code that read a credential file, an SSH
 * key, a browser or keychain store, the environment or the home directory and send it out
 * (upload flags, raw sockets, scp/rsync, cloud copy, mail, HTTP clients in code) in one
 * statement — or through a file or variable one statement later; DNS lookups of names built
 * from command output; sensitive files attached to messages or uploads; secrets and personal
 * data (found by the secrets and pii scanners) carried by a network command. Out-of-band
 * collector and paste/file-share hosts are weak signals on their own.
 */
export function createExfiltrationLayer(input: unknown): Layer {
  const data = ExfiltrationDataSchema.parse(input);
  const secrets = SecretsDataSchema.parse(secretsData);
  const secretScanner = createSecretScanner(secrets);
  const piiScanner = createPiiScanner(PiiDataSchema.parse(piiData));
  const sinkOf = createSinkClassifier(secrets.sinks);
  const rules = compileRules("exfiltration", data.rules);
  const sev = data.severities;

  const egressSet = new RE2.Set(
    data.egress.map((e) => e.pattern),
    "u",
  );
  const sensitive: Compiled[] = data.sensitivePaths.map((p) => ({
    id: p.id,
    label: p.label,
    re: new RE2(p.pattern, "gu"),
  }));
  const sensitiveSet = new RE2.Set(
    data.sensitivePaths.map((p) => p.pattern),
    "u",
  );
  const homeArchive = new RE2(data.homeArchivePattern, "u");
  const envDump = new RE2(data.envDumpPattern, "u");
  const useContext = new RE2(data.useContextPattern, "u");
  const captureOp = new RE2(data.captureOpPattern, "u");
  const gitAdd = new RE2(data.gitAddPattern, "u");
  const gitPush = new RE2(data.gitPushPattern, "u");
  const contentSigns: Compiled[] = data.sensitiveContent.map((c) => ({
    id: c.id,
    label: c.label,
    re: new RE2(c.pattern, "u"),
  }));
  const icmp = new RE2(data.dns.icmpPattern, "u");
  const codeLookup = new RE2(data.dns.codeLookupPattern, "u");
  const codeEncoder = new RE2(data.dns.codeEncoderPattern, "u");
  const dnsSubst = new RE2(data.dns.substitutionPattern, "gu");
  const benignSubst = new RE2(data.dns.benignSubstitutionPattern, "u");
  const dnsLoop = new RE2(data.dns.loopVariablePattern, "u");
  const encoder = new RE2(data.dns.encoderPattern, "u");
  const longLabel = new RE2(data.dns.longLabelPattern, "u");
  // Host lists become one alternation at start-up (our own constant data, escaped).
  const hostAlternation = (hosts: readonly string[]) =>
    `(?i)(?:^|[^a-z0-9.-])((?:[a-z0-9-]+\\.)*(?:${hosts.map((h) => h.replaceAll(".", "\\.")).join("|")}))(?:$|[^a-z0-9-])`;
  const oob = new RE2(hostAlternation(data.oobDomains), "u");
  const gatePatterns = [
    ...data.egress.map((e) => e.pattern),
    data.dns.icmpPattern,
    data.dns.codeLookupPattern,
    data.gitPushPattern,
    data.dns.substitutionPattern,
    data.dns.loopVariablePattern,
    data.dns.longLabelPattern,
    hostAlternation(data.oobDomains),
  ];
  const prefilter = new RE2.Set(gatePatterns, "u");
  // The same, case-insensitive, on the normalised buffer the facts hold: the cheap common path.
  const gate = new RE2.Set(
    gatePatterns.map((p) => `(?i)${p}`),
    "u",
  );
  const commandKinds = new Set<ActionKind>(data.commandKinds);
  const wholeKinds = new Set<ActionKind>(data.wholeUnitKinds);
  const scriptKinds = new Set<ActionKind>(data.scriptKinds);
  const attachKeys = data.attachmentKeys;
  const uploadTokens = new Set(data.uploadActionTokens);
  const lookback = data.useContextLookback;

  /** Sensitive paths named in a statement, minus those only used (ssh -i, --env-file, source). */
  const sensitiveIn = (stmt: string): { label: string; text: string } | null => {
    if (!sensitiveSet.test(stmt)) return null;
    for (const i of sensitiveSet.match(stmt)) {
      const s = sensitive[i]!;
      s.re.lastIndex = 0;
      for (let n = 0; n < 8; n++) {
        const m = s.re.exec(stmt);
        if (m === null) break;
        // Back to the start of the path token (~/.ssh/id_rsa), then ask how it is used.
        let start = m.index;
        if (isPathSeparator(stmt.charCodeAt(start))) start++;
        while (start > 0 && !isPathSeparator(stmt.charCodeAt(start - 1))) start--;
        if (useContext.test(stmt.slice(Math.max(0, start - lookback), start))) continue;
        return { label: s.label, text: m[0].trim() };
      }
    }
    return null;
  };

  const egressIn = (stmt: string): boolean => egressSet.test(stmt);
  const payloadGate = new RE2.Set(
    [...data.sensitivePaths.map((p) => p.pattern), data.homeArchivePattern, data.envDumpPattern],
    "u",
  );
  // One question per statement first: can it send, capture or push at all?
  const unitGate = new RE2.Set(
    [...data.egress.map((e) => e.pattern), data.captureOpPattern, data.gitPushPattern],
    "u",
  );

  type Hit = {
    code: string;
    severity: Severity;
    confidence: number;
    message: string;
    evidence: string;
  };

  const judgeUnits = (units: readonly string[], hits: Hit[]): void => {
    const captures: { words: string[]; vars: string[]; label: string }[] = [];
    let staged: string | null = null;
    for (const stmt of units) {
      if (units.length > 1 && !unitGate.test(stmt)) continue;
      if (staged !== null && gitPush.test(stmt)) {
        hits.push({
          code: "EXFIL_SENSITIVE_FILE",
          severity: "BLOCK",
          confidence: sev.gitPush,
          message: `A ${staged} is committed and pushed to a remote repository`,
          evidence: stmt,
        });
        staged = null;
      }
      const sends = egressIn(stmt);
      // Something worth sending: a sensitive path, a home directory, the environment, or a
      // file captured earlier. One Set question before the individual ones.
      if (sends && (captures.length > 0 || payloadGate.test(stmt))) {
        const file = sensitiveIn(stmt);
        if (file !== null) {
          hits.push({
            code: "EXFIL_SENSITIVE_FILE",
            severity: "BLOCK",
            confidence: sev.sensitiveFileEgress,
            message: `A ${file.label} is read and sent off the machine in one command`,
            evidence: stmt,
          });
          continue;
        }
        if (homeArchive.test(stmt)) {
          hits.push({
            code: "EXFIL_HOME_ARCHIVE",
            severity: "BLOCK",
            confidence: sev.homeArchiveEgress,
            message: "A home directory is archived and sent off the machine",
            evidence: stmt,
          });
          continue;
        }
        if (envDump.test(stmt)) {
          hits.push({
            code: "EXFIL_ENVIRONMENT",
            severity: "BLOCK",
            confidence: sev.envDumpEgress,
            message: "The process environment (which holds secrets) is sent off the machine",
            evidence: stmt,
          });
          continue;
        }
        // A file or variable filled from a sensitive source one statement earlier.
        for (const c of captures) {
          const used =
            c.words.some((w) => stmt.includes(w)) ||
            c.vars.some((v) => stmt.includes(`$${v}`) || stmt.includes(`\${${v}}`));
          if (used) {
            hits.push({
              code: "EXFIL_SENSITIVE_FILE",
              severity: "BLOCK",
              confidence: sev.sensitiveFileFlow,
              message: `A ${c.label} is copied, then sent off the machine`,
              evidence: stmt,
            });
            break;
          }
        }
      } else if (captureOp.test(stmt)) {
        const file = sensitiveIn(stmt);
        if (file !== null && gitAdd.test(stmt)) staged = file.label;
        else if (file !== null) {
          // Words other than the command and the sensitive path: the copy's destination.
          const words = wordsOf(stmt)
            .slice(1)
            .filter((w) => !w.includes(file.text) && !file.text.includes(w));
          const variable = assignedVariable(stmt);
          captures.push({ words, vars: variable === null ? [] : [variable], label: file.label });
        }
      }
    }
  };

  const judgeDns = (text: string, hits: Hit[]): void => {
    dnsSubst.lastIndex = 0;
    for (let n = 0; n < 4; n++) {
      const m = dnsSubst.exec(text);
      if (m === null) break;
      const label = m[1] ?? "";
      const weak = benignSubst.test(label);
      hits.push({
        code: "EXFIL_DNS",
        severity: weak ? "WARN" : "BLOCK",
        confidence: weak ? sev.dnsSubstitutionWeak : sev.dnsSubstitution,
        message: "A network lookup of a host name built from command output (DNS exfiltration)",
        evidence: m[0],
      });
      if (!weak) return;
    }
    if (dnsLoop.test(text) && encoder.test(text)) {
      hits.push({
        code: "EXFIL_DNS",
        severity: "BLOCK",
        confidence: sev.dnsEncodedLoop,
        message: "Encoded data is looked up chunk by chunk as DNS names (DNS exfiltration)",
        evidence: text,
      });
      return;
    }
    if (icmp.test(text)) {
      hits.push({
        code: "EXFIL_DNS",
        severity: "BLOCK",
        confidence: sev.icmp,
        message: "Command output is packed into ICMP echo payloads (ping -p)",
        evidence: text,
      });
      return;
    }
    if (codeLookup.test(text) && codeEncoder.test(text)) {
      hits.push({
        code: "EXFIL_DNS",
        severity: "BLOCK",
        confidence: sev.codeLookup,
        message: "Code resolves host names built from encoded data (DNS exfiltration)",
        evidence: text,
      });
      return;
    }
    const long = longLabel.exec(text);
    if (long !== null && shannonEntropy(long[1]!) >= data.dns.longLabelMinEntropy) {
      hits.push({
        code: "EXFIL_DNS",
        severity: "BLOCK",
        confidence: sev.dnsLongLabel,
        message: "A DNS lookup of a long encoded label (DNS exfiltration)",
        evidence: long[0],
      });
    }
  };

  const textsOf = (facts: Facts): string[] => {
    const texts: string[] = [];
    if (facts.target.raw !== "") texts.push(facts.target.raw);
    if (facts.content.raw !== "") texts.push(facts.content.raw);
    for (const p of facts.paramStrings) if (p.value.raw.length >= 4) texts.push(p.value.raw);
    for (const d of facts.decoded) texts.push(d.raw);
    return texts;
  };

  const judgeCommand = (facts: Facts, hits: Hit[]): void => {
    if (facts.all.raw.length < 6 || !gate.test(facts.all.buf)) return;
    const whole = wholeKinds.has(facts.kind);
    let sends = false;
    for (const text of textsOf(facts)) {
      if (text.length < 6 || !prefilter.test(text)) continue;
      judgeUnits(whole ? [text] : shellStatements(text, data.maxStatements), hits);
      judgeDns(text, hits);
      if (oob.test(text)) {
        hits.push({
          code: "EXFIL_OOB_HOST",
          severity: "WARN",
          confidence: sev.oobDomain,
          message: "A command contacts an out-of-band interaction or tunnelling host",
          evidence: text,
        });
      }
      if (!sends && egressSet.test(text)) sends = true;
    }
    if (!sends) return;
    // Credentials and personal data carried by a command that talks to the network.
    const hosts = facts.urls.map((u) => u.host).filter((h) => h !== "");
    for (const h of secretScanner.scanFacts(facts)) {
      if (h.strength === "weak" || isProviderUse(h, hosts)) continue;
      hits.push({
        code: "EXFIL_SECRET",
        severity: h.auth ? "WARN" : "BLOCK",
        confidence: h.auth ? sev.secretAuthEgress : sev.secretEgress,
        message: `A ${h.label} is sent by a network command to a host that did not issue it`,
        evidence: `${h.label}: ${evidenceOf(h.value, true)}`,
      });
      break;
    }
    if (piiScanner.mayContain(facts.all.buf)) {
      for (const p of piiScanner.scan(facts.all.norm, facts.all.raw)) {
        if (p.strength === "weak" || p.type === "special" || p.type === "dob") continue;
        hits.push({
          code: "EXFIL_PII",
          severity: "BLOCK",
          confidence: sev.piiEgress,
          message: `A ${p.label} is sent off the machine by a network command`,
          evidence: p.evidence,
        });
        break;
      }
    }
    for (const host of hosts) {
      if (hostMatches(host, secrets.sinks.publicHosts)) {
        hits.push({
          code: "EXFIL_PASTE_SITE",
          severity: "WARN",
          confidence: sev.pasteUpload,
          message: "Data is uploaded to a paste or anonymous file-sharing site",
          evidence: host,
        });
        break;
      }
    }
  };

  /** Files attached to a message or an upload. */
  const judgeAttachments = (facts: Facts, upload: boolean, hits: Hit[]): void => {
    const candidates: string[] = [];
    for (const p of facts.paramStrings) {
      if (pathSegments(p.path).some((s) => attachKeys.some((k) => s.includes(k))))
        candidates.push(p.value.raw);
    }
    if (upload && facts.kind !== "message" && facts.target.raw !== "")
      candidates.push(facts.target.raw);
    for (const value of candidates) {
      const file = sensitiveIn(` ${value.trim()} `);
      if (file === null && !homeArchive.test(value)) continue;
      hits.push({
        code: "EXFIL_SENSITIVE_ATTACHMENT",
        severity: "BLOCK",
        confidence: sev.sensitiveAttachment,
        message: `A ${file?.label ?? "home directory"} is attached to a message or upload`,
        evidence: value,
      });
      return;
    }
  };

  /** The contents of a system credential file pasted into something that leaves. */
  const judgeContent = (facts: Facts, hits: Hit[]): void => {
    const info = sinkOf(facts);
    if (!(info.sink === "external" || info.sink === "public") || info.contentIncoming) return;
    for (const text of [facts.content.raw, ...facts.paramStrings.map((p) => p.value.raw)]) {
      if (text.length < 16 || text.indexOf(":") < 0) continue;
      for (const c of contentSigns) {
        if (!c.re.test(text)) continue;
        hits.push({
          code: "EXFIL_FILE_CONTENT",
          severity: "BLOCK",
          confidence: sev.sensitiveContent,
          message: `The contents of a ${c.label} are sent out`,
          evidence: c.label,
        });
        return;
      }
    }
  };

  return {
    name: "exfiltration",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const found: Finding[] = data.rules.length > 0 ? rules(facts) : [];
      const kind = facts.kind;
      const hits: Hit[] = [];
      const tokens = facts.actionName.split("_");
      const upload = tokens.some((t) => uploadTokens.has(t));
      if (kind === "message" || kind === "http" || upload) {
        judgeAttachments(facts, upload, hits);
        judgeContent(facts, hits);
      }
      if (commandKinds.has(kind)) {
        judgeCommand(facts, hits);
      } else if (scriptKinds.has(kind) && !upload && facts.content.raw.length >= 6) {
        // A script that would exfiltrate when run: worth a look before it is written.
        const inner: Hit[] = [];
        if (prefilter.test(facts.content.raw)) {
          judgeUnits(shellStatements(facts.content.raw, data.maxStatements), inner);
          judgeDns(facts.content.raw, inner);
        }
        const first = inner.find((h) => h.severity === "BLOCK");
        if (first !== undefined)
          hits.push({
            ...first,
            code: "EXFIL_SCRIPT",
            severity: "WARN",
            confidence: sev.exfilScript,
          });
      }
      if (kind === "http") {
        const info = sinkOf(facts);
        for (const host of info.hosts) {
          if (hostMatches(host, data.oobDomains)) {
            hits.push({
              code: "EXFIL_OOB_HOST",
              severity: "WARN",
              confidence: sev.oobDomain,
              message: "A request to an out-of-band interaction or tunnelling host",
              evidence: host,
            });
            break;
          }
        }
        if (info.sendsBody && info.hosts.some((h) => hostMatches(h, secrets.sinks.publicHosts))) {
          hits.push({
            code: "EXFIL_PASTE_SITE",
            severity: "WARN",
            confidence: sev.pasteUpload,
            message: "Data is posted to a paste or anonymous file-sharing site",
            evidence: info.hosts.join(" "),
          });
        }
      }
      if (hits.length === 0) return done(found);
      // One finding per code, the strongest.
      const byCode = new Map<string, Hit>();
      for (const h of hits) {
        const prev = byCode.get(h.code);
        if (
          prev === undefined ||
          (h.severity === "BLOCK" && prev.severity === "WARN") ||
          (h.severity === prev.severity && h.confidence > prev.confidence)
        )
          byCode.set(h.code, h);
      }
      for (const h of byCode.values()) {
        found.push({
          layer: "exfiltration",
          code: h.code,
          severity: h.severity,
          confidence: h.confidence,
          message: h.message,
          // Secret evidence is masked where it is made.
          evidence: evidenceOf(h.evidence),
        });
      }
      return found;
    },
  };
}
