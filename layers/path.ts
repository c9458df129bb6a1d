import RE2 from "re2";
import { z } from "zod";
import {
  ACTION_KINDS,
  compileRules,
  done,
  evidenceOf,
  RuleFileSchema,
  type RuleMatcher,
} from "./rules.js";
import type { ActionKind, Facts, Finding, Layer, Severity, TextView } from "./types.js";

// The RE2 patterns in the data file are checked at start-up so a bad one names its rule.
function compilesRe2(pattern: string): boolean {
  try {
    new RE2(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

const Re2Pattern = z.string().min(1).refine(compilesRe2, { message: "is not a valid RE2 pattern" });

const FindingSpecSchema = z.strictObject({
  severity: z.enum(["BLOCK", "WARN"]),
  confidence: z.number().min(0).max(1),
  message: z.string().min(1),
});

const SensitiveSpecSchema = z.strictObject({
  id: z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: "must be SCREAMING_SNAKE" }),
  severity: z.enum(["BLOCK", "WARN"]),
  confidence: z.number().min(0).max(1),
  message: z.string().min(1),
  /** Matched against the canonical path: lower case, `/` separators, `.` and `..` resolved. */
  pattern: Re2Pattern,
  /** Only for these action kinds (writes of start-up files, say); all kinds when absent. */
  kinds: z.array(z.enum(ACTION_KINDS)).min(1).optional(),
  /**
   * A write only matters when it puts a literal secret in the file: a template whose values
   * are ${VAR} or <%= ENV[...] %> placeholders passes.
   */
  writeNeedsSecret: z.boolean().optional(),
  /** false: a shell redirection (>> ~/.bashrc) does not count as the write (PATH exports). */
  viaShell: z.boolean().optional(),
  /** A WARN entry that BLOCKs (0.85) when the action archives, uploads, copies or sends. */
  escalateOnBulk: z.boolean().optional(),
  $comment: z.string().optional(),
});

const FINDING_CODES = [
  "PATH_TRAVERSAL_ENCODED",
  "PATH_TRAVERSAL_BYPASS",
  "PATH_TRAVERSAL",
  "PATH_TRAVERSAL_RELATIVE",
  "PATH_TRAVERSAL_SYSTEM",
  "PATH_NULL_BYTE",
  "PATH_MALFORMED_ENCODING",
  "SENSITIVE_FILE_IN_URL",
  "PATH_LFI_WRAPPER",
  "PATH_ALTERNATE_DATA_STREAM",
  "PATH_ARCHIVE_ENTRY",
  "PATH_UNC_REMOTE",
  "PATH_UNC_COERCION",
] as const;
type FindingCode = (typeof FINDING_CODES)[number];

/** The data file of the path layer (data/path.json). */
export const PathDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  findings: z.strictObject(
    Object.fromEntries(FINDING_CODES.map((c) => [c, FindingSpecSchema])) as Record<
      FindingCode,
      typeof FindingSpecSchema
    >,
  ),
  separators: z.array(z.string().length(1)).min(1),
  /** Stream wrappers that turn a file path into code or another file (php://filter, phar://). */
  lfiWrappers: z.array(z.string().min(1)),
  systemRoots: z.array(z.string().min(1)),
  readerCommands: z.array(z.string().min(1)),
  /** Readers whose last argument is a destination (cp src dst). */
  copyCommands: z.array(z.string().min(1)),
  /** Commands whose file arguments are written (tee). */
  writerCommands: z.array(z.string().min(1)),
  /** Flags after which a quoted string is a command or code (`-c`, `-e`, `/c`, `-Command`). */
  interpreterFlags: z.array(z.string().min(1)),
  /** Commands whose quoted arguments are commands or code (ssh host '…', awk '…', eval). */
  nestingCommands: z.array(z.string().min(1)),
  shellCommandKeys: z.array(z.string().min(1)),
  codeKeys: z.array(z.string().min(1)),
  pathParamKeys: z.array(z.string().min(1)),
  /** Words that make any parameter name a path (attachment_path, local_file, output_folder). */
  pathParamWords: z.array(z.string().min(1)),
  /** Parameters of any tool naming where it writes (save_as, dest): judged as file writes. */
  destParamKeys: z.array(z.string().min(1)),
  /** Parameters naming what a copy or move reads (src, from): judged as file reads. */
  sourceParamKeys: z.array(z.string().min(1)),
  /** Words of an action name that make it an archive tool (extract, unzip…). */
  archiveActionWords: z.array(z.string().min(1)),
  /** Parameters listing the entries of an archive: absolute entries escape the destination. */
  archiveEntryKeys: z.array(z.string().min(1)),
  /** Array parameters holding a command's arguments (`args: ["save", "HKLM\\SAM"]`). */
  argvKeys: z.array(z.string().min(1)),
  /** Parameters naming the program those arguments are given to (`cmd: "reg"`). */
  programKeys: z.array(z.string().min(1)),
  /** Words of an unknown action name that make its content a command (ssh_exec, pod_exec). */
  remoteShellActionWords: z.array(z.string().min(1)),
  /** Parameters declaring the directory a tool is confined to: climbing out of it is the attack. */
  rootParamKeys: z.array(z.string().min(1)),
  /** Words of an action name that make it a file tool whatever its kind (list_directory). */
  fileActionWords: z.array(z.string().min(1)),
  /**
   * SQL that reads a server-side file (ATTACH DATABASE '…', COPY t FROM '…', LOAD DATA INFILE):
   * group 1 is the path, judged as a file read.
   */
  sqlFileArgument: Re2Pattern,
  /** Plain words one of which a SQL text must hold before the SQL-kind rules run at all. */
  sqlRuleAnchors: z.array(z.string().min(1)).min(1),
  /** Words of an action name that make it collect files in bulk (zip_files, upload_folder). */
  bulkActionWords: z.array(z.string().min(1)),
  /** Words of an action name that make it a file search: a bare name it is given is a file name. */
  searchActionWords: z.array(z.string().min(1)),
  /** Where a search must start to be a hunt across the machine (/, ~, C:\\) rather than a project. */
  searchRoots: z.array(z.string().min(1)),
  /**
   * Words of an unknown action name that make it record or describe text (create_ticket,
   * log_incident): a `command` parameter there quotes a command, it does not run one.
   */
  recordActionWords: z.array(z.string().min(1)),
  allow: z.array(Re2Pattern),
  /** Test fixture directories: they silence WARN-level entries, never BLOCK ones. */
  allowDev: z.array(Re2Pattern),
  /** File names that say fake, example, test…: they silence WARN-level entries too… */
  allowDevNames: z.array(Re2Pattern),
  /** …except these, whose suffix names a deployment stage, not a fake (.env.test). */
  devNameExempt: Re2Pattern,
  /**
   * A literal secret in written content: group 1 is the value, which must not be a
   * placeholder. Only then does a write to a WARN-level secrets file count.
   */
  literalSecret: Re2Pattern,
  /** Values of a secret-named key that are not secrets (booleans, empty markers). */
  literalSecretIgnore: z.array(z.string()),
  /** Canonical sensitive paths a shell glob (/e?c/sh*dow) is matched against; ~ is any home. */
  globTargets: z.array(z.string().min(1)),
  /** Overlong or out-of-range UTF-8 lead bytes in percent form, matched on the raw text. */
  overlongPattern: Re2Pattern,
  sensitive: z.array(SensitiveSpecSchema).min(1),
});

export type PathData = z.infer<typeof PathDataSchema>;
type SensitiveSpec = z.infer<typeof SensitiveSpecSchema>;

/** Bounds that keep the work linear whatever is sent. */
const MAX_CANDIDATE_CHARS = 4096;
const MAX_CANDIDATES = 256;
const MAX_SHELL_CHARS = 65_536;
const MAX_PARAMS = 512;

/** What one path-shaped string looks like once split into segments. */
type PathShape = {
  /** Resolved name segments (`.` dropped, `..` applied), for the sensitive-file match. */
  resolved: string[];
  /** The same, cut at the first NUL byte (the truncation trick), or null without one. */
  truncated: string[] | null;
  absolute: boolean;
  /** Segments made of dots only (`..`, `....`, `.?`). */
  dotSegments: number;
  /** A dot segment longer than two, with wildcards or a `;` parameter: filter-bypass forms. */
  oddDots: boolean;
  /** A dot segment next to a separator no ordinary path uses (U+2215, control, garbage). */
  oddSeparator: boolean;
  /** A name segment with a run of two or more dots inside it (`..o..o`, `....boot.ini`). */
  dotsInName: boolean;
  /** A name followed by `..` and a separator (`static../`): the off-by-slash alias climb. */
  aliasDots: boolean;
  /** How many levels the path climbs above where it starts. */
  escape: number;
  /** The first name after the last dot segment: where the traversal lands. */
  landing: string;
  nul: boolean;
  /** An NTFS stream suffix (`file.asp::$data`). */
  stream: boolean;
  /** U+FFFD: bytes that were not valid UTF-8 (overlong or truncated sequences). */
  replacement: boolean;
  separators: number;
};

