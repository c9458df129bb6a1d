import RE2 from "re2";
import { z } from "zod";
import { ACTION_KINDS, compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import type { ActionKind, Facts, Finding, Layer, Severity } from "./types.js";

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
  shellCommandKeys: z.array(z.string().min(1)),
  codeKeys: z.array(z.string().min(1)),
  pathParamKeys: z.array(z.string().min(1)),
  allow: z.array(Re2Pattern),
  /** Test fixtures, examples, fakes: they silence WARN-level entries, never BLOCK ones. */
  allowDev: z.array(Re2Pattern),
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
  if (seg.indexOf("..") >= 0) shape.dotsInName = true;
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
}>;

type Compiled = Readonly<{
  data: PathData;
  separators: ReadonlySet<number>;
  wrappers: ReadonlySet<string>;
  systemRoots: ReadonlySet<string>;
  readers: ReadonlySet<string>;
  copiers: ReadonlySet<string>;
  shellKeys: ReadonlySet<string>;
  codeKeys: ReadonlySet<string>;
  pathKeys: ReadonlySet<string>;
  allow: InstanceType<typeof RE2.Set>;
  allowDev: InstanceType<typeof RE2.Set>;
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

/** Matches one canonical path against the sensitive-file list; the allow list wins. */
function matchSensitive(
  c: Compiled,
  scan: Scan,
  segments: readonly string[],
  absolute: boolean,
  mode: Origin["sensitive"],
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
    if (kinds && !kinds.has(scan.kind)) continue;
    if (spec.severity === "WARN") {
      dev ??= c.allowDev.test(buf);
      if (dev) continue;
    }
    if (mode === "block-only" && spec.severity !== "BLOCK") continue;
    if (mode === "url") {
      if (spec.severity === "BLOCK") reportCode(c, scan, "SENSITIVE_FILE_IN_URL", canonical);
      continue;
    }
    add(scan, spec.id, spec.severity, spec.confidence, spec.message, canonical);
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
  if (scan.seen.has(text)) return;
  scan.seen.add(text);
  scan.candidates++;
  const shape = shapeOf(text, c.separators);
  if (!origin.traversal) {
    matchSensitive(c, scan, shape.resolved, shape.absolute, origin.sensitive);
    if (shape.truncated !== null) {
      matchSensitive(c, scan, shape.truncated, shape.absolute, origin.sensitive);
    }
    return;
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
        !FILE_KINDS.has(scan.kind) &&
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
  matchSensitive(c, scan, shape.resolved, shape.absolute, origin.sensitive);
  if (shape.truncated !== null) {
    matchSensitive(c, scan, shape.truncated, shape.absolute, origin.sensitive);
  }
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

function checkPathOrUrl(
  c: Compiled,
  scan: Scan,
  text: string,
  raw: string,
  hidden: boolean,
  explicit: boolean,
): void {
  const trimmed = text.trim();
  if (isUrl(trimmed)) checkUrl(c, scan, trimmed, raw, hidden);
  else checkPath(c, scan, trimmed, { raw, hidden, explicit, traversal: true, sensitive: "full" });
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

/**
 * Shell commands: in each pipeline segment, the arguments after a command that reads, copies
 * or sends file contents (cat, type, base64, scp, curl -F @file…) and every `<` redirection
 * are paths to check; the destination of a copy (`cp .env.example .env`) is not read. `cd ..`
 * or `ls ~/.ssh` read nothing and pass. In code, every path-shaped literal is checked, for
 * credential and system-secret files only (`load_dotenv(".env")` is routine).
 */
function checkShell(
  c: Compiled,
  scan: Scan,
  command: string,
  mode: "shell" | "code",
  raw: string,
  hidden: boolean,
): void {
  const n = Math.min(command.length, MAX_SHELL_CHARS);
  const origin: Origin = {
    raw,
    hidden,
    explicit: false,
    traversal: false,
    sensitive: mode === "code" ? "block-only" : "full",
  };
  let reading = mode === "code";
  let copying = false;
  let redirect = false;
  const args: string[] = [];
  const flush = () => {
    // The last argument of a copy is where it writes.
    const count = copying && args.length > 1 ? args.length - 1 : args.length;
    for (let a = 0; a < count; a++) checkPath(c, scan, args[a]!, origin);
    args.length = 0;
    reading = mode === "code";
    copying = false;
  };
  let i = 0;
  while (i < n && !scan.blocked && scan.candidates < MAX_CANDIDATES) {
    const ch = command.charCodeAt(i);
    if (isShellBoundary(ch)) {
      if (mode === "shell") flush();
      i++;
      continue;
    }
    if (isSpace(ch)) {
      i++;
      continue;
    }
    let j = i;
    while (j < n) {
      const cj = command.charCodeAt(j);
      if (isShellBoundary(cj) || isSpace(cj)) break;
      j++;
    }
    let word = command.slice(i, j);
    i = j;
    if (word === "<") {
      redirect = true;
      continue;
    }
    if (word.charCodeAt(0) === 60 /* < */) {
      word = word.slice(1);
      redirect = true;
    }
    if (redirect) {
      redirect = false;
      checkPath(c, scan, word, origin);
      continue;
    }
    if (!reading) {
      const verb = baseName(word);
      if (c.readers.has(verb)) {
        reading = true;
        copying = c.copiers.has(verb);
      }
      continue;
    }
    // Arguments such as if=/etc/shadow, -F file=@~/.aws/credentials or --data-binary @.env.
    const cut = Math.max(word.lastIndexOf("="), word.lastIndexOf("@"));
    const arg = cut >= 0 && cut < word.length - 1 ? word.slice(cut + 1) : word;
    if (arg.charCodeAt(0) === 45 /* - */ || arg.charCodeAt(0) === 62 /* > */ || isUrl(arg)) {
      continue;
    }
    if (args.length < 64) args.push(arg);
  }
  flush();
}

const PROSE_KINDS: ReadonlySet<ActionKind> = new Set(["message", "llm_prompt", "tool_output"]);
const FILE_KINDS: ReadonlySet<ActionKind> = new Set(["file_read", "file_write", "file_delete"]);

/**
 * Layer 3: path traversal and sensitive files. Every string that names a file — the target of
 * a file action, path parameters, URL paths and query values, arguments of file-reading shell
 * commands, string literals in code — is split on every separator a lenient server accepts,
 * resolved, and judged: traversal out of its directory in any encoding, NUL truncation, and
 * credential or system-secret files by canonical path. Prose (messages, prompts, tool output)
 * is never read as paths, so documentation that mentions /etc/passwd passes.
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
    shellKeys: new Set(data.shellCommandKeys),
    codeKeys: new Set(data.codeKeys),
    pathKeys: new Set(data.pathParamKeys),
    allow: new RE2.Set(data.allow, "u"),
    allowDev: new RE2.Set(data.allowDev, "u"),
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

  return {
    name: "path",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const kind = facts.kind;
      const prose = PROSE_KINDS.has(kind);
      const scan: Scan = {
        found: [],
        codes: new Set(),
        seen: null,
        candidates: 0,
        kind,
        blocked: false,
      };
      // The pattern rules are about commands (hive dumps); other kinds skip their cost.
      if (kind === "shell" || kind === "code_exec" || kind === "other") rules(facts, scan.found);
      for (const f of scan.found) {
        scan.codes.add(f.code);
        if (f.severity === "BLOCK") scan.blocked = true;
      }

      const target = facts.target;
      if (target.norm !== "" && !prose) {
        if (kind === "shell") checkShell(compiled, scan, target.norm, "shell", target.raw, false);
        else if (kind === "code_exec") {
          checkShell(compiled, scan, target.norm, "code", target.raw, false);
        } else if (kind === "http" && !isUrl(target.norm.trim())) {
          // A bare host/path: the fetch adds http:// itself.
          checkUrl(compiled, scan, `http://${target.norm.trim()}`, target.raw, false);
        } else {
          checkPathOrUrl(compiled, scan, target.norm, target.raw, false, FILE_KINDS.has(kind));
        }
      }
      const content = facts.content;
      if (content.norm !== "") {
        if (kind === "shell") {
          checkShell(compiled, scan, content.norm, "shell", content.raw, false);
        } else if (kind === "code_exec") {
          checkShell(compiled, scan, content.norm, "code", content.raw, false);
        }
      }
      const params = facts.paramStrings;
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
          // In prose actions only named path arguments (an attachment) are paths.
          const explicit = compiled.pathKeys.has(key) || FILE_KINDS.has(kind);
          if (explicit || (!prose && isPathShaped(value.norm))) {
            checkPathOrUrl(compiled, scan, value.norm, value.raw, false, explicit);
          }
        }
      }
      if (!prose) {
        for (const d of facts.decoded) {
          if (kind === "shell" || kind === "code_exec") {
            checkShell(compiled, scan, d.norm, kind === "shell" ? "shell" : "code", d.raw, true);
          } else if (isPathShaped(d.norm)) {
            checkPathOrUrl(compiled, scan, d.norm, d.raw, true, false);
          }
        }
      }
      return done(scan.found);
    },
  };
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
