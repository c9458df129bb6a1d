import RE2 from "re2";
import { z } from "zod";
import { outsideQuotes, wordsOfName } from "./command.js";
import { createPiiScanner, PiiDataSchema } from "./pii.js";
import { ACTION_KINDS, compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import {
  createSecretScanner,
  createSinkClassifier,
  hostMatches,
  isProviderUse,
  mailDomainIn,
  Re2PatternSchema,
  SecretsDataSchema,
  type SinkInfo,
  shannonEntropy,
} from "./secrets.js";
import type { ActionKind, Facts, Finding, Layer, Severity, TextView } from "./types.js";

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
  /** A whole home, system or database directory named as a copy source. */
  bulkDirPattern: Re2PatternSchema,
  /** Egress ids that also serve as backup channels (remote copy, cloud upload). */
  bulkEgress: z.array(z.string().min(1)),
  /** Commands whose output is a database dump or the whole repository. */
  dumpPattern: Re2PatternSchema,
  /** A file path that is a database dump, backup or data file (attached to an upload). */
  dumpFilePattern: Re2PatternSchema,
  /**
   * A placeholder a tool expands to a file's contents ({{file:/x}}, ${read:/x}); group 1 is
   * the path. Naming a sensitive file in outgoing text ships that file.
   */
  inclusionPattern: Re2PatternSchema,
  servePattern: Re2PatternSchema,
  serveRootPattern: Re2PatternSchema,
  cdPattern: Re2PatternSchema,
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
    envLabelPattern: Re2PatternSchema,
  }),
  beacon: z.strictObject({
    $comment: z.string().optional(),
    imagePattern: Re2PatternSchema,
    linkPattern: Re2PatternSchema,
    markerPattern: Re2PatternSchema,
    /** Query keys whose value is a credential or card data in the clear. */
    credentialKeys: z.array(z.string().min(1)),
    minBlobChars: z.number().int().positive(),
    /** Decoded text shorter than this, with no credential in it, is only a WARN. */
    minHiddenChars: z.number().int().positive(),
    maxUrls: z.number().int().positive(),
  }),
  git: z.strictObject({
    remoteAddPattern: Re2PatternSchema,
    wholeRepoPattern: Re2PatternSchema,
  }),
  /** Param keys (and values) that name where an unknown tool sends something. */
  destinationKeys: z.array(z.string().min(1)),
  destinationPattern: Re2PatternSchema,
  /** Param keys whose file is used (an ssh identity, a kubeconfig), not sent. */
  useKeys: z.array(z.string().min(1)),
  /** First tokens of action names that wrap a CLI; their arguments form one command line. */
  cliActions: z.array(z.string().regex(/^[a-z0-9]+$/)),
  /** Param keys of such an action that hold prose, not arguments. */
  proseKeys: z.array(z.string().min(1)),
  /** Words in such an action's name that are not part of the command (aws_cli, run_git). */
  cliFillerTokens: z.array(z.string().min(1)),
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
    bulkDirEgress: z.number(),
    dumpEgress: z.number(),
    imageBeacon: z.number(),
    imageBeaconCredential: z.number(),
    linkBeacon: z.number(),
    urlCredential: z.number(),
    gitWholeRepo: z.number(),
    gitSuspiciousHost: z.number(),
    gitDirectUrl: z.number(),
    unknownToolFile: z.number(),
    exposeFiles: z.number(),
    dnsEnvLabel: z.number(),
    bulkExportPersonal: z.number(),
    bulkExportDrop: z.number(),
  }),
  /** A program and its argument vector given apart, judged as one command line. */
  argv: z.strictObject({
    $comment: z.string().optional(),
    programKeys: z.array(z.string().min(1)),
    argvKeys: z.array(z.string().min(1)),
  }),
  /** Business records exported or shared to a personal free-mail address or a drop host. */
  bulkExport: z.strictObject({
    $comment: z.string().optional(),
    /** Words of an action name that move records somewhere (export, sync, share). */
    actionTokens: z.array(z.string().min(1)),
    /** Param keys naming what is exported (object, table, dataset). */
    objectKeys: z.array(z.string().min(1)),
    /** A set of records: plural business nouns (contacts, customers, employees). */
    recordPattern: Re2PatternSchema,
    /** Param keys naming where the export is delivered. */
    deliveryKeys: z.array(z.string().min(1)),
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

/** The command line rebuilt for a CLI-wrapping action is cut here. */
const MAX_CLI_LINE_CHARS = 16_384;

/** Host of `scheme://user@host:port/…` or `user@host:path` (scp form), lower case; "" if none. */
export function hostOfRemote(url: string): string {
  let rest = url;
  const scheme = rest.indexOf("://");
  if (scheme >= 0) rest = rest.slice(scheme + 3);
  else if (rest.indexOf(":") < 0) return "";
  const slash = rest.indexOf("/");
  const at = rest.lastIndexOf("@", slash < 0 ? rest.length : slash);
  if (at >= 0) rest = rest.slice(at + 1);
  let end = rest.length;
  for (const sep of ["/", ":", "?", "#"]) {
    const i = rest.indexOf(sep);
    if (i >= 0 && i < end) end = i;
  }
  return rest.slice(0, end).toLowerCase();
}

/** A dotted-quad IPv4 address. */
function isIpv4(host: string): boolean {
  const parts = host.split(".");
  return parts.length === 4 && parts.every((p) => p !== "" && p.length <= 3 && isAllDigits(p));
}

function isBase64Char(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 43 ||
    c === 47 ||
    c === 61 ||
    c === 45 ||
    c === 95
  );
}

function isHexText(text: string): boolean {
  if (text.length % 2 !== 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** Bytes that are nearly all printable text (tabs, newlines and ASCII 32–126). */
function readableText(bytes: Buffer): string | null {
  if (bytes.length < 8) return null;
  let printable = 0;
  for (const b of bytes) if ((b >= 32 && b < 127) || b === 9 || b === 10 || b === 13) printable++;
  return printable / bytes.length >= 0.92 ? bytes.toString("latin1") : null;
}

/**
 * The text hidden in one URL component, when it is base64 (url-safe too) or hex that decodes
 * to readable text. Random tokens and signatures decode to noise and are left alone.
 */
export function decodeUrlBlob(piece: string, minChars: number): string | null {
  if (piece.length < minChars || piece.length > 4096) return null;
  for (let i = 0; i < piece.length; i++) if (!isBase64Char(piece.charCodeAt(i))) return null;
  if (isHexText(piece)) return readableText(Buffer.from(piece, "hex"));
  const b64 = piece.replaceAll("-", "+").replaceAll("_", "/");
  return readableText(Buffer.from(b64, "base64"));
}

/** Bytes that end a URL inside markdown or HTML: space, quotes, brackets. */
function endsUrl(b: number): boolean {
  return b <= 32 || b === 34 || b === 39 || b === 41 || b === 60 || b === 62 || b === 96;
}

/** The URL starting at `start` in `buf`, read up to its end (at most 8 KB). */
function urlAt(buf: Buffer, start: number): string {
  let end = start;
  const limit = Math.min(buf.length, start + 8_192);
  while (end < limit && !endsUrl(buf[end]!)) end++;
  return buf.toString("utf8", start, end);
}

type UrlPiece = { key: string; value: string };

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Path segments (key "") and query parameters of a URL, percent-decoded (bounded). */
function urlPieces(url: string): UrlPiece[] {
  const out: UrlPiece[] = [];
  const hash = url.indexOf("#");
  const clean = hash >= 0 ? url.slice(0, hash) : url;
  const q = clean.indexOf("?");
  const scheme = clean.indexOf("://");
  const pathStart = clean.indexOf("/", scheme >= 0 ? scheme + 3 : 0);
  const path = pathStart >= 0 ? clean.slice(pathStart, q >= 0 ? q : clean.length) : "";
  const query = q >= 0 ? clean.slice(q + 1) : "";
  for (const seg of path.split("/")) {
    if (seg === "") continue;
    // `<blob>.png`: the file extension hides a blob from a plain base64 check.
    const dot = seg.lastIndexOf(".");
    const stem = dot > 0 && seg.length - dot <= 6 ? seg.slice(0, dot) : seg;
    out.push({ key: "", value: percentDecoded(stem) });
    if (out.length > 32) return out;
  }
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    out.push({
      key: eq > 0 ? percentDecoded(pair.slice(0, eq)).toLowerCase() : "",
      value: percentDecoded(eq >= 0 ? pair.slice(eq + 1) : pair),
    });
    if (out.length > 64) break;
  }
  return out;
}

/**
 * Layer 11: data leaving the machine. Commands and code that read a credential file, an SSH
 * key, a browser or keychain store, the environment or the home directory and send it out
 * (upload flags, raw sockets, scp/rsync, cloud copy, mail, HTTP clients in code) in one
 * statement — or through a file or variable one statement later; DNS lookups of names built
 * from command output; sensitive files attached to messages or uploads; secrets and personal
 * data (found by the secrets and pii scanners) carried by a network command. Out-of-band
 * collector and paste/file-share hosts are weak signals on their own.
 */
/** Text longer than this is not scanned for file placeholders (a page, not a message). */
const MAX_INCLUSION_CHARS = 262_144;
/** Parameter values scanned for file placeholders (hostile input has thousands). */
const MAX_INCLUSION_PARAMS = 512;
const DUMP_FILE_LABEL = "database dump or data file";

export function createExfiltrationLayer(
  input: unknown,
  shared: Readonly<{ secrets: unknown; pii: unknown }>,
): Layer {
  const data = ExfiltrationDataSchema.parse(input);
  const secrets = SecretsDataSchema.parse(shared.secrets);
  const secretScanner = createSecretScanner(secrets);
  const piiScanner = createPiiScanner(PiiDataSchema.parse(shared.pii));
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
  const contentSet = new RE2.Set(
    data.sensitiveContent.map((c) => c.pattern),
    "u",
  );
  const icmp = new RE2(data.dns.icmpPattern, "u");
  const codeLookup = new RE2(data.dns.codeLookupPattern, "u");
  const codeEncoder = new RE2(data.dns.codeEncoderPattern, "u");
  const dnsSubst = new RE2(data.dns.substitutionPattern, "gu");
  const benignSubst = new RE2(data.dns.benignSubstitutionPattern, "u");
  const dnsLoop = new RE2(data.dns.loopVariablePattern, "u");
  const encoder = new RE2(data.dns.encoderPattern, "u");
  const longLabel = new RE2(data.dns.longLabelPattern, "u");
  const envLabel = new RE2(data.dns.envLabelPattern, "u");
  const bulkDir = new RE2(data.bulkDirPattern, "u");
  const dumpRe = new RE2(data.dumpPattern, "u");
  const dumpFile = new RE2(data.dumpFilePattern, "u");
  const inclusion = new RE2(data.inclusionPattern, "gu");
  const bulkIds = new Set(data.bulkEgress);
  const egressIds = data.egress.map((e) => e.id);
  const serve = new RE2(data.servePattern, "u");
  const serveRoot = new RE2(data.serveRootPattern, "u");
  const cdRe = new RE2(data.cdPattern, "u");
  const remoteAdd = new RE2(data.git.remoteAddPattern, "u");
  const wholeRepo = new RE2(data.git.wholeRepoPattern, "u");
  const imageRe = new RE2(data.beacon.imagePattern, "gu");
  const linkRe = new RE2(data.beacon.linkPattern, "gu");
  const marker = new RE2(data.beacon.markerPattern, "u");
  const credentialKeys = new Set(data.beacon.credentialKeys);
  const destination = new RE2(data.destinationPattern, "u");
  const destKeys = new Set(data.destinationKeys);
  const useKeys = new Set(data.useKeys);
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
    data.dns.envLabelPattern,
    data.servePattern,
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
    [
      ...data.sensitivePaths.map((p) => p.pattern),
      data.homeArchivePattern,
      data.envDumpPattern,
      data.bulkDirPattern,
      data.dumpPattern,
    ],
    "u",
  );
  // One question per statement first: can it send, capture, push, serve or change directory?
  const unitGate = new RE2.Set(
    [
      ...data.egress.map((e) => e.pattern),
      data.captureOpPattern,
      data.gitPushPattern,
      data.git.remoteAddPattern,
      data.servePattern,
      data.cdPattern,
    ],
    "u",
  );

  /** True when every way a statement sends is also a backup channel (scp, rsync, cloud copy). */
  const backupOnly = (stmt: string): boolean => {
    for (const i of egressSet.match(stmt)) if (!bulkIds.has(egressIds[i] ?? "")) return false;
    return true;
  };

  const DUMP_LABEL = "database dump or repository archive";
  /** A sensitive file named in a statement, or else a database dump or repository archive. */
  const payloadIn = (stmt: string): { label: string; text: string } | null => {
    const file = sensitiveIn(stmt);
    if (file !== null) return file;
    const m = dumpRe.exec(stmt);
    return m === null ? null : { label: DUMP_LABEL, text: m[0].trim() };
  };

  type Hit = {
    code: string;
    severity: Severity;
    confidence: number;
    message: string;
    evidence: string;
  };

  /** A push to a remote named by URL or added in the same request: where is the code going? */
  const judgePush = (stmt: string, remotes: ReadonlyMap<string, string>, hits: Hit[]): void => {
    const at = stmt.toLowerCase().indexOf("push");
    if (at < 0) return;
    // The first word after `push` that is not an option: a remote name or a URL.
    let dest: string | undefined;
    for (const word of stmt.slice(at + 4).split(" ")) {
      const w = word.trim();
      if (w === "" || w.startsWith("-")) continue;
      dest = w.replaceAll("'", "").replaceAll('"', "");
      break;
    }
    if (dest === undefined || dest === "") return;
    const direct = dest.includes("://") || (dest.includes("@") && dest.includes(":"));
    const url = direct ? dest : remotes.get(dest);
    if (url === undefined) return;
    const host = hostOfRemote(url);
    if (wholeRepo.test(stmt)) {
      hits.push({
        code: "EXFIL_GIT_PUSH",
        severity: "BLOCK",
        confidence: sev.gitWholeRepo,
        message: "Every branch and tag of the repository is pushed to a new remote",
        evidence: stmt,
      });
    } else if (
      host !== "" &&
      (isIpv4(host) ||
        hostMatches(host, data.oobDomains) ||
        hostMatches(host, secrets.sinks.publicHosts))
    ) {
      hits.push({
        code: "EXFIL_GIT_PUSH",
        severity: "BLOCK",
        confidence: sev.gitSuspiciousHost,
        message: "The repository is pushed to a bare IP address, tunnel or drop host",
        evidence: stmt,
      });
    } else if (direct) {
      hits.push({
        code: "EXFIL_GIT_PUSH",
        severity: "WARN",
        confidence: sev.gitDirectUrl,
        message: "Code is pushed straight to a repository URL rather than a configured remote",
        evidence: stmt,
      });
    }
  };

  const judgeUnits = (units: readonly string[], hits: Hit[]): void => {
    const captures: { words: string[]; vars: string[]; label: string }[] = [];
    let staged: string | null = null;
    let remotes: Map<string, string> | null = null;
    // The working directory is the home, the root or a secret store (for file servers).
    let exposedCwd = false;
    for (const stmt of units) {
      if (units.length > 1 && !unitGate.test(stmt)) continue;
      if (gitPush.test(stmt)) {
        if (staged !== null) {
          hits.push({
            code: "EXFIL_SENSITIVE_FILE",
            severity: "BLOCK",
            confidence: sev.gitPush,
            message: `A ${staged} is committed and pushed to a remote repository`,
            evidence: stmt,
          });
          staged = null;
        }
        judgePush(stmt, remotes ?? new Map(), hits);
      }
      const added = remoteAdd.exec(stmt);
      if (added !== null) {
        remotes ??= new Map();
        remotes.set(added[1] ?? "", added[2] ?? "");
      }
      if (cdRe.test(stmt)) exposedCwd = serveRoot.test(stmt) || sensitiveIn(` ${stmt} `) !== null;
      if (serve.test(stmt) && (exposedCwd || serveRoot.test(stmt) || sensitiveIn(stmt) !== null)) {
        hits.push({
          code: "EXFIL_EXPOSE_FILES",
          severity: "BLOCK",
          confidence: sev.exposeFiles,
          message: "A file server is started on the home directory, the root or a secret store",
          evidence: stmt,
        });
      }
      const sends = egressIn(stmt);
      // Something worth sending: a sensitive path, a home directory, the environment, a dump,
      // or a file captured earlier. One Set question before the individual ones.
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
            message: "A home or system directory is archived and sent off the machine",
            evidence: stmt,
          });
          continue;
        }
        if (bulkDir.test(stmt)) {
          hits.push({
            code: "EXFIL_HOME_ARCHIVE",
            severity: "BLOCK",
            confidence: sev.bulkDirEgress,
            message: "A whole home, system or database directory is copied off the machine",
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
        // Dumps go to backups by scp, rsync or cloud copy every night; by an HTTP upload, a
        // raw socket or mail they are being taken.
        const backup = backupOnly(stmt);
        if (!backup && dumpRe.test(stmt)) {
          hits.push({
            code: "EXFIL_DATA_DUMP",
            severity: "BLOCK",
            confidence: sev.dumpEgress,
            message:
              "A database dump or repository archive is sent to a web endpoint, socket or mail",
            evidence: stmt,
          });
          continue;
        }
        // A file or variable filled from a sensitive source one statement earlier.
        for (const c of captures) {
          if (c.label === DUMP_LABEL && backup) continue;
          const used =
            c.words.some((w) => stmt.includes(w)) ||
            c.vars.some((v) => stmt.includes(`$${v}`) || stmt.includes(`\${${v}}`));
          if (used) {
            hits.push({
              code: c.label === DUMP_LABEL ? "EXFIL_DATA_DUMP" : "EXFIL_SENSITIVE_FILE",
              severity: "BLOCK",
              confidence: c.label === DUMP_LABEL ? sev.dumpEgress : sev.sensitiveFileFlow,
              message: `A ${c.label} is copied, then sent off the machine`,
              evidence: stmt,
            });
            break;
          }
        }
      } else if (captureOp.test(stmt)) {
        const file = payloadIn(stmt);
        if (file !== null && file.label !== DUMP_LABEL && gitAdd.test(stmt)) staged = file.label;
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
    const named = envLabel.exec(text);
    if (named !== null) {
      hits.push({
        code: "EXFIL_DNS",
        severity: "BLOCK",
        confidence: sev.dnsEnvLabel,
        message: "A lookup of a host name built from the user, computer or domain name",
        evidence: named[0],
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

  const cliActions = new Set(data.cliActions);
  const proseKeys = new Set(data.proseKeys);
  const programKeys = new Set(data.argv.programKeys);
  const argvKeys = new Set(data.argv.argvKeys);

  /**
   * `{cmd: "scp", args: ["~/.ssh/id_rsa", "x@203.0.113.5:"]}`: the program and the first
   * argument vector, as the command line they run; null when the tool takes no such pair.
   */
  const argvLineOf = (facts: Facts): string | null => {
    let program: string | null = null;
    const args: string[] = [];
    let vector = "";
    for (const p of facts.paramStrings) {
      const key = p.key.toLowerCase();
      const element = p.path.endsWith("]");
      if (!element && program === null && programKeys.has(key)) {
        program = p.value.raw;
        continue;
      }
      if (!argvKeys.has(key)) continue;
      // An argument string ({arguments: "-r ~/.ssh x@h:"}) is a vector of one.
      const array = element ? p.path.slice(0, p.path.lastIndexOf("[")) : p.path;
      if (vector === "") vector = array;
      else if (array !== vector) continue;
      if (args.length >= 256) break;
      args.push(p.value.raw);
    }
    if (program === null || args.length === 0) return null;
    return `${program} ${args.join(" ")}`.slice(0, MAX_CLI_LINE_CHARS);
  };

  const cliFiller = new Set(data.cliFillerTokens);

  /** `git_push` {remote: URL, refspec: "--mirror"}: the CLI line the action stands for. */
  const cliLineOf = (facts: Facts): string | null => {
    if (facts.kind !== "other") return null;
    const tokens = facts.actionName.split("_").filter((t) => !cliFiller.has(t));
    if (!cliActions.has(tokens[0] ?? "")) return null;
    const line = [tokens.join(" "), facts.target.raw];
    for (const p of facts.paramStrings)
      if (!proseKeys.has(p.key.toLowerCase())) line.push(p.value.raw);
    return line.join(" ").slice(0, MAX_CLI_LINE_CHARS);
  };

  const textsOf = (facts: Facts, cliLine: string | null, argvLine: string | null): string[] => {
    const texts: string[] = [];
    if (argvLine !== null) texts.push(argvLine);
    if (facts.target.raw !== "") texts.push(facts.target.raw);
    if (facts.content.raw !== "") texts.push(facts.content.raw);
    for (const p of facts.paramStrings) {
      if (p.value.raw.length < 4) continue;
      // An unknown tool's prose quotes commands to talk about them (an incident summary):
      // only what stands outside the quotes is judged.
      const prose =
        facts.kind === "other" && proseKeys.has(p.key.toLowerCase())
          ? outsideQuotes(p.value.raw)
          : null;
      texts.push(prose ?? p.value.raw);
    }
    for (const d of facts.decoded) texts.push(d.raw);
    if (cliLine !== null) texts.push(cliLine);
    return texts;
  };

  const judgeCommand = (facts: Facts, hits: Hit[]): void => {
    const cliLine = cliLineOf(facts);
    const argvLine = argvLineOf(facts);
    const open = facts.all.raw.length >= 6 && gate.test(facts.all.buf);
    if (
      !open &&
      (cliLine === null || !prefilter.test(cliLine)) &&
      (argvLine === null || !prefilter.test(argvLine))
    )
      return;
    const whole = wholeKinds.has(facts.kind);
    let sends = false;
    for (const text of textsOf(facts, cliLine, argvLine)) {
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
  const judgeAttachments = (
    facts: Facts,
    upload: boolean,
    info: SinkInfo | null,
    hits: Hit[],
  ): void => {
    // A database dump or data file is business data only once it leaves for another party: a
    // public share, or a web upload endpoint (a bucket of one's own is where backups live).
    const web = facts.target.norm.trimStart();
    const leaves =
      info !== null &&
      (info.sink === "public" ||
        (info.sink === "external" && (web.startsWith("https://") || web.startsWith("http://"))));
    const candidates: string[] = [];
    for (const p of facts.paramStrings) {
      if (pathSegments(p.path).some((s) => attachKeys.some((k) => s.includes(k))))
        candidates.push(p.value.raw);
    }
    if (upload && facts.kind !== "message" && facts.target.raw !== "")
      candidates.push(facts.target.raw);
    for (const value of candidates) {
      const file = sensitiveIn(` ${value.trim()} `);
      const dump = file === null && leaves && value.length <= 1024 && dumpFile.test(value);
      if (file === null && !dump && !homeArchive.test(value)) continue;
      hits.push({
        code: "EXFIL_SENSITIVE_ATTACHMENT",
        severity: "BLOCK",
        confidence: sev.sensitiveAttachment,
        message: `A ${file?.label ?? (dump ? DUMP_FILE_LABEL : "home directory")} is attached to a message or upload`,
        evidence: value,
      });
      return;
    }
  };

  /**
   * Outgoing text with a placeholder the sending tool expands to a file's contents
   * ({{file:/proc/self/environ}}, ${read:~/.kube/config}): naming a sensitive file ships it.
   */
  const judgeInclusion = (view: TextView, hits: Hit[]): boolean => {
    const raw = view.raw;
    if (raw.length < 6 || raw.length > MAX_INCLUSION_CHARS) return false;
    // Every placeholder opens with a bracket or starts the value with @: most values have none.
    if (
      !raw.includes("{") &&
      !raw.includes("<") &&
      !raw.includes("[") &&
      raw.trimStart().charCodeAt(0) !== 64 /* @ */
    )
      return false;
    inclusion.lastIndex = 0;
    for (let n = 0; n < 8; n++) {
      const m = inclusion.exec(raw);
      if (m === null) return false;
      const file = sensitiveIn(` ${m[1] ?? ""} `);
      if (file === null) continue;
      hits.push({
        code: "EXFIL_FILE_INCLUSION",
        severity: "BLOCK",
        confidence: sev.sensitiveAttachment,
        message: `Outgoing text embeds the contents of a ${file.label} through a file placeholder`,
        evidence: m[0],
      });
      return true;
    }
    return false;
  };

  /** Placeholders in the content and (a bounded number of) parameter values. */
  const judgeInclusions = (facts: Facts, hits: Hit[]): void => {
    if (judgeInclusion(facts.content, hits)) return;
    const params = facts.paramStrings;
    const n = Math.min(params.length, MAX_INCLUSION_PARAMS);
    for (let i = 0; i < n; i++) if (judgeInclusion(params[i]!.value, hits)) return;
  };

  /**
   * Images in outgoing text are fetched by whoever renders it, without a click: a URL that
   * carries readable encoded data, or credentials and addresses in the clear, is a beacon. A
   * link needs a click, so it only counts when the hidden text holds a credential marker.
   */
  const judgeBeacons = (view: TextView, hits: Hit[]): void => {
    const norm = view.norm;
    if (!(norm.includes("](http") || norm.includes("<img") || norm.includes("url("))) return;
    // Base64 is case-sensitive: the text as sent, converted once for RE2.
    const buf = Buffer.from(view.raw, "utf8");
    for (const [re, image] of [
      [imageRe, true],
      [linkRe, false],
    ] as const) {
      re.lastIndex = 0;
      for (let n = 0; n < data.beacon.maxUrls; n++) {
        // The pattern stops after "://" (a long capture would be slow); the URL is read on
        // from its scheme to the first space, quote, bracket or closing parenthesis.
        const m = re.exec(buf);
        if (m === null) break;
        const end = m.index + m[0].length;
        const start = end - (buf[end - 4] === 0x73 || buf[end - 4] === 0x53 ? 8 : 7);
        const url = urlAt(buf, start);
        const hit = judgeUrl(url, image);
        if (hit !== null) {
          hits.push(hit);
          return;
        }
      }
    }
  };

  /**
   * Cheap first question: is there anything a beacon could carry? Facts already decode every
   * base64/hex run that reads as text; without one, only a credential key in a query counts.
   */
  const mayCarryBeacon = (facts: Facts): boolean => {
    const min = data.beacon.minBlobChars;
    for (const u of facts.urls) {
      // Path segments and query values: a long base64/hex-looking run, or a credential key.
      let run = 0;
      let key = 0;
      const q = u.query;
      for (let i = 0; i <= u.path.length; i++) {
        const c = i < u.path.length ? u.path.charCodeAt(i) : 47;
        if (isBase64Char(c) && c !== 47) run++;
        else if (run >= min) return true;
        else run = 0;
      }
      run = 0;
      for (let i = 0; i <= q.length; i++) {
        const c = i < q.length ? q.charCodeAt(i) : 38;
        if (c === 38 /* & */) {
          if (run >= min) return true;
          run = 0;
          key = i + 1;
        } else if (c === 61 /* = */ && run === i - key) {
          if (credentialKeys.has(q.slice(key, i)) && i + 1 < q.length && q.charCodeAt(i + 1) !== 38)
            return true;
          run = 0;
        } else if (isBase64Char(c) || c === 37 /* % (encoded =) */) run++;
      }
    }
    return false;
  };

  /** One URL: `image` means it loads by itself (an image), else it is a link or a request. */
  const judgeUrl = (url: string, image: boolean): Hit | null => {
    for (const piece of urlPieces(url)) {
      const hidden = decodeUrlBlob(piece.value, data.beacon.minBlobChars);
      if (hidden !== null) {
        const credential = marker.test(hidden);
        if (!image && !credential) continue;
        // A few encoded words (an image-text overlay) are only worth a WARN; a sentence or a
        // credential is data on its way out.
        const block = image && (credential || hidden.length >= data.beacon.minHiddenChars);
        return {
          code: "EXFIL_URL_BEACON",
          severity: block ? "BLOCK" : "WARN",
          confidence: !block
            ? sev.linkBeacon
            : credential
              ? sev.imageBeaconCredential
              : sev.imageBeacon,
          message: image
            ? "An auto-loading image URL carries encoded data out (markdown/HTML image beacon)"
            : "A link carries encoded credentials or personal data in its URL",
          // The hidden text may be a password: only its first characters and length.
          evidence: `${hostOfRemote(url)} ← ${evidenceOf(hidden, true)}`,
        };
      }
      if (image && piece.value.length >= 4 && credentialKeys.has(piece.key)) {
        return {
          code: "EXFIL_URL_BEACON",
          severity: "BLOCK",
          confidence: sev.urlCredential,
          message: "An auto-loading image URL carries a credential or card data in its query",
          evidence: `${piece.key}=…`,
        };
      }
    }
    return null;
  };

  /** A request URL whose query hides credentials or personal data, base64 or hex encoded. */
  const judgeRequestUrl = (url: string, hits: Hit[]): void => {
    for (const piece of urlPieces(url)) {
      const hidden = decodeUrlBlob(piece.value, data.beacon.minBlobChars);
      if (hidden === null || !marker.test(hidden)) continue;
      hits.push({
        code: "EXFIL_URL_BEACON",
        severity: "BLOCK",
        confidence: sev.urlCredential,
        message: "A request URL carries encoded credentials or personal data out",
        evidence: `${hostOfRemote(url)} ← ${evidenceOf(hidden, true)}`,
      });
      return;
    }
  };

  /**
   * An action we do not know, given a sensitive file in one parameter and somewhere to send it
   * in another (a URL, an address, a bucket, a remote host).
   */
  const judgeUnknownTool = (facts: Facts, hits: Hit[]): void => {
    let file: { label: string; text: string } | null = null;
    let fileKey = "";
    for (const p of facts.paramStrings) {
      const key = p.key.toLowerCase();
      if (useKeys.has(key) || !attachKeys.some((k) => key.includes(k))) continue;
      file = sensitiveIn(` ${p.value.raw.trim()} `);
      if (file !== null) {
        fileKey = p.path;
        break;
      }
    }
    if (file === null) return;
    let dest = facts.target.buf.length > 0 && destination.test(facts.target.buf);
    for (const p of facts.paramStrings) {
      if (dest) break;
      if (p.path === fileKey || p.value.buf.length === 0) continue;
      dest = destKeys.has(p.key.toLowerCase()) || destination.test(p.value.buf);
    }
    if (!dest) return;
    hits.push({
      code: "EXFIL_SENSITIVE_ATTACHMENT",
      severity: "BLOCK",
      confidence: sev.unknownToolFile,
      message: `A ${file.label} is handed to a tool together with a destination`,
      evidence: file.text,
    });
  };

  const bulk = data.bulkExport;
  const bulkTokens = new Set(bulk.actionTokens);
  const objectKeys = new Set(bulk.objectKeys);
  const deliveryKeys = new Set(bulk.deliveryKeys);
  const recordRe = new RE2(bulk.recordPattern, "u");

  /** The free-mail address or drop host a delivery value names, or null. */
  const personalDestination = (value: string): string | null => {
    if (value.length > 2048) return null;
    const lower = value.toLowerCase();
    const domain = mailDomainIn(lower, secrets.sinks.freemailDomains);
    if (domain !== null) return domain;
    const scheme = lower.indexOf("://");
    if (scheme > 0 && scheme < 12) {
      const host = hostOfRemote(lower.trim());
      if (host !== "" && hostMatches(host, secrets.sinks.publicHosts)) return host;
    }
    return null;
  };

  /**
   * A tool that exports, syncs or shares a set of business records (named by the action or an
   * object-like param) and delivers it to a personal free-mail inbox or a drop site.
   */
  const judgeBulkExport = (facts: Facts, hits: Hit[]): void => {
    if (!wordsOfName(facts.actionName).some((w) => bulkTokens.has(w))) return;
    let records = recordRe.test(facts.actionName);
    let where: string | null = null;
    for (const p of facts.paramStrings) {
      const key = p.key.toLowerCase();
      if (!records && objectKeys.has(key) && p.value.raw.length <= 200)
        records = recordRe.test(p.value.raw);
      if (where === null && deliveryKeys.has(key)) where = personalDestination(p.value.raw);
    }
    if (where === null && facts.target.raw !== "") where = personalDestination(facts.target.raw);
    if (!records || where === null) return;
    const drop = !where.includes("@") && !hostMatches(where, secrets.sinks.freemailDomains);
    hits.push({
      code: "EXFIL_BULK_EXPORT",
      severity: "BLOCK",
      confidence: drop ? sev.bulkExportDrop : sev.bulkExportPersonal,
      message: drop
        ? "A set of business records is exported to a paste or file-drop site"
        : "A set of business records is exported to a personal free-mail address",
      evidence: where,
    });
  };

  /** Hosts an HTTP action calls: its target and parameter URLs (not links in a fetched page). */
  const requestHosts = (facts: Facts): string[] => {
    const hosts: string[] = [];
    for (const u of facts.urls)
      if (u.host !== "" && (u.field === "target" || u.field === "params")) hosts.push(u.host);
    return hosts;
  };

  /** The contents of a system credential file pasted into something that leaves. */
  const judgeContent = (facts: Facts, info: SinkInfo, hits: Hit[]): void => {
    if (!(info.sink === "external" || info.sink === "public") || info.contentIncoming) return;
    for (const view of [facts.content, ...facts.paramStrings.map((p) => p.value)]) {
      // One Set question per text, on the normalised buffer (a string costs a conversion per
      // call); the signature is looked up only on a hit.
      const buf = view.buf;
      if (buf.length < 16 || !contentSet.test(buf)) continue;
      for (const c of contentSigns) {
        if (!c.re.test(buf)) continue;
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
      // Where the text goes, asked once. A GET's content is the page fetched: nothing of it
      // leaves, so only the hosts called matter there.
      const fetching = kind === "http" && facts.source === "web";
      const info =
        !fetching && (kind === "message" || kind === "http" || upload) ? sinkOf(facts) : null;
      if (info !== null || fetching) judgeAttachments(facts, upload, info, hits);
      if (
        !fetching &&
        !(info?.contentIncoming ?? false) &&
        (kind === "message" || kind === "other" || kind === "http" || upload)
      )
        judgeInclusions(facts, hits);
      if (info !== null) judgeContent(facts, info, hits);
      // Outgoing text: a message, a request body, an unknown tool's parameters.
      if (
        (kind === "message" || kind === "other" || (kind === "http" && facts.source === "agent")) &&
        mayCarryBeacon(facts)
      ) {
        judgeBeacons(facts.content, hits);
        for (const p of facts.paramStrings)
          if (p.value.raw.length >= 16) judgeBeacons(p.value, hits);
      }
      // Facts decode every base64/hex run that reads as text: none, nothing hidden in the URL.
      if (kind === "http" && facts.decoded.length > 0 && facts.target.raw.includes("://")) {
        judgeRequestUrl(facts.target.raw.trim(), hits);
      }
      if (kind === "other") {
        judgeUnknownTool(facts, hits);
        judgeBulkExport(facts, hits);
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
        const hosts = info?.hosts ?? requestHosts(facts);
        for (const host of hosts) {
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
        if (info?.sendsBody && hosts.some((h) => hostMatches(h, secrets.sinks.publicHosts))) {
          hits.push({
            code: "EXFIL_PASTE_SITE",
            severity: "WARN",
            confidence: sev.pasteUpload,
            message: "Data is posted to a paste or anonymous file-sharing site",
            evidence: hosts.join(" "),
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