const ODD = 2;
const PLAIN = 1;

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102);
}

function isAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 122);
}

/** The running state of one split; a plain object so no closure is built per call. */
type Splitter = {
  shape: PathShape;
  depth: number;
  minDepth: number;
  leftKind: number;
  segmentIndex: number;
  afterDots: boolean;
};

/** Judges one segment between two separators and applies it to the resolved path. */
function pushSegment(st: Splitter, segment: string, rightKind: number): void {
  const shape = st.shape;
  const leftKind = st.leftKind;
  st.leftKind = rightKind;
  let seg = segment;
  const stream = seg.indexOf("::$");
  if (stream >= 0) {
    shape.stream = true;
    seg = seg.slice(0, stream);
  }
  const semi = seg.indexOf(";");
  const hadSemi = semi >= 0;
  if (hadSemi) seg = seg.slice(0, semi);
  // Windows ignores trailing spaces; URL paths may carry them encoded.
  seg = seg.trim();
  const first = st.segmentIndex === 0;
  st.segmentIndex++;
  if (seg === "") {
    if (first && rightKind !== 0) shape.absolute = true;
    return;
  }
  if (first && seg.length === 2 && seg.charCodeAt(1) === 58 /* : */) {
    // A drive letter: the path is absolute.
    shape.absolute = true;
    return;
  }
  if (seg === ".") return;
  let dotsOnly = seg.length >= 2;
  let dots = 0;
  for (let i = 0; i < seg.length && dotsOnly; i++) {
    const c = seg.charCodeAt(i);
    if (c === 46) dots++;
    else if (c !== 63 /* ? */) dotsOnly = false;
  }
  if (dotsOnly && dots >= 1) {
    shape.dotSegments++;
    if (seg.length > 2 || dots < 2 || hadSemi) shape.oddDots = true;
    if (leftKind === ODD || rightKind === ODD) shape.oddSeparator = true;
    st.depth--;
    if (st.depth < st.minDepth) st.minDepth = st.depth;
    const last = shape.resolved[shape.resolved.length - 1];
    if (last !== undefined && last !== "~") shape.resolved.pop();
    st.afterDots = true;
    return;
  }
  // Windows drops trailing dots too: `web.config.` is `web.config`.
  let end = seg.length;
  while (end > 0 && seg.charCodeAt(end - 1) === 46) end--;
  const name = end === seg.length ? seg : seg.slice(0, end);
  if (seg.indexOf("..") >= 0) {
    shape.dotsInName = true;
    // `static../`: with an nginx `alias` missing its slash, the dots climb out of the alias.
    if (rightKind !== 0 && end <= seg.length - 2) shape.aliasDots = true;
  }
  if (st.afterDots) {
    shape.landing = name;
    st.afterDots = false;
  }
  st.depth++;
  shape.resolved.push(name);
}

/**
 * Splits a normalised path into segments, treating everything a lenient server may take for
 * a separator as one: `/`, `\`, Unicode slashes, control characters, private-use characters
 * (from %uXXXX junk), U+FFFD, leftover percent garbage and the literal 0x2f / 0x5c spellings.
 */
function shapeOf(text: string, separators: ReadonlySet<number>): PathShape {
  const shape: PathShape = {
    resolved: [],
    truncated: null,
    absolute: false,
    dotSegments: 0,
    oddDots: false,
    oddSeparator: false,
    dotsInName: false,
    aliasDots: false,
    escape: 0,
    landing: "",
    nul: false,
    stream: false,
    replacement: false,
    separators: 0,
  };
  const st: Splitter = {
    shape,
    depth: 0,
    minDepth: 0,
    leftKind: 0,
    segmentIndex: 0,
    afterDots: false,
  };
  let sawPlainSep = false;
  // The current segment is `pending` + text[start, i): slices, except where a character is
  // rewritten (0x2e, a NUL between dots).
  let pending = "";
  let start = 0;
  const n = Math.min(text.length, MAX_CANDIDATE_CHARS);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    let sepKind = 0;
    let skip = 0;
    if (c === 47 || c === 92) {
      sepKind = PLAIN;
      sawPlainSep = true;
    } else if (c === 0) {
      if (text.charCodeAt(i - 1) === 46 && text.charCodeAt(i + 1) === 46) {
        // `.%00.` hides a dot pair: drop the NUL.
        pending += text.slice(start, i);
        start = i + 1;
        continue;
      }
      // Anywhere else a NUL cuts the path short.
      shape.nul = true;
      sepKind = ODD;
    } else if (c < 32 || c === 0xfffd || (c >= 0xe000 && c <= 0xf8ff) || separators.has(c)) {
      if (c === 0xfffd) shape.replacement = true;
      sepKind = ODD;
    } else if (c === 37 /* % */) {
      // Percent signs that survived decoding are junk the decoder could not read (%c0%qf).
      let j = i + 1;
      while (j < n && j - i <= 2 && isAlnum(text.charCodeAt(j))) j++;
      sepKind = ODD;
      skip = j - i - 1;
    } else if (c === 48 /* 0 */ && text.charCodeAt(i + 1) === 120 /* x */) {
      const pair = text.slice(i + 2, i + 4);
      if (!isHexDigit(text.charCodeAt(i + 4))) {
        if (pair === "2f" || pair === "5c") {
          sepKind = ODD;
          skip = 3;
        } else if (pair === "2e") {
          pending += `${text.slice(start, i)}.`;
          start = i + 4;
          i += 3;
          continue;
        }
      }
    } else if ((c === 50 || c === 53) && text.charCodeAt(i - 1) === 46) {
      // `..2f`, `..5c`: a percent-encoded separator whose `%` a filter stripped.
      const pair = text.slice(i, i + 2);
      const segment = pending + text.slice(start, i);
      if (
        (pair === "2f" || pair === "5c") &&
        !isHexDigit(text.charCodeAt(i + 2)) &&
        segment.endsWith("..")
      ) {
        sepKind = ODD;
        skip = 1;
      }
    }
    if (sepKind === 0) continue;
    shape.separators++;
    pushSegment(st, pending + text.slice(start, i), sepKind);
    pending = "";
    if (shape.nul && shape.truncated === null) shape.truncated = shape.resolved.slice();
    i += skip;
    start = i + 1;
  }
  pushSegment(st, pending + text.slice(start, n), 0);
  shape.escape = -st.minDepth;
  if (!sawPlainSep && shape.separators === 0) {
    // A lone word of dots ("...", "..") with no separator is prose, not a path.
    shape.dotSegments = 0;
    shape.oddDots = false;
  }
  return shape;
}

/** Where a candidate came from: decides what counts as encoded and which checks apply. */
type Origin = Readonly<{
  /** The raw (undecoded) text of the field the candidate came from. */
  raw: string;
  /** Text recovered from base64/hex: everything in it was hidden. */
  hidden: boolean;
  /** Named as a path by the action (file target, path parameter): checked even without a slash. */
  explicit: boolean;
  /** Judge traversal too; shell and code arguments are only checked for sensitive files. */
  traversal: boolean;
  /** Query values and file targets get the full sensitive-file check; URL paths only warn. */
  sensitive: "full" | "block-only" | "url";
  /** What the path is used for when it differs from the action (a copy's destination writes). */
  kind?: ActionKind;
  /** An entry of an archive being extracted: any climb or absolute name escapes the target. */
  archive?: boolean;
  /** Written by a shell redirection or tee rather than by a file tool. */
  shell?: boolean;
  /** The parameter declaring the confinement root itself, which may sit above the project. */
  root?: boolean;
}>;

type Compiled = Readonly<{
  data: PathData;
  separators: ReadonlySet<number>;
  wrappers: ReadonlySet<string>;
  systemRoots: ReadonlySet<string>;
  readers: ReadonlySet<string>;
  copiers: ReadonlySet<string>;
  writers: ReadonlySet<string>;
  interpreterFlags: ReadonlySet<string>;
  nestingCommands: ReadonlySet<string>;
  shellKeys: ReadonlySet<string>;
  codeKeys: ReadonlySet<string>;
  pathKeys: ReadonlySet<string>;
  destKeys: ReadonlySet<string>;
  sourceKeys: ReadonlySet<string>;
  archiveWords: ReadonlySet<string>;
  archiveKeys: ReadonlySet<string>;
  argvKeys: ReadonlySet<string>;
  programKeys: ReadonlySet<string>;
  remoteShellWords: ReadonlySet<string>;
  rootKeys: ReadonlySet<string>;
  fileWords: ReadonlySet<string>;
  sqlFile: RE2;
  sqlFileTest: RE2;
  bulkWords: ReadonlySet<string>;
  searchWords: ReadonlySet<string>;
  searchRoots: ReadonlySet<string>;
  recordWords: ReadonlySet<string>;
  allow: InstanceType<typeof RE2.Set>;
  allowDev: InstanceType<typeof RE2.Set>;
  allowDevNames: InstanceType<typeof RE2.Set>;
  devNameExempt: RE2;
  literalSecret: RE2;
  literalIgnore: ReadonlySet<string>;
  sensitive: InstanceType<typeof RE2.Set>;
  sensitiveSpecs: readonly SensitiveSpec[];
  sensitiveKinds: readonly (ReadonlySet<ActionKind> | null)[];
  literalTraversal: RE2;
  overlong: RE2;
}>;

type Scan = {
  found: Finding[];
  codes: Set<string>;
  /** Path strings already judged: a request repeating one path a thousand times costs one. */
  seen: Set<string> | null;
  candidates: number;
  kind: ActionKind;
  /** Once something BLOCKs, further candidates cannot change the decision: stop looking. */
  blocked: boolean;
  facts: Facts;
  /** Whether the written text holds a literal secret; computed on first need. */
  literal: boolean | null;
  /** Quoted strings re-read as commands (bash -c '…'); bounded. */
  nested: number;
  /** The action is a file tool by name (list_directory): its `../` is traversal, not layout. */
  fileAction: boolean;
  /**
   * The request declares the directory the tool is confined to (root, base_dir, sandbox): a
   * climb out of it in another parameter is the attack (one tenant reading another's files).
   */
  rooted: boolean;
  /** The action collects files in bulk (zip_files, upload_folder): see `escalateOnBulk`. */
  bulk: boolean;
};

function add(
  scan: Scan,
  code: string,
  severity: Severity,
  confidence: number,
  message: string,
  evidence: string,
): void {
  if (scan.codes.has(code)) return;
  scan.codes.add(code);
  if (severity === "BLOCK" && confidence >= 0.5) scan.blocked = true;
  scan.found.push({
    layer: "path",
    code,
    severity,
    confidence,
    message,
    evidence: evidenceOf(evidence),
  });
}

function reportCode(c: Compiled, scan: Scan, code: FindingCode, evidence: string): void {
  const spec = c.data.findings[code];
  add(scan, code, spec.severity, spec.confidence, spec.message, evidence);
}

const MAX_LITERAL_SCAN = 65_536;
const MAX_LITERAL_MATCHES = 32;

/**
 * Does the text being written hold a literal secret (password: hunter2, a private key block,
 * user:pass@ in a URL)? A template of ${VAR} or <%= ENV[...] %> placeholders does not.
 */
function writesSecret(c: Compiled, scan: Scan): boolean {
  if (scan.literal !== null) return scan.literal;
  const facts = scan.facts;
  let found = false;
  // A copy or an empty write puts no literal in the file: only written text can.
  if (facts.content.norm.trim() !== "" || scan.kind === "shell" || scan.kind === "code_exec") {
    const text = facts.all.norm.slice(0, MAX_LITERAL_SCAN);
    const re = c.literalSecret;
    re.lastIndex = 0;
    for (let k = 0; k < MAX_LITERAL_MATCHES; k++) {
      const m = re.exec(text);
      if (m === null) break;
      const value = m[1];
      if (value === undefined || !c.literalIgnore.has(value)) {
        found = true;
        break;
      }
    }
  }
  scan.literal = found;
  return found;
}

function isDev(c: Compiled, buf: Buffer): boolean {
  if (c.allowDev.test(buf)) return true;
  return c.allowDevNames.test(buf) && !c.devNameExempt.test(buf);
}

/** Matches one canonical path against the sensitive-file list; the allow list wins. */
function matchSensitive(
  c: Compiled,
  scan: Scan,
  segments: readonly string[],
  absolute: boolean,
  mode: Origin["sensitive"],
  kind: ActionKind,
  shell = false,
): void {
  if (segments.length === 0) return;
  const canonical = (absolute ? "/" : "") + segments.join("/");
  // A Buffer spares RE2 a UTF-16 conversion per call; the allow list only runs on a hit.
  const buf = Buffer.from(canonical, "utf8");
  if (!c.sensitive.test(buf) || c.allow.test(buf)) return;
  let dev: boolean | null = null;
  for (const index of c.sensitive.match(buf)) {
    const spec = c.sensitiveSpecs[index]!;
    const kinds = c.sensitiveKinds[index];
    if (kinds && !kinds.has(kind)) continue;
    if (shell && spec.viaShell === false) continue;
    if (spec.severity === "WARN") {
      dev ??= isDev(c, buf);
      if (dev) continue;
      if (spec.writeNeedsSecret && kind === "file_write" && !writesSecret(c, scan)) continue;
    }
    const escalate = spec.escalateOnBulk === true && scan.bulk;
    const severity = escalate ? "BLOCK" : spec.severity;
    if (mode === "block-only" && severity !== "BLOCK") continue;
    if (mode === "url") {
      if (severity === "BLOCK") reportCode(c, scan, "SENSITIVE_FILE_IN_URL", canonical);
      continue;
    }
    add(scan, spec.id, severity, escalate ? 0.85 : spec.confidence, spec.message, canonical);
  }
}

function looksPathy(text: string): boolean {
  if (text.length === 0) return false;
  const first = text.charCodeAt(0);
  if (first === 46 /* . */ || first === 126 /* ~ */) return true;
  for (let i = 0; i < text.length && i < MAX_CANDIDATE_CHARS; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 47 || ch === 92 || ch === 0 || ch > 127 || ch < 32 || ch === 37) return true;
  }
  return text.indexOf("..") >= 0;
}

/** Judges one path-shaped string: traversal, NUL bytes, malformed encoding, sensitive files. */
function checkPath(c: Compiled, scan: Scan, text: string, origin: Origin): void {
  if (scan.blocked || scan.candidates >= MAX_CANDIDATES || text.length === 0) return;
  if (!origin.explicit && !looksPathy(text)) return;
  scan.seen ??= new Set();
  // The same string used for another purpose (read, then written) is judged again.
  const key = origin.kind === undefined ? text : `${origin.kind}\u0000${text}`;
  if (scan.seen.has(key)) return;
  scan.seen.add(key);
  scan.candidates++;
  const unc = uncRisk(text);
  if (unc === "remote") reportCode(c, scan, "PATH_UNC_REMOTE", text);
  else if (unc !== null) reportCode(c, scan, "PATH_UNC_COERCION", text);
  const shape = shapeOf(text, c.separators);
  const kind = origin.kind ?? scan.kind;
  if (!origin.traversal) {
    const shell = origin.shell === true;
    matchSensitive(c, scan, shape.resolved, shape.absolute, origin.sensitive, kind, shell);
    if (shape.truncated !== null) {
      matchSensitive(c, scan, shape.truncated, shape.absolute, origin.sensitive, kind, shell);
    }
    return;
  }
  if (origin.archive === true && (shape.escape > 0 || shape.absolute)) {
    // Zip slip: an entry name that climbs out of, or ignores, the extraction directory.
    reportCode(c, scan, "PATH_ARCHIVE_ENTRY", text);
  }
  if (shape.dotSegments > 0) {
    const literal = !origin.hidden && c.literalTraversal.test(origin.raw);
    if (shape.oddSeparator) reportCode(c, scan, "PATH_TRAVERSAL_ENCODED", text);
    else if (shape.oddDots) reportCode(c, scan, "PATH_TRAVERSAL_BYPASS", text);
    else if (!literal) reportCode(c, scan, "PATH_TRAVERSAL_ENCODED", text);
    else if (shape.escape > 0) {
      // An argument of a tool that is neither a file nor an HTTP action, climbing a level or two
      // to an ordinary file (load_dataset("../data/train.csv")), is usually a project layout.
      const routine =
        !scan.fileAction &&
        !(scan.rooted && origin.root !== true) &&
        !FILE_KINDS.has(kind) &&
        scan.kind !== "http" &&
        shape.escape <= 2 &&
        !c.systemRoots.has(shape.landing);
      reportCode(c, scan, routine ? "PATH_TRAVERSAL_RELATIVE" : "PATH_TRAVERSAL", text);
    } else if (c.systemRoots.has(shape.landing)) {
      reportCode(c, scan, "PATH_TRAVERSAL_SYSTEM", text);
    }
  } else if (shape.dotsInName && (origin.hidden || origin.raw.indexOf("..") < 0)) {
    // Dots that only exist after decoding: nobody percent-encodes a dot in an honest path.
    reportCode(c, scan, "PATH_TRAVERSAL_ENCODED", text);
  }
  // Only a web server's alias mapping climbs through `static../`; a file name may end in dots.
  if (shape.aliasDots && origin.sensitive === "url") {
    reportCode(c, scan, "PATH_TRAVERSAL_BYPASS", text);
  }
  if (shape.nul) reportCode(c, scan, "PATH_NULL_BYTE", text);
  if (shape.stream) reportCode(c, scan, "PATH_ALTERNATE_DATA_STREAM", text);
  if (
    shape.separators > 0 &&
    ((shape.replacement && origin.raw.indexOf("\ufffd") < 0) ||
      (origin.raw.indexOf("%") >= 0 && c.overlong.test(origin.raw)))
  ) {
    // Overlong or invalid UTF-8 is never produced by an honest encoder: it exists to get
    // separators and dots past a filter that decodes differently from the server.
    reportCode(c, scan, "PATH_MALFORMED_ENCODING", text);
  }
  matchSensitive(c, scan, shape.resolved, shape.absolute, origin.sensitive, kind);
  if (shape.truncated !== null) {
    matchSensitive(c, scan, shape.truncated, shape.absolute, origin.sensitive, kind);
  }
}

function endOfUncPart(text: string, from: number): number {
  let i = from;
  while (i < text.length && text.charCodeAt(i) !== 92 && text.charCodeAt(i) !== 47) i++;
  return i;
}

/**
 * `\\host\share\…`: Windows opens it over SMB, or WebDAV (`host@ssl`, `davwwwroot`), and
 * authenticates with the user's NTLM hash. An administrative share (`c$`, `admin$`) or a
 * WebDAV form is a lateral-movement or coercion technique; a share on a dotted name or an IP
 * leaves the network; a bare server name (`\\fileserver\reports`) is an ordinary share.
 */
function uncRisk(text: string): "admin" | "webdav" | "remote" | null {
  if (text.charCodeAt(0) !== 92 || text.charCodeAt(1) !== 92) return null;
  const hostEnd = endOfUncPart(text, 2);
  const host = text.slice(2, hostEnd);
  if (host === "" || host === "?" || host === "." || host === "localhost") return null;
  const share = text.slice(hostEnd + 1, endOfUncPart(text, hostEnd + 1));
  if (share.length > 1 && share.endsWith("$")) return "admin";
  if (host.indexOf("@") >= 0 || share === "davwwwroot") return "webdav";
  if (host.indexOf(".") >= 0 || host.indexOf(":") >= 0) return "remote";
  return null;
}

/** Splits a URL into path and query values and judges each; file: URLs are plain paths. */
function checkUrl(c: Compiled, scan: Scan, url: string, raw: string, hidden: boolean): void {
  const sep = url.indexOf("://");
  const scheme = url.slice(0, sep);
  let rest = url.slice(sep + 3);
  if (c.wrappers.has(scheme)) {
    reportCode(c, scan, "PATH_LFI_WRAPPER", url);
    return;
  }
  if (scheme === "file") {
    const slash = rest.indexOf("/");
    checkPath(c, scan, slash >= 0 ? rest.slice(slash) : rest, {
      raw,
      hidden,
      explicit: true,
      traversal: true,
      sensitive: "full",
    });
    return;
  }
  // The authority ends at the first slash, backslash or question mark.
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest.charCodeAt(i);
    if (ch === 47 || ch === 92 || ch === 63) {
      end = i;
      break;
    }
  }
  rest = rest.slice(end);
  const q = rest.indexOf("?");
  const path = q >= 0 ? rest.slice(0, q) : rest;
  if (path.length > 1) {
    checkPath(c, scan, path, { raw, hidden, explicit: false, traversal: true, sensitive: "url" });
  }
  if (q < 0) return;
  const query = rest.slice(q + 1);
  let start = 0;
  while (start <= query.length && scan.candidates < MAX_CANDIDATES) {
    let amp = query.indexOf("&", start);
    if (amp < 0) amp = query.length;
    const pair = query.slice(start, amp);
    const eq = pair.indexOf("=");
    const value = eq >= 0 ? pair.slice(eq + 1) : pair;
    const explicit = eq > 0 && c.pathKeys.has(pair.slice(0, eq).trim());
    if (value.indexOf("://") > 0 && value.indexOf("://") < 12) {
      checkNestedUrl(c, scan, value, raw, hidden);
    } else {
      checkPath(c, scan, value, { raw, hidden, explicit, traversal: true, sensitive: "full" });
    }
    start = amp + 1;
  }
}

function checkNestedUrl(c: Compiled, scan: Scan, url: string, raw: string, hidden: boolean): void {
  // One level of nesting is enough: a URL inside a query value (?next=file:///etc/passwd).
  const scheme = url.slice(0, url.indexOf("://"));
  if (scheme === "file" || c.wrappers.has(scheme)) checkUrl(c, scan, url, raw, hidden);
}

function isUrl(text: string): boolean {
  const sep = text.indexOf("://");
  if (sep <= 0 || sep > 20) return false;
  for (let i = 0; i < sep; i++) {
    const ch = text.charCodeAt(i);
    if (!(isAlnum(ch) || ch === 43 || ch === 45 || ch === 46)) return false;
  }
  return true;
}

function checkPathOrUrl(c: Compiled, scan: Scan, text: string, raw: string, origin: Origin): void {
  const trimmed = text.trim();
  if (isUrl(trimmed)) checkUrl(c, scan, trimmed, raw, origin.hidden);
  else checkPath(c, scan, trimmed, origin);
}

function isShellBoundary(code: number): boolean {
  // ; | & ` ( ) and newlines end a command: what follows has its own verb.
  return (
    code === 59 ||
    code === 124 ||
    code === 38 ||
    code === 96 ||
    code === 40 ||
    code === 41 ||
    code === 10 ||
    code === 13
  );
}

function isSpace(code: number): boolean {
  // Blanks, quotes, commas and braces only separate words (open('/etc/shadow'), {a,b}).
  return code === 32 || code === 9 || code === 34 || code === 39 || code === 44 || code === 123;
}

function baseName(word: string): string {
  let w = word;
  const slash = Math.max(w.lastIndexOf("/"), w.lastIndexOf("\\"));
  if (slash >= 0) w = w.slice(slash + 1);
  if (w.endsWith(".exe")) w = w.slice(0, -4);
  return w;
}

const MAX_GLOB_CHARS = 160;
const MAX_NESTED_COMMANDS = 16;
const MAX_BRACE_ALTERNATIVES = 16;

/** The end of a `[...]` class starting at `start`, or -1 when it is not closed. */
function classEnd(p: string, start: number): number {
  let i = start + 1;
  if (p.charCodeAt(i) === 33 || p.charCodeAt(i) === 94) i++;
  if (p.charCodeAt(i) === 93) i++;
  while (i < p.length && i - start < 64) {
    if (p.charCodeAt(i) === 93) return i;
    i++;
  }
  return -1;
}

function classMatches(p: string, start: number, end: number, ch: number): boolean {
  let i = start + 1;
  const negate = p.charCodeAt(i) === 33 || p.charCodeAt(i) === 94;
  if (negate) i++;
  let hit = false;
  for (; i < end; i++) {
    const lo = p.charCodeAt(i);
    if (p.charCodeAt(i + 1) === 45 && i + 2 < end) {
      if (ch >= lo && ch <= p.charCodeAt(i + 2)) hit = true;
      i += 2;
    } else if (ch === lo) hit = true;
  }
  return hit !== negate;
}

/** Shell glob match (`*`, `?`, `[...]`), where no wildcard crosses a `/`. */
function globMatch(p: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const sc = s.charCodeAt(si);
    if (pi < p.length) {
      const pc = p.charCodeAt(pi);
      if (pc === 42) {
        starP = pi++;
        starS = si;
        continue;
      }
      if (pc === 63 && sc !== 47) {
        pi++;
        si++;
        continue;
      }
      if (pc === 91) {
        const end = classEnd(p, pi);
        if (end > 0 && sc !== 47 && classMatches(p, pi, end, sc)) {
          pi = end + 1;
          si++;
          continue;
        }
      } else if (pc === sc) {
        pi++;
        si++;
        continue;
      }
    }
    if (starP >= 0 && s.charCodeAt(starS) !== 47) {
      pi = starP + 1;
      si = ++starS;
      continue;
    }
    return false;
  }
  while (pi < p.length && p.charCodeAt(pi) === 42) pi++;
  return pi === p.length;
}

function hasGlob(text: string): boolean {
  return text.indexOf("*") >= 0 || text.indexOf("?") >= 0 || text.indexOf("[") >= 0;
}

/** `/home/x/`, `/root/`, `/users/x/`, `$home/` all mean "a home directory": written `~/`. */
function homeAlias(path: string): string {
  // `${home}` is written with an escaped brace so it is not read as a template placeholder.
  for (const prefix of ["$home/", "$\u007bhome}/", "/root/", "%userprofile%/"]) {
    if (path.startsWith(prefix)) return `~/${path.slice(prefix.length)}`;
  }
  for (const prefix of ["/home/", "/users/", "c:/users/"]) {
    if (!path.startsWith(prefix)) continue;
    const slash = path.indexOf("/", prefix.length);
    if (slash > prefix.length) return `~/${path.slice(slash + 1)}`;
  }
  return path;
}

/**
 * A shell glob that expands to a credential or system-secret file (/e?c/sh*dow, /???/??ss??,
 * /home/*\/.ssh/id_*) is matched against the canonical targets and judged as that file.
 */
function checkGlob(c: Compiled, scan: Scan, word: string, origin: Origin): void {
  if (word.length > MAX_GLOB_CHARS || !hasGlob(word)) return;
  // Each glob costs a pass over the targets: it counts as a candidate.
  if (scan.blocked || scan.candidates >= MAX_CANDIDATES) return;
  scan.candidates++;
  const pattern = homeAlias(word.replaceAll("\\", "/"));
  for (const target of c.data.globTargets) {
    if (!globMatch(pattern, target)) continue;
    const home = target.startsWith("~/");
    const segments = (home ? target : target.slice(1)).split("/");
    const kind = origin.kind ?? scan.kind;
    matchSensitive(c, scan, segments, !home, origin.sensitive, kind, origin.shell === true);
    if (scan.blocked) return;
  }
}

/** `a{b,c}d` → `abd`, `acd` (the first group; enough for `/etc/{passwd,shadow}`). */
function braceExpand(word: string): string[] | null {
  const open = word.indexOf("{");
  if (open < 0) return null;
  const close = word.indexOf("}", open);
  if (close < 0) return null;
  const body = word.slice(open + 1, close);
  if (body.indexOf(",") < 0) return null;
  const head = word.slice(0, open);
  const tail = word.slice(close + 1);
  const out: string[] = [];
  for (const alt of body.split(",", MAX_BRACE_ALTERNATIVES)) out.push(head + alt + tail);
  return out;
}

/** `$IFS`, `${IFS}` (optionally followed by `$9`-style empty parameters): a word break. */
function ifsLength(command: string, i: number): number {
  let len = 0;
  if (command.startsWith("$\u007bifs}", i)) len = 6;
  else if (command.startsWith("$ifs", i)) len = 4;
  else return 0;
  if (command.charCodeAt(i + len) === 36 && isDigitCode(command.charCodeAt(i + len + 1))) len += 2;
  return len;
}

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** In a Unix-style word, `\x` is `x` (pa\sswd); Windows paths keep their backslashes. */
function unescapeUnixWord(word: string): string {
  if (word.indexOf("\\") < 0 || word.indexOf("/") < 0) return word;
  if (word.charCodeAt(1) === 58 || word.startsWith("\\\\")) return word;
  return word.replaceAll("\\", "");
}

type ShellState = {
  reading: boolean;
  copying: boolean;
  writing: boolean;
  /** 1: the next word is read (`<`); 2: the next word is written (`>`, `>>`). */
  redirect: 0 | 1 | 2;
  args: string[];
  /** The command of this pipeline segment and the word before the current one. */
  verb: string;
  prev: string;
};

/**
 * Shell commands: in each pipeline segment, the arguments after a command that reads, copies
 * or sends file contents (cat, type, base64, scp, curl -F @file…) and every `<` redirection
 * are paths to check; the destination of a copy and every `>` redirection or `tee` argument
 * are checked as writes (persistence files). `cd ..` or `ls ~/.ssh` read nothing and pass.
 * Quotes are removed the way the shell does (`pa''sswd`, "Login Data" keeps its space); globs
 * and brace lists are matched against the files they would expand to. In code, every
 * path-shaped literal is checked, for credential and system-secret files only
 * (`load_dotenv(".env")` is routine).
 */
function checkShell(
  c: Compiled,
  scan: Scan,
  command: string,
  mode: "shell" | "code",
  raw: string,
  hidden: boolean,
  depth = 0,
): void {
  const n = Math.min(command.length, MAX_SHELL_CHARS);
  const origin: Origin = {
    raw,
    hidden,
    explicit: false,
    traversal: false,
    sensitive: mode === "code" ? "block-only" : "full",
  };
  const writeOrigin: Origin = { ...origin, explicit: true, kind: "file_write", shell: true };
  const st: ShellState = {
    reading: mode === "code",
    copying: false,
    writing: false,
    redirect: 0,
    args: [],
    verb: "",
    prev: "",
  };
  const checkArg = (arg: string, o: Origin) => {
    const words = mode === "shell" ? braceExpand(arg) : null;
    for (const w of words ?? [arg]) {
      checkPath(c, scan, w, o);
      checkGlob(c, scan, mode === "shell" ? varsToGlob(w) : w, o);
    }
  };
  const flush = (boundary = 0) => {
    // `readalltext(` or `get-content(`: the parenthesis opens the reader's arguments.
    if (boundary === 40 && st.reading && mode === "shell" && st.args.length === 0) return;
    const args = st.args;
    // The last argument of a copy is where it writes.
    const dest = st.copying && args.length > 1 ? args.length - 1 : args.length;
    for (let a = 0; a < args.length; a++) {
      checkArg(args[a]!, a >= dest || st.writing ? writeOrigin : origin);
    }
    args.length = 0;
    st.reading = mode === "code";
    st.copying = false;
    st.writing = false;
    st.verb = "";
    st.prev = "";
  };
  const onWord = (text: string) => {
    let word = mode === "shell" ? unescapeUnixWord(text) : text;
    if (word === "") return;
    const prev = st.prev;
    st.prev = word;
    if (st.verb === "") st.verb = baseName(word);
    if (mode === "shell" && depth < 2 && scan.nested < MAX_NESTED_COMMANDS) {
      // A string handed to another shell or interpreter (bash -c '…', ssh host '…',
      // python -c "open('/etc/shadow')", awk '{…}') is a command or code of its own; a quoted
      // commit message or file name ("Login Data") is not.
      const handed = c.interpreterFlags.has(prev) || c.nestingCommands.has(st.verb);
      if (handed && (word.indexOf(" ") > 0 || word.indexOf("\t") > 0)) {
        scan.nested++;
        checkShell(c, scan, word, "shell", raw, hidden, depth + 1);
      }
      if (handed && word.indexOf("(") >= 0 && scan.nested < MAX_NESTED_COMMANDS) {
        scan.nested++;
        checkShell(c, scan, word, "code", raw, hidden, depth + 1);
      }
    }
    const c0 = word.charCodeAt(0);
    if (c0 === 60 /* < */ || c0 === 62 /* > */ || (isDigitCode(c0) && word.charCodeAt(1) === 62)) {
      // <file, <<<, >file, >>file, 2>file: the redirection applies to the next word when bare.
      let k = 0;
      while (k < word.length && k < 4 && "<>&0123456789".indexOf(word[k]!) >= 0) k++;
      const out = word.indexOf(">") >= 0 && word.indexOf(">") < k;
      word = word.slice(k);
      if (word === "") {
        st.redirect = out ? 2 : 1;
        return;
      }
      st.redirect = 0;
      checkArg(word, out ? writeOrigin : origin);
      return;
    }
    if (st.redirect !== 0) {
      const out = st.redirect === 2;
      st.redirect = 0;
      checkArg(word, out ? writeOrigin : origin);
      return;
    }
    if (!st.reading && !st.writing) {
      const verb = baseName(word);
      if (c.writers.has(verb)) st.writing = true;
      else if (c.readers.has(verb)) {
        st.reading = true;
        st.copying = c.copiers.has(verb);
      }
      return;
    }
    // Arguments such as if=/etc/shadow, -F file=@~/.aws/credentials or --data-binary @.env.
    const cut = Math.max(word.lastIndexOf("="), word.lastIndexOf("@"));
    const arg = cut >= 0 && cut < word.length - 1 ? word.slice(cut + 1) : word;
    if (arg.charCodeAt(0) === 45 /* - */ || isUrl(arg)) return;
    if (st.args.length < 64) st.args.push(arg);
  };
  const onSubcommand = (inner: string) => {
    if (depth >= 2 || scan.nested >= MAX_NESTED_COMMANDS) return;
    scan.nested++;
    checkShell(c, scan, inner, "shell", raw, hidden, depth + 1);
  };
  if (mode === "code") {
    scanCodeWords(command, n, scan, onWord, flush);
    // A string literal with blanks in it ('~/Library/Application Support/…/Login Data') is
    // one path that the word split above cut into pieces.
    scanSpacedLiterals(command, n, scan, (literal) => checkArg(literal, origin));
  } else scanShellWords(command, n, scan, onWord, flush, onSubcommand);
  flush();
}

/** Calls `onLiteral` with each one-line quoted string of code that holds a blank and a slash. */
function scanSpacedLiterals(
  command: string,
  n: number,
  scan: Scan,
  onLiteral: (literal: string) => void,
): void {
  let i = 0;
  while (i < n && !scan.blocked && scan.candidates < MAX_CANDIDATES) {
    const q = command.charCodeAt(i);
    if (q !== 39 && q !== 34 && q !== 96) {
      i++;
      continue;
    }
    const stop = Math.min(n, i + 1 + MAX_CANDIDATE_CHARS);
    let j = i + 1;
    let blank = false;
    let slash = false;
    while (j < stop) {
      const c = command.charCodeAt(j);
      if (c === q || c === 10 || c === 13) break;
      if (c === 32) blank = true;
      else if (c === 47 || c === 92) slash = true;
      j++;
    }
    if (j < stop && command.charCodeAt(j) === q) {
      if (blank && slash) onLiteral(command.slice(i + 1, j));
      i = j + 1;
    } else {
      // No closing quote on this line: resume after what was read, so the scan stays linear.
      i = j > i + 1 ? j : i + 1;
    }
  }
}

const MAX_ARGV = 64;

/** Quotes one argument for the shell reader: it was an array element, never split or expanded. */
function shellQuote(word: string): string {
  return `'${word.indexOf("'") >= 0 ? word.replaceAll("'", "'\\''") : word}'`;
}

/**
 * A command given as an argument array (`cmd: "reg", args: ["save", "HKLM\\SAM", …]`, or
 * `argv: ["cat", "/etc/shadow"]`): each element alone reads as nothing, so the command line is
 * put back together and judged as a shell command, pattern rules included.
 */
function checkArgv(c: Compiled, scan: Scan, facts: Facts, rules: RuleMatcher): void {
  const params = facts.paramStrings;
  let program: TextView | null = null;
  let prefix: string | null = null;
  const norms: string[] = [];
  const raws: string[] = [];
  for (let k = 0; k < params.length && k < MAX_PARAMS; k++) {
    const p = params[k]!;
    const key = p.key.toLowerCase();
    const path = p.path;
    if (path.charCodeAt(path.length - 1) !== 93 /* ] */) {
      if (program === null && c.programKeys.has(key) && p.value.norm.trim() !== "") {
        program = p.value;
      }
      continue;
    }
    if (!c.argvKeys.has(key) || norms.length >= MAX_ARGV) continue;
    const base = path.slice(0, path.lastIndexOf("["));
    if (prefix === null) prefix = base;
    else if (base !== prefix) continue;
    norms.push(p.value.norm);
    raws.push(p.value.raw);
  }
  if (norms.length === 0 || (program === null && norms.length < 2)) return;
  const head = program === null ? "" : `${program.norm.trim()} `;
  const headRaw = program === null ? "" : `${program.raw.trim()} `;
  const plain = (head + norms.join(" ")).slice(0, MAX_SHELL_CHARS);
  const raw = headRaw + raws.join(" ");
  if (!scan.blocked) {
    const view: TextView = { raw, norm: plain, buf: Buffer.from(plain, "utf8") };
    const before = scan.found.length;
    rules(
      {
        ...facts,
        target: view,
        content: EMPTY_VIEW,
        paramsText: EMPTY_VIEW,
        decoded: [],
        all: view,
      },
      scan.found,
    );
    for (let i = before; i < scan.found.length; i++) {
      const f = scan.found[i]!;
      scan.codes.add(f.code);
      if (f.severity === "BLOCK" && f.confidence >= 0.5) scan.blocked = true;
    }
  }
  if (scan.blocked) return;
  let quoted = head;
  for (let i = 0; i < norms.length && quoted.length < MAX_SHELL_CHARS; i++) {
    quoted += `${i === 0 ? "" : " "}${shellQuote(norms[i]!)}`;
  }
  checkShell(c, scan, quoted, "shell", raw, false);
}

const MAX_SQL_FILES = 16;

/** The file paths SQL reads on the server (COPY … FROM '/etc/shadow'), for credential files. */
function checkSqlFiles(c: Compiled, scan: Scan, all: TextView): void {
  const text = all.norm.length > MAX_LITERAL_SCAN ? all.norm.slice(0, MAX_LITERAL_SCAN) : all.norm;
  // The Buffer test spares RE2 a UTF-16 conversion of the whole text on the common miss.
  if (text.indexOf("'") < 0 || !c.sqlFileTest.test(all.buf)) return;
  const re = c.sqlFile;
  re.lastIndex = 0;
  for (let k = 0; k < MAX_SQL_FILES && !scan.blocked; k++) {
    const m = re.exec(text);
    if (m === null) break;
    const path = m[1];
    if (path === undefined || insideSqlString(text, m.index)) continue;
    checkPath(c, scan, path, {
      raw: all.raw,
      hidden: false,
      explicit: true,
      traversal: false,
      sensitive: "block-only",
      kind: "file_read",
    });
  }
}

/** Whether `index` sits inside a single-quoted SQL string ('' is an escaped quote: parity holds). */
function insideSqlString(text: string, index: number): boolean {
  let quotes = 0;
  const end = Math.min(index, MAX_LITERAL_SCAN);
  for (let i = text.indexOf("'"); i >= 0 && i < end; i = text.indexOf("'", i + 1)) quotes++;
  return quotes % 2 === 1;
}

const EMPTY_VIEW: TextView = Object.freeze({ raw: "", norm: "", buf: Buffer.alloc(0) });

/** Code: quotes, commas and braces separate words; a statement end starts a new verb. */
function scanCodeWords(
  command: string,
  n: number,
  scan: Scan,
  onWord: (w: string) => void,
  onBoundary: () => void,
): void {
  let i = 0;
  while (i < n && !scan.blocked && scan.candidates < MAX_CANDIDATES) {
    const ch = command.charCodeAt(i);
    if (isShellBoundary(ch) || isSpace(ch)) {
      i++;
      continue;
    }
    let j = i;
    while (j < n) {
      const cj = command.charCodeAt(j);
      if (isShellBoundary(cj) || isSpace(cj)) break;
      j++;
    }
    onWord(command.slice(i, j));
    i = j;
  }
  onBoundary();
}

/**
 * Shell: words as the shell splits them. Quotes glue (`'/etc/'sha""dow` is one word) and keep
 * blanks; `$(` or a backquote inside double quotes opens a command of its own; `$IFS` is a
 * blank; `; | & ( )` and newlines end a command.
 */
function scanShellWords(
  command: string,
  n: number,
  scan: Scan,
  onWord: (w: string) => void,
  onBoundary: (boundary: number) => void,
  onSubcommand: (command: string) => void,
): void {
  let word = "";
  let inWord = false;
  let piece = -1;
  let quote = 0;
  // The closing character (`)` or a backquote) that returns into a double-quoted string.
  const resume: number[] = [];
  const endPiece = (j: number) => {
    if (piece >= 0) {
      word += command.slice(piece, j);
      piece = -1;
    }
  };
  const endWord = (j: number) => {
    endPiece(j);
    if (inWord && word !== "") onWord(word);
    word = "";
    inWord = false;
  };
  for (let i = 0; i < n; i++) {
    if (scan.blocked || scan.candidates >= MAX_CANDIDATES) return;
    const ch = command.charCodeAt(i);
    if (quote === 39) {
      if (ch === 39) {
        endPiece(i);
        quote = 0;
      } else if (piece < 0) piece = i;
      continue;
    }
    if (quote === 34) {
      if (ch === 34) {
        endPiece(i);
        quote = 0;
        continue;
      }
      if (ch === 96 || (ch === 36 && command.charCodeAt(i + 1) === 40)) {
        endWord(i);
        onBoundary(ch);
        if (resume.length < 16) resume.push(ch === 96 ? 96 : 41);
        quote = 0;
        if (ch === 36) i++;
        continue;
      }
      if (piece < 0) piece = i;
      continue;
    }
    if (resume.length > 0 && ch === resume[resume.length - 1]) {
      endWord(i);
      onBoundary(ch);
      resume.pop();
      quote = 34;
      inWord = true;
      continue;
    }
    if (ch === 39 || ch === 34) {
      endPiece(i);
      quote = ch;
      inWord = true;
      continue;
    }
    if (inWord && (ch === 96 || (ch === 36 && command.charCodeAt(i + 1) === 40))) {
      // A substitution inside a word (/proc/$(pgrep app)/environ) stands for an unknown name:
      // a wildcard in the word; the command inside is read on its own.
      const open = ch === 96 ? i + 1 : i + 2;
      const close = substitutionEnd(command, open, n, ch === 96);
      if (close > 0) {
        endPiece(i);
        word += "*";
        onSubcommand(command.slice(open, close));
        i = close;
        continue;
      }
    }
    if (isShellBoundary(ch)) {
      endWord(i);
      onBoundary(ch);
      continue;
    }
    if (ch === 32 || ch === 9) {
      endWord(i);
      continue;
    }
    if (ch === 36) {
      const ifs = ifsLength(command, i);
      if (ifs > 0) {
        endWord(i);
        i += ifs - 1;
        continue;
      }
    }
    if (piece < 0) piece = i;
    inWord = true;
  }
  endWord(n);
}

const MAX_SUBSTITUTION_CHARS = 4096;

/** The index of the `)` or backquote closing a substitution opened at `open`, or -1. */
function substitutionEnd(command: string, open: number, n: number, backquote: boolean): number {
  let depth = 1;
  const stop = Math.min(n, open + MAX_SUBSTITUTION_CHARS);
  for (let j = open; j < stop; j++) {
    const c = command.charCodeAt(j);
    if (backquote) {
      if (c === 96) return j;
    } else if (c === 40) depth++;
    else if (c === 41 && --depth === 0) return j;
  }
  return -1;
}

/** `$pid`, `${USER}` inside a word stand for unknown names: as glob wildcards. */
function varsToGlob(word: string): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < word.length; i++) {
    if (word.charCodeAt(i) !== 36) continue;
    let j = i + 1;
    if (word.charCodeAt(j) === 123) {
      const close = word.indexOf("}", j);
      if (close < 0) break;
      j = close + 1;
    } else {
      while (j < word.length) {
        const c = word.charCodeAt(j);
        if (!(isAlnum(c) || c === 95)) break;
        j++;
      }
      if (j === i + 1) continue;
    }
    out += `${word.slice(start, i)}*`;
    start = j;
    i = j - 1;
  }
  return start === 0 ? word : out + word.slice(start);
}

const PROSE_KINDS: ReadonlySet<ActionKind> = new Set(["message", "llm_prompt", "tool_output"]);
const FILE_KINDS: ReadonlySet<ActionKind> = new Set(["file_read", "file_write", "file_delete"]);

/** A parameter that names a file, by its exact name or a word in it. */
function isPathKey(c: Compiled, key: string): boolean {
  if (c.pathKeys.has(key)) return true;
  for (const word of c.data.pathParamWords) if (key.indexOf(word) >= 0) return true;
  return false;
}

const ROLE_ARCHIVE = 1;
const ROLE_FILE = 2;
const ROLE_BULK = 4;
const ROLE_SEARCH = 8;
const ROLE_REMOTE = 16;
const ROLE_RECORD = 32;
const MAX_ROLE_CACHE = 1024;

/** Does a word of the action name (extract_archive, tar.extract, pod-exec) belong to `words`? */
function actionHasWord(words: ReadonlySet<string>, actionName: string): boolean {
  let start = 0;
  const n = Math.min(actionName.length, 256);
  for (let i = 0; i <= n; i++) {
    const ch = i < n ? actionName.charCodeAt(i) : 95;
    if (ch === 95 || ch === 46 || ch === 45 || ch === 47 || ch === 58) {
      if (i > start && words.has(actionName.slice(start, i))) return true;
      start = i + 1;
    }
  }
  return false;
}

/** The whitespace-separated words of an archive listing that could be entry names. */
function checkListing(c: Compiled, scan: Scan, text: TextView): void {
  const norm = text.norm;
  const n = Math.min(norm.length, MAX_SHELL_CHARS);
  let i = 0;
  while (i < n && !scan.blocked && scan.candidates < MAX_CANDIDATES) {
    while (i < n && norm.charCodeAt(i) <= 32) i++;
    let j = i;
    while (j < n && norm.charCodeAt(j) > 32) j++;
    const word = norm.slice(i, j);
    if (word.indexOf("..") >= 0) {
      checkPath(c, scan, word, {
        raw: text.raw,
        hidden: false,
        explicit: true,
        traversal: true,
        sensitive: "full",
        kind: "file_write",
        archive: true,
      });
    }
    i = j;
  }
}

/**
 * Layer 3: path traversal and sensitive files. Every string that names a file — the target of
 * a file action, path parameters, URL paths and query values, arguments of file-reading shell
 * commands, string literals in code, entries of an archive being extracted — is split on every
 * separator a lenient server accepts, resolved, and judged: traversal out of its directory in
 * any encoding, NUL truncation, and credential or system-secret files by canonical path.
 * Prose (messages, prompts, tool output) is never read as paths, so documentation that
 * mentions /etc/passwd passes.
 */
export function createPathLayer(input: unknown): Layer {
  const data = PathDataSchema.parse(input);
  const compiled: Compiled = {
    data,
    separators: new Set(data.separators.map((s) => s.charCodeAt(0))),
    wrappers: new Set(data.lfiWrappers),
    systemRoots: new Set(data.systemRoots),
    readers: new Set(data.readerCommands),
    copiers: new Set(data.copyCommands),
    writers: new Set(data.writerCommands),
    interpreterFlags: new Set(data.interpreterFlags),
    nestingCommands: new Set(data.nestingCommands),
    shellKeys: new Set(data.shellCommandKeys),
    codeKeys: new Set(data.codeKeys),
    pathKeys: new Set(data.pathParamKeys),
    destKeys: new Set(data.destParamKeys),
    sourceKeys: new Set(data.sourceParamKeys),
    archiveWords: new Set(data.archiveActionWords),
    archiveKeys: new Set(data.archiveEntryKeys),
    argvKeys: new Set(data.argvKeys),
    programKeys: new Set(data.programKeys),
    remoteShellWords: new Set(data.remoteShellActionWords),
    rootKeys: new Set(data.rootParamKeys),
    fileWords: new Set(data.fileActionWords),
    sqlFile: new RE2(data.sqlFileArgument, "gu"),
    sqlFileTest: new RE2(data.sqlFileArgument, "u"),
    bulkWords: new Set(data.bulkActionWords),
    searchWords: new Set(data.searchActionWords),
    searchRoots: new Set(data.searchRoots),
    recordWords: new Set(data.recordActionWords),
    allow: new RE2.Set(data.allow, "u"),
    allowDev: new RE2.Set(data.allowDev, "u"),
    allowDevNames: new RE2.Set(data.allowDevNames, "u"),
    devNameExempt: new RE2(data.devNameExempt, "u"),
    literalSecret: new RE2(data.literalSecret, "gu"),
    literalIgnore: new Set(data.literalSecretIgnore),
    sensitive: new RE2.Set(
      data.sensitive.map((s) => s.pattern),
      "u",
    ),
    sensitiveSpecs: data.sensitive,
    sensitiveKinds: data.sensitive.map((s) => (s.kinds ? new Set(s.kinds) : null)),
    // A `..` written plainly between separators: anything else was encoded to get past a filter.
    literalTraversal: new RE2("(?:^|[/\\\\])\\.\\.(?:[/\\\\]|$)", "u"),
    overlong: new RE2(data.overlongPattern, "iu"),
  };
  const rules = compileRules("path", data.rules);
  // What the words of an action name say about it, memoised: agents repeat a few names.
  const roleCache = new Map<string, number>();
  const rolesOf = (actionName: string): number => {
    const cached = roleCache.get(actionName);
    if (cached !== undefined) return cached;
    const roles =
      (actionHasWord(compiled.archiveWords, actionName) ? ROLE_ARCHIVE : 0) |
      (actionHasWord(compiled.fileWords, actionName) ? ROLE_FILE : 0) |
      (actionHasWord(compiled.bulkWords, actionName) ? ROLE_BULK : 0) |
      (actionHasWord(compiled.searchWords, actionName) ? ROLE_SEARCH : 0) |
      (actionHasWord(compiled.remoteShellWords, actionName) ? ROLE_REMOTE : 0) |
      (actionHasWord(compiled.recordWords, actionName) ? ROLE_RECORD : 0);
    if (roleCache.size >= MAX_ROLE_CACHE) roleCache.clear();
    roleCache.set(actionName, roles);
    return roles;
  };
  const sqlRules = compileRules(
    "path",
    data.rules.filter((r) => r.kinds?.includes("sql")),
  );
  // A SQL text that names a browser password column outside any string literal: inside one
  // (INSERT INTO kb_articles VALUES ('… select password_value from logins …')) it is a mention.
  const hasSqlAnchor = (text: string): boolean => {
    for (const a of data.sqlRuleAnchors) {
      const at = text.indexOf(a);
      if (at >= 0 && !insideSqlString(text, at)) return true;
    }
    return false;
  };

  return {
    name: "path",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const kind = facts.kind;
      const prose = PROSE_KINDS.has(kind);
      const roles = rolesOf(facts.actionName);
      const scan: Scan = {
        found: [],
        codes: new Set(),
        seen: null,
        candidates: 0,
        kind,
        blocked: false,
        facts,
        literal: null,
        nested: 0,
        fileAction: !prose && (roles & ROLE_FILE) !== 0,
        rooted: false,
        bulk: !prose && (roles & ROLE_BULK) !== 0,
      };
      // The pattern rules are about commands (hive dumps, browser password tables); other
      // kinds skip their cost.
      const commandKind = kind === "shell" || kind === "code_exec" || kind === "other";
      if (commandKind) rules(facts, scan.found);
      else if (kind === "sql" && hasSqlAnchor(facts.all.norm)) sqlRules(facts, scan.found);
      for (const f of scan.found) {
        scan.codes.add(f.code);
        if (f.severity === "BLOCK") scan.blocked = true;
      }
      const archive = !prose && (roles & ROLE_ARCHIVE) !== 0;

      const target = facts.target;
      if (target.norm !== "" && !prose) {
        if (kind === "shell") checkShell(compiled, scan, target.norm, "shell", target.raw, false);
        else if (kind === "code_exec") {
          checkShell(compiled, scan, target.norm, "code", target.raw, false);
        } else if (kind === "http" && !isUrl(target.norm.trim())) {
          // A bare host/path: the fetch adds http:// itself.
          checkUrl(compiled, scan, `http://${target.norm.trim()}`, target.raw, false);
        } else {
          checkPathOrUrl(compiled, scan, target.norm, target.raw, {
            raw: target.raw,
            hidden: false,
            explicit: FILE_KINDS.has(kind),
            traversal: true,
            sensitive: "full",
          });
        }
      }
      const content = facts.content;
      if (content.norm !== "") {
        if (kind === "shell") {
          checkShell(compiled, scan, content.norm, "shell", content.raw, false);
        } else if (kind === "code_exec") {
          checkShell(compiled, scan, content.norm, "code", content.raw, false);
        } else if (archive) {
          checkListing(compiled, scan, content);
        } else if (kind === "other" && (roles & ROLE_REMOTE) !== 0) {
          // ssh_exec, pod_exec, winrm_invoke: the content is a command run somewhere else.
          checkShell(compiled, scan, content.norm, "shell", content.raw, false);
        }
      }
      const params = facts.paramStrings;
      if (!prose) {
        for (let k = 0; k < params.length && k < MAX_PARAMS; k++) {
          const p = params[k]!;
          if (p.value.norm !== "" && compiled.rootKeys.has(p.key.toLowerCase())) {
            scan.rooted = true;
            break;
          }
        }
      }
      // An unknown tool's command parameters run, unless the tool records text (a ticket
      // quoting the command an attacker ran) and is not itself an execution tool.
      const runsCommands =
        kind !== "other" || (roles & ROLE_REMOTE) !== 0 || (roles & ROLE_RECORD) === 0;
      if (commandKind && runsCommands && params.length > 1) {
        checkArgv(compiled, scan, facts, rules);
      }
      // A file search (search_files, not web_search) started at the root of the machine or of
      // the home directories, given a bare name (id_rsa, *.kdbx): the hunt for credential
      // files, as `find / -name` is.
      let search = false;
      if (scan.fileAction && (roles & ROLE_SEARCH) !== 0) {
        for (let k = 0; k < params.length && k < MAX_PARAMS && !search; k++) {
          search = compiled.searchRoots.has(params[k]!.value.norm.trim());
        }
      }
      // SQL reaches unknown tools (db_exec) and code (sqlite3 calls) too.
      if (kind === "sql" || kind === "other" || kind === "code_exec") {
        checkSqlFiles(compiled, scan, facts.all);
      }
      for (let k = 0; k < params.length && k < MAX_PARAMS; k++) {
        const p = params[k]!;
        const key = p.key.toLowerCase();
        const value = p.value;
        if (value.norm === "") continue;
        if (kind === "shell" && compiled.shellKeys.has(key)) {
          checkShell(compiled, scan, value.norm, "shell", value.raw, false);
        } else if ((kind === "code_exec" || kind === "shell") && compiled.codeKeys.has(key)) {
          checkShell(compiled, scan, value.norm, "code", value.raw, false);
        } else {
          if (kind === "other" && runsCommands) {
            // An unknown tool (ssh_exec, container_run) whose parameter is a command or code:
            // read it as one, and as a path below.
            if (compiled.shellKeys.has(key)) {
              checkShell(compiled, scan, value.norm, "shell", value.raw, false);
            } else if (compiled.codeKeys.has(key) && !compiled.pathKeys.has(key)) {
              checkShell(compiled, scan, value.norm, "code", value.raw, false);
            }
          }
          // In prose actions only named path arguments (an attachment) are paths.
          const dest = !prose && compiled.destKeys.has(key);
          // What a copy or move reads is a read, even in a write action.
          const source = !dest && FILE_KINDS.has(kind) && compiled.sourceKeys.has(key);
          const explicit = dest || isPathKey(compiled, key) || FILE_KINDS.has(kind);
          if (search && !explicit && isBareName(value.norm)) {
            // A file search given a bare name (id_rsa, *.kdbx) is looking for that file.
            checkPath(compiled, scan, `~/${value.norm.trim()}`, {
              raw: value.raw,
              hidden: false,
              explicit: true,
              traversal: false,
              sensitive: "block-only",
              kind: "file_read",
            });
          }
          if (explicit || (!prose && isPathShaped(value.norm))) {
            const entry = archive && !dest && compiled.archiveKeys.has(key);
            checkPathOrUrl(compiled, scan, value.norm, value.raw, {
              raw: value.raw,
              hidden: false,
              explicit,
              traversal: true,
              sensitive: "full",
              ...(dest && kind !== "file_delete" ? { kind: "file_write" as const } : {}),
              ...(source ? { kind: "file_read" as const } : {}),
              ...(entry ? { archive: true } : {}),
              ...(compiled.rootKeys.has(key) ? { root: true } : {}),
            });
          }
        }
      }
      if (!prose) {
        for (const d of facts.decoded) {
          if (kind === "shell" || kind === "code_exec") {
            checkShell(compiled, scan, d.norm, kind === "shell" ? "shell" : "code", d.raw, true);
          } else if (isPathShaped(d.norm)) {
            checkPathOrUrl(compiled, scan, d.norm, d.raw, {
              raw: d.raw,
              hidden: true,
              explicit: false,
              traversal: true,
              sensitive: "full",
            });
          }
        }
      }
      return done(scan.found);
    },
  };
}

/** One short token with no separator or blank: a file name or a name glob. */
function isBareName(text: string): boolean {
  const t = text.trim();
  if (t.length < 2 || t.length > 64) return false;
  for (let i = 0; i < t.length; i++) {
    const ch = t.charCodeAt(i);
    if (ch <= 32 || ch === 47 || ch === 92) return false;
  }
  return true;
}

/**
 * A parameter value that reads as a path even under a key we do not know: it starts at a root,
 * a home or environment variable, a drive, or `.`, or it contains `..`; and it is one token
 * (a few spaces at most, "Program Files"). "application/json" is not a path.
 */
function isPathShaped(text: string): boolean {
  if (text.length === 0 || text.length > MAX_CANDIDATE_CHARS) return false;
  let spaces = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if ((ch === 32 || ch === 10 || ch === 9) && ++spaces > 3) return false;
  }
  const c0 = text.charCodeAt(0);
  if (c0 === 47 || c0 === 92 || c0 === 126 || c0 === 46 || c0 === 36 || c0 === 37) return true;
  const c2 = text.charCodeAt(2);
  if (text.charCodeAt(1) === 58 && (c2 === 47 || c2 === 92)) return true;
  return text.indexOf("..") >= 0;
}
