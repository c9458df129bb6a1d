import RE2 from "re2";
import { z } from "zod";
import { ACTION_KINDS, compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import type { ActionKind, Facts, Finding, Layer, Severity } from "./types.js";

/** Every finding this layer can raise; data/sql.json gives each its severity and message. */
export const SQL_CODES = [
  "SQL_TAUTOLOGY",
  "SQL_UNION_INJECTION",
  "SQL_STACKED_QUERY",
  "SQL_COMMENT_TRUNCATION",
  "SQL_ERROR_BASED",
  "SQL_TIME_BLIND",
  "SQL_BOOLEAN_BLIND",
  "SQL_OUT_OF_BAND",
  "SQL_SCHEMA_ENUMERATION",
  "SQL_OBFUSCATED",
  "SQL_COLUMN_PROBE",
  "SQL_INJECTED_FRAGMENT",
  "SQL_SYNTAX_BREAK",
  "SQL_DROP_DATABASE",
  "SQL_DROP_TABLE",
  "SQL_TRUNCATE",
  "SQL_UNBOUNDED_DELETE",
  "SQL_UNBOUNDED_UPDATE",
  "SQL_ALTER_DROP_COLUMN",
  "SQL_PRIVILEGE_GRANT",
  "SQL_SERVER_SHUTDOWN",
  "SQL_DROP_TEMP_TABLE",
  "SQL_TRUNCATE_STAGING",
  "SQL_BULK_DELETE",
  "SQL_DROP_LEGACY_COLUMN",
  "SQL_DROP_OBJECT",
  "SQL_PRIVILEGE_CHANGE",
  "SQL_CREDENTIAL_TABLE_READ",
  "SQL_CONCAT_SUBQUERY",
  "SQL_MASS_CHANGE",
  "NOSQL_OPERATOR_INJECTION",
  "NOSQL_JS_INJECTION",
  "NOSQL_JS_QUERY",
  "NOSQL_STORE_WIPE",
  "NOSQL_UNBOUNDED_DELETE",
  "NOSQL_UNBOUNDED_UPDATE",
  "NOSQL_INDEX_DELETE",
] as const;

export type SqlCode = (typeof SQL_CODES)[number];

const Words = z.array(
  z
    .string()
    .min(1)
    .regex(/^[^A-Z]*$/, { message: "must be lower case" }),
);

function compiles(pattern: string): boolean {
  try {
    new RE2(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

const Pattern = z.string().min(1).refine(compiles, { message: "is not a valid RE2 pattern" });

const FindingSpecSchema = z.strictObject({
  severity: z.enum(["BLOCK", "WARN"]),
  confidence: z.number().min(0).max(1),
  message: z.string().min(1),
});

/** data/sql.json: keyword and function lists, naming conventions, finding texts, bounds. */
export const SqlDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  limits: z.strictObject({
    maxStatementChars: z.number().int().positive(),
    maxValueChars: z.number().int().positive(),
    maxValues: z.number().int().positive(),
    maxTokens: z.number().int().positive(),
    maxTotalChars: z.number().int().positive(),
    /** Past maxStatementChars / maxTokens, this many final characters are still read. */
    maxTailChars: z.number().int().positive(),
  }),
  statementKeywords: Words,
  reservedWords: Words,
  clauseKeywords: Words,
  breakKeywords: Words,
  timeFunctions: Words,
  timeSequences: z.array(Words.min(2)),
  errorFunctions: Words,
  castFunctions: Words,
  oobFunctions: Words,
  oobSequences: z.array(Words.min(2)),
  sysinfoFunctions: Words,
  sysinfoWords: Words,
  enumerationNames: Words,
  enumerationPrefixes: Words,
  credentialTables: Words,
  /** Columns that hold secrets: whole names, `_`-separated parts, part prefixes. */
  credentialColumns: z.strictObject({ names: Words, parts: Words, partPrefixes: Words }),
  /** String functions that read part of a value (`substring`, `ascii`): blind extraction. */
  extractFunctions: Words,
  charFunctions: Words,
  concatFunctions: Words,
  /** Aggregates that fold many rows into one string (`group_concat`, `string_agg`): a dump. */
  dumpFunctions: Words,
  splitKeywords: Words,
  stackedStatements: z.record(z.string(), z.array(z.string())),
  dropObjectsWarn: Words,
  /** DROP of these takes a whole database (CQL keyspaces, catalogs). */
  dropDatabaseObjects: Words,
  /** DROP of these takes a table's data (Influx measurements, collections). */
  dropTableObjects: Words,
  privilegeEscalation: Words,
  tempTables: z.strictObject({
    prefixes: Words,
    suffixes: Words,
    contains: Words,
    schemas: Words,
  }),
  legacyColumns: Words,
  timeColumns: z.strictObject({ suffixes: Words, names: Words }),
  /** Functions and keywords that make a comparison a point in time (`now()`, `interval`). */
  timeExpressionWords: Words,
  expiryColumns: Words,
  keyColumns: z.strictObject({ names: Words, suffixes: Words }),
  skipKinds: z.array(z.enum(ACTION_KINDS)),
  codeParamKeys: Words,
  /**
   * Parameters that state how many rows a statement touches (`affected_rows_preview`,
   * `estimated_rows`): matched as parts of the key without separators or case.
   */
  rowCountKeyParts: Words,
  /** A DELETE or UPDATE said to touch at least this many rows deserves a look. */
  massChangeRows: z.number().int().positive(),
  /** Parameters that carry SQL text in any tool (`{"sql": "DELETE …"}`). */
  sqlParamKeys: Words,
  /** Words that run a string as SQL (`EXEC('…')`, `PREPARE s FROM '…'`): its literal is code. */
  dynamicSqlWords: Words,
  /** Query documents (MongoDB-style operators) and the JavaScript some stores run. */
  nosql: z.strictObject({
    $comment: z.string().optional(),
    maxNodes: z.number().int().positive(),
    maxDepth: z.number().int().positive(),
    bypassOperators: Words,
    alwaysTrueOperators: Words,
    jsOperators: Words,
    /** Operators spelled without `$` (Hasura `_neq`, Prisma `not`): operators only under a field. */
    plainOperators: Words,
    jsAttackPatterns: z.array(Pattern).min(1),
    /** Operators written as text; group 1 is the field, group 2 the operator. */
    operatorTextPatterns: z.array(Pattern).min(1),
    /** A whole value that is an operator document; group 1 is the operator. */
    valueOperatorPattern: Pattern,
    secretFields: Words,
    identityFields: Words,
    authContextTokens: Words,
  }),
  /** Operations on non-SQL stores named in structured params, and SQL embedded in commands. */
  stores: z.strictObject({
    $comment: z.string().optional(),
    opKeys: Words,
    wipeOps: Words,
    containerOps: Words,
    deleteOps: Words,
    updateOps: Words,
    genericOps: Words,
    filterKeys: Words,
    containerKeys: Words,
    neutralKeys: Words,
    matchAllKeys: Words,
    storeTokens: Words,
    searchTokens: Words,
    searchPorts: z.array(z.string().regex(/^\d+$/)),
    methodKeys: Words,
    pathKeys: Words,
    /** A database client or driver call in a command or program. */
    sqlContextPattern: Pattern,
    destructiveStatementPattern: Pattern,
    /** A many-document delete call written as code (`db.c.deleteMany(`, `delete_many(`). */
    bulkDeleteCallPattern: Pattern,
  }),
  findings: z
    .record(z.enum(SQL_CODES), FindingSpecSchema)
    .refine((f) => SQL_CODES.every((code) => f[code] !== undefined), {
      message: "every SQL finding code needs a severity, confidence and message",
    }),
});

export type SqlData = z.infer<typeof SqlDataSchema>;

// ---------------------------------------------------------------------------------------------
// Tokenizer: one linear pass, no backtracking. Strings, comments, words, numbers, operators.

const T_WORD = 1;
const T_NUM = 2;
const T_HEX = 3;
const T_STR = 4;
const T_OP = 5;
const T_PUNCT = 6;
const T_COMMENT = 7;

type Tok = {
  type: number;
  start: number;
  end: number;
  /** Word, operator or punctuation text; a string's or comment's content. */
  text: string;
  /** A string or block comment that never closed. */
  open: boolean;
  /** A word rebuilt across an inline comment (UN/∗∗/ION). */
  split: boolean;
  /** A line comment that opens with a quote after code on the same line (`--'`). */
  quoteLead: boolean;
};

type Tokens = {
  toks: Tok[];
  /** The tokens without comments: what the database would parse. */
  code: Tok[];
  /** The value closed a quote of the host query before its first token (breakout). */
  breakout: boolean;
  /** MySQL versioned comments (`/∗!50000 … ∗/`) hid code. */
  versioned: boolean;
  /** Stopped at the token bound before the end of the text. */
  truncated: boolean;
  /** Some word was rebuilt across an inline comment. */
  joined: boolean;
};

type TokenizeOptions = {
  /** 0, or the quote character the text is assumed to start inside of. */
  quote: number;
  /** `+` is a space (form-encoded query strings). */
  plusSpace: boolean;
  /** Typographic quotes count as quotes (values only: some back-ends fold them). */
  foldQuotes: boolean;
  maxTokens: number;
  /** Inline comments always separate words (`UNION/∗∗/SELECT` is two words). */
  noJoin?: boolean;
};

const EMPTY_TOKENS: Tokens = {
  toks: [],
  code: [],
  breakout: false,
  versioned: false,
  truncated: false,
  joined: false,
};

function foldedQuote(c: number): number {
  if (c === 0x2018 || c === 0x2019 || c === 0x2032 || c === 0x02bc || c === 0x201b) return 39;
  if (c === 0x201c || c === 0x201d || c === 0x2033) return 34;
  return 0;
}

function quoteOf(c: number, fold: boolean): number {
  if (c === 39 || c === 34 || c === 96) return c;
  return fold && c >= 0x2b0 ? foldedQuote(c) : 0;
}

function isSpace(c: number, plus: boolean): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0 || c === 0xa0 || c === 0x3000 || (plus && c === 43)
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

function isWordStart(c: number): boolean {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 64) return true;
  if (c < 0x80) return false;
  // Dashes, typographic quotes and spaces are punctuation even though they are not ASCII.
  return !(
    foldedQuote(c) !== 0 ||
    (c >= 0x2010 && c <= 0x2015) ||
    c === 0x2212 ||
    c === 0xa0 ||
    c === 0x3000 ||
    c === 0x2028 ||
    c === 0x2029
  );
}

function isWordChar(c: number): boolean {
  return isWordStart(c) || isDigit(c) || c === 36 /* $ */;
}

/** Index of the quote closing a string whose content starts at `from`, or -1. */
function closeOf(src: string, from: number, to: number, q: number, fold: boolean): number {
  let j = from;
  while (j < to) {
    const c = src.charCodeAt(j);
    if (c === 92 && q !== 96) {
      j += 2;
      continue;
    }
    if (c === q || (fold && q !== 96 && c >= 0x2b0 && foldedQuote(c) === q)) {
      const next = src.charCodeAt(j + 1);
      if (j + 1 < to && next === c) {
        j += 2;
        continue;
      }
      return j;
    }
    j++;
  }
  return -1;
}

/** Two- and three-character operators, from their first characters (no substring). */
function operatorAt(c: number, d: number, e: number): string | null {
  switch (c) {
    case 60: // <
      if (d === 61) return e === 62 ? "<=>" : "<=";
      return d === 62 ? "<>" : null;
    case 62: // >
      return d === 61 ? ">=" : null;
    case 33: // !
      return d === 61 ? "!=" : d === 60 ? "!<" : d === 62 ? "!>" : null;
    case 124: // |
      return d === 124 ? "||" : null;
    case 38: // &
      return d === 38 ? "&&" : null;
    case 58: // :
      return d === 58 ? "::" : d === 61 ? ":=" : null;
    case 61: // =
      return d === 61 ? "==" : null;
    default:
      return null;
  }
}

function makeTok(type: number, start: number, end: number, text: string): Tok {
  return {
    type,
    start,
    end,
    text,
    open: false,
    split: false,
    quoteLead: false,
  };
}

function tokenize(src: string, from: number, to: number, o: TokenizeOptions): Tokens {
  const toks: Tok[] = [];
  let i = from;
  let breakout = false;
  let versioned = false;
  let inVersioned = false;
  let lineHasCode = false;
  let joined = false;
  if (o.quote !== 0) {
    // The value is assumed to sit inside a quoted literal of the host query: the text up to
    // the first matching quote is data, what follows is code.
    const first = src.charCodeAt(from);
    const close =
      first === o.quote || (o.foldQuotes && foldedQuote(first) === o.quote)
        ? from
        : closeOf(src, from, to, o.quote, o.foldQuotes);
    if (close < 0) return EMPTY_TOKENS;
    toks.push(makeTok(T_STR, from, close + 1, src.slice(from, close)));
    breakout = true;
    lineHasCode = true;
    i = close + 1;
  }
  while (i < to && toks.length < o.maxTokens) {
    const c = src.charCodeAt(i);
    if (c === 10) {
      lineHasCode = false;
      i++;
      continue;
    }
    if (isSpace(c, o.plusSpace)) {
      i++;
      continue;
    }
    const next = i + 1 < to ? src.charCodeAt(i + 1) : 0;
    if (inVersioned && c === 42 && next === 47) {
      inVersioned = false;
      i += 2;
      continue;
    }
    const q = quoteOf(c, o.foldQuotes);
    if (q !== 0) {
      const close = closeOf(src, i + 1, to, q, o.foldQuotes);
      const end = close < 0 ? to : close + 1;
      const tok = makeTok(
        q === 96 ? T_WORD : T_STR,
        i,
        end,
        src.slice(i + 1, close < 0 ? to : close),
      );
      tok.open = close < 0;
      toks.push(tok);
      lineHasCode = true;
      i = end;
      continue;
    }
    if ((c === 45 && next === 45) || (c === 35 && !isWordChar(next))) {
      let end = src.indexOf("\n", i);
      if (end < 0 || end > to) end = to;
      const bodyStart = i + (c === 35 ? 1 : 2);
      const tok = makeTok(T_COMMENT, i, end, src.slice(bodyStart, Math.min(end, bodyStart + 64)));
      let k = bodyStart;
      while (k < end) {
        const b = src.charCodeAt(k);
        if (b !== 45 && b !== 43 && b !== 32 && b !== 9) break;
        k++;
      }
      tok.quoteLead = lineHasCode && k < end && quoteOf(src.charCodeAt(k), o.foldQuotes) !== 0;
      toks.push(tok);
      i = end;
      continue;
    }
    if (c === 47 && next === 42) {
      if (i + 2 < to && src.charCodeAt(i + 2) === 33 /* ! */) {
        // MySQL runs the inside of /*!…*/ as code: read it as code.
        versioned = true;
        inVersioned = true;
        i += 3;
        while (i < to && isDigit(src.charCodeAt(i))) i++;
        continue;
      }
      const close = src.indexOf("*/", i + 2);
      const end = close < 0 || close + 2 > to ? to : close + 2;
      const tok = makeTok(T_COMMENT, i, end, "");
      tok.open = close < 0 || close + 2 > to;
      toks.push(tok);
      i = end;
      continue;
    }
    if (isDigit(c)) {
      let j = i + 1;
      let type = T_NUM;
      if (c === 48 && (next | 0x20) === 120 && isHexDigit(src.charCodeAt(i + 2))) {
        type = T_HEX;
        j = i + 2;
        while (j < to && isHexDigit(src.charCodeAt(j))) j++;
      } else {
        while (j < to && isDigit(src.charCodeAt(j))) j++;
        if (src.charCodeAt(j) === 46 && isDigit(src.charCodeAt(j + 1))) {
          j++;
          while (j < to && isDigit(src.charCodeAt(j))) j++;
        }
      }
      toks.push(makeTok(type, i, j, src.slice(i, j)));
      lineHasCode = true;
      i = j;
      continue;
    }
    if (isWordStart(c) || (c === 35 && isWordChar(next))) {
      let j = i + 1;
      while (j < to && isWordChar(src.charCodeAt(j))) j++;
      // Request text arrives normalised (lower case): no case folding here.
      if (pushWord(toks, makeTok(T_WORD, i, j, src.slice(i, j)), o.noJoin === true)) joined = true;
      lineHasCode = true;
      i = j;
      continue;
    }
    lineHasCode = true;
    if (c === 40 || c === 41 || c === 44 || c === 59 || c === 46 || c === 91 || c === 93) {
      toks.push(makeTok(T_PUNCT, i, i + 1, src[i]!));
      i++;
      continue;
    }
    const op = operatorAt(c, next, i + 2 < to ? src.charCodeAt(i + 2) : 0);
    if (op !== null) {
      toks.push(makeTok(T_OP, i, i + op.length, op));
      i += op.length;
      continue;
    }
    // Unicode dashes stand for minus; any other character is a one-character operator.
    const text = c >= 0x2010 && c <= 0x2015 ? "-" : String.fromCharCode(c);
    toks.push(makeTok(T_OP, i, i + 1, text));
    i++;
  }
  const code: Tok[] = [];
  for (const t of toks) if (t.type !== T_COMMENT) code.push(t);
  return { toks, code, breakout, versioned, truncated: i < to, joined };
}

/**
 * Appends a word, joining it to what it touches: `a.b` and `master..x` become one qualified
 * name; `un/∗∗/ion` (a word, an inline comment, a word, no spaces) becomes `union` unless
 * `noJoin` (then the comment is a space, as in most engines). Returns whether it so joined.
 */
function pushWord(toks: Tok[], word: Tok, noJoin: boolean): boolean {
  const n = toks.length;
  const prev = toks[n - 1];
  if (prev !== undefined && prev.end === word.start) {
    if (prev.type === T_PUNCT && prev.text === ".") {
      let k = n - 2;
      let dots = ".";
      if (toks[k]?.type === T_PUNCT && toks[k]!.text === "." && toks[k]!.end === prev.start) {
        dots = "..";
        k--;
      }
      const base = toks[k];
      if (base !== undefined && base.type === T_WORD && base.end === toks[k + 1]!.start) {
        base.text = `${base.text}${dots}${word.text}`;
        base.end = word.end;
        toks.length = k + 1;
        return false;
      }
    } else if (!noJoin && prev.type === T_COMMENT && !prev.open && prev.text === "") {
      const base = toks[n - 2];
      if (base !== undefined && base.type === T_WORD && base.end === prev.start) {
        base.text += word.text;
        base.end = word.end;
        base.split = true;
        toks.length = n - 1;
        return true;
      }
    }
  }
  toks.push(word);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Signals: what a token stream does, independent of where it came from.

const S_UNION = 0;
const S_TAUT = 1;
const S_BOOL = 2;
const S_SUBQ = 3;
const S_TIME = 4;
const S_ERROR = 5;
const S_OOB = 6;
const S_SYSINFO = 7;
const S_ENUM = 8;
const S_CHAR = 9;
const S_STACKED = 10;
const S_TRUNC = 11;
const S_SPLIT = 12;
const S_ORDER = 13;
const S_FRAG = 14;
const S_BREAK = 15;
const S_CRED = 16;
const S_CONCAT = 17;
const SIGNALS = 18;

type Mode = "statement" | "value" | "literal";

// Which word lists a word is on (one Map lookup per word).
const F_TIME = 1;
const F_ERROR = 2;
const F_CAST = 4;
const F_OOB = 8;
const F_SYSFN = 16;
const F_SYSWORD = 32;
const F_ENUM = 64;
const F_CRED = 128;
const F_CHAR = 256;
const F_CONCAT = 512;
const F_SEQ = 1024;
const F_KEYWORD = 2048;
const F_EXTRACT = 4096;

/** Words the analysis branches on; only these enter its switch. */
const SWITCH_WORDS = [
  "select",
  "union",
  "or",
  "xor",
  "and",
  "when",
  "if",
  "not",
  "rlike",
  "regexp",
  "having",
  "elt",
  "iif",
  "where",
  "order",
  "group",
  "copy",
  "exp",
];

type Signals = {
  /** Token start offsets (into the source text) per signal, -1 when absent; null until one. */
  at: number[] | null;
  any: boolean;
  select: boolean;
  commentEnd: boolean;
  breakout: boolean;
};

function newSignals(): Signals {
  return {
    at: null,
    any: false,
    select: false,
    commentEnd: false,
    breakout: false,
  };
}

function mark(s: Signals, signal: number, tok: Tok): void {
  s.at ??= new Array<number>(SIGNALS).fill(-1);
  if (s.at[signal] === -1) s.at[signal] = tok.start;
  s.any = true;
}

function has(s: Signals, signal: number): boolean {
  return s.at !== null && s.at[signal]! >= 0;
}

function at(s: Signals, signal: number): number {
  return s.at === null ? -1 : s.at[signal]!;
}

// Operand kinds.
const K_NUM = 1;
const K_STR = 2;
const K_IDENT = 3;
const K_BOOL = 4;
const K_NULL = 5;
const K_HEX = 6;

type Operand = { kind: number; value: string; next: number };

const CMP_OPS = new Set(["=", "==", "<>", "!=", "<", ">", "<=", ">=", "<=>", "!<", "!>"]);
// Grammar words the statement parser expects at fixed places.
const END_OPTIONS = new Set(["cascade", "restrict", "purge", "restart", "continue"]);
const DELETE_FOLLOW = new Set(["where", "limit", "using", "returning"]);
const DELETE_TAIL = new Set(["where", "limit", "using", "returning", "as", "order"]);
const DDL_FOLLOW = new Set([
  "cascade",
  "add",
  "drop",
  "rename",
  "modify",
  "as",
  "with",
  "identified",
]);
/** Statements the destructive check reads; any other statement is skipped at its first word. */
const DESTRUCTIVE_HEADS = new Set([
  "drop",
  "truncate",
  "delete",
  "update",
  "alter",
  "create",
  "grant",
  "shutdown",
  "merge",
]);

/** ALTER TABLE … DROP of these loses no rows or columns of data. */
const ALTER_DROP_NO_DATA = new Set([
  "constraint",
  "index",
  "key",
  "primary",
  "foreign",
  "check",
  "default",
  "unique",
]);
// Words after which a parenthesis opens an expression.
const EXPRESSION_WORDS = new Set([
  "when",
  "then",
  "else",
  "if",
  "iif",
  "and",
  "or",
  "xor",
  "not",
  "exists",
  "in",
  "by",
  "select",
  "where",
  "having",
  "on",
  "like",
  "is",
  "between",
  "case",
  "return",
  "asc",
  "desc",
]);
// What may follow the table of a subquery.
const SUBQUERY_TAIL = new Set([
  "where",
  "limit",
  "order",
  "group",
  "join",
  "inner",
  "left",
  "right",
  "cross",
  "union",
  "having",
  "offset",
  "fetch",
]);
const UPDATE_MODIFIERS = new Set(["only", "low_priority", "ignore", "top"]);
const WHERE_END = new Set(["order", "limit", "returning", "group", "offset"]);
const RANGE_OPS = new Set(["<", "<=", ">", ">="]);
const ARITH_OPS = new Set(["+", "-", "*", "/", "%", "^", "&", "|", "||"]);
const FILTER_OPS = new Map([
  ["eq", "="],
  ["ne", "<>"],
  ["gt", ">"],
  ["ge", ">="],
  ["lt", "<"],
  ["le", "<="],
]);
const LIKE_WORDS = new Set(["like", "ilike", "rlike", "regexp", "glob", "similar"]);
const CMP_WORDS = new Set(["like", "rlike", "regexp", "is", "glob"]);

function isPunct(t: Tok | undefined, p: string): boolean {
  return t !== undefined && t.type === T_PUNCT && t.text === p;
}

function isWord(t: Tok | undefined, w: string): boolean {
  return t !== undefined && t.type === T_WORD && t.text === w;
}

/** Compiled word lists (Sets) and the analysis built on them. */
class SqlJudge {
  readonly statementKeywords: ReadonlySet<string>;
  readonly reserved: ReadonlySet<string>;
  readonly dynamicWords: ReadonlySet<string>;
  readonly clause: ReadonlySet<string>;
  readonly breakWords: ReadonlySet<string>;
  readonly timeSeq: readonly (readonly string[])[];
  readonly oob: ReadonlySet<string>;
  readonly oobSeq: readonly (readonly string[])[];
  readonly sysFn: ReadonlySet<string>;
  readonly enumPrefixes: readonly string[];
  readonly charFn: ReadonlySet<string>;
  readonly splitWords: ReadonlySet<string>;
  readonly stacked: ReadonlyMap<string, readonly string[]>;
  readonly dropWarn: ReadonlySet<string>;
  readonly privileged: ReadonlySet<string>;
  readonly timeWords: ReadonlySet<string>;
  readonly dumpFns: ReadonlySet<string>;

  readonly flags: ReadonlyMap<string, number>;
  readonly prefix3: ReadonlySet<string>;
  readonly prefixFirst: Uint8Array;

  constructor(readonly data: SqlData) {
    const flags = new Map<string, number>();
    const flag = (words: readonly string[], bit: number) => {
      for (const w of words) flags.set(w, (flags.get(w) ?? 0) | bit);
    };
    flag(data.timeFunctions, F_TIME);
    flag(data.errorFunctions, F_ERROR);
    flag(data.castFunctions, F_CAST);
    flag(data.oobFunctions, F_OOB);
    flag(data.sysinfoFunctions, F_SYSFN);
    flag(data.sysinfoWords, F_SYSWORD);
    flag(data.enumerationNames, F_ENUM);
    flag(data.credentialTables, F_CRED);
    flag(data.charFunctions, F_CHAR);
    flag(data.concatFunctions, F_CONCAT);
    flag(
      [...data.timeSequences, ...data.oobSequences].map((seq) => seq[0]!),
      F_SEQ,
    );
    flag(SWITCH_WORDS, F_KEYWORD);
    flag(data.extractFunctions, F_EXTRACT);
    this.flags = flags;
    this.prefixFirst = new Uint8Array(128);
    for (const p of data.enumerationPrefixes) this.prefixFirst[p.charCodeAt(0) & 127] = 1;
    this.prefix3 = new Set(data.enumerationPrefixes.map((p) => p.slice(0, 3)));
    this.statementKeywords = new Set(data.statementKeywords);
    this.reserved = new Set(data.reservedWords);
    this.dynamicWords = new Set(data.dynamicSqlWords);
    this.clause = new Set(data.clauseKeywords);
    this.breakWords = new Set(data.breakKeywords);
    this.timeSeq = data.timeSequences;
    this.oob = new Set(data.oobFunctions);
    this.oobSeq = data.oobSequences;
    this.sysFn = new Set(data.sysinfoFunctions);
    this.enumPrefixes = data.enumerationPrefixes;
    this.charFn = new Set(data.charFunctions);
    this.splitWords = new Set(data.splitKeywords);
    this.stacked = new Map(Object.entries(data.stackedStatements));
    this.dropWarn = new Set(data.dropObjectsWarn);
    this.privileged = new Set(data.privilegeEscalation);
    this.timeWords = new Set(data.timeExpressionWords);
    this.dumpFns = new Set(data.dumpFunctions);
  }

  operandAt(code: Tok[], i: number): Operand | null {
    let t = code[i];
    if (t === undefined) return null;
    let sign = "";
    if (t.type === T_OP && (t.text === "-" || t.text === "+") && code[i + 1]?.type === T_NUM) {
      sign = t.text === "-" ? "-" : "";
      i++;
      t = code[i]!;
    }
    switch (t.type) {
      case T_NUM:
        return { kind: K_NUM, value: sign + t.text, next: i + 1 };
      case T_HEX:
        return { kind: K_HEX, value: t.text, next: i + 1 };
      case T_STR:
        return { kind: K_STR, value: t.text, next: i + 1 };
      case T_WORD: {
        if (t.text === "true" || t.text === "false")
          return { kind: K_BOOL, value: t.text, next: i + 1 };
        if (t.text === "null") return { kind: K_NULL, value: t.text, next: i + 1 };
        if (isPunct(code[i + 1], "(") || this.reserved.has(t.text)) return null;
        return { kind: K_IDENT, value: t.text, next: i + 1 };
      }
      default:
        return null;
    }
  }

  /**
   * A comparison `A op B` at i (after up to three opening parentheses). `truth` is known
   * when both sides are constants, or the same column on both sides.
   */
  compareAt(
    code: Tok[],
    i: number,
  ): {
    constBoth: boolean;
    sameIdent: boolean;
    likeAll: boolean;
    truth: boolean | null;
    a: Operand;
    op: string;
    next: number;
  } | null {
    let j = i;
    for (let n = 0; n < 3 && isPunct(code[j], "("); n++) j++;
    const a = this.operandAt(code, j);
    if (a === null) return null;
    let k = a.next;
    // `('x')=('x')`: parentheses around each side.
    for (let n = 0; n < 3 && isPunct(code[k], ")"); n++) k++;
    const t = code[k];
    if (t === undefined) return null;
    let op: string;
    if (t.type === T_OP && CMP_OPS.has(t.text)) {
      op = t.text;
      k++;
    } else if (t.type === T_WORD && CMP_WORDS.has(t.text)) {
      op = t.text;
      k++;
      if (op === "is" && isWord(code[k], "not")) {
        op = "is not";
        k++;
      }
    } else if (isWord(t, "not") && CMP_WORDS.has(code[k + 1]?.text ?? "")) {
      op = `not ${code[k + 1]!.text}`;
      k += 2;
    } else if (t.type === T_WORD && FILTER_OPS.has(t.text)) {
      // OData / SCIM filter languages spell comparisons as words: `1 eq 1`.
      op = FILTER_OPS.get(t.text)!;
      k++;
    } else {
      return null;
    }
    for (let n = 0; n < 3 && isPunct(code[k], "("); n++) k++;
    const b = this.operandAt(code, k);
    if (b === null) return null;
    const constA = a.kind !== K_IDENT;
    const constB = b.kind !== K_IDENT;
    const likeAll = op === "like" && b.kind === K_STR && b.value !== "" && onlyPercent(b.value);
    return {
      constBoth: constA && constB,
      sameIdent: a.kind === K_IDENT && b.kind === K_IDENT && a.value === b.value,
      likeAll,
      truth: likeAll ? true : truthOf(a, b, op),
      a,
      op,
      next: b.next,
    };
  }

  /** Finds every injection technique in one token stream. */
  analyze(tk: Tokens, mode: Mode): Signals {
    const s = newSignals();
    s.breakout = tk.breakout;
    const code = tk.code;
    const last = tk.toks[tk.toks.length - 1];
    s.commentEnd = last !== undefined && last.type === T_COMMENT && code.length > 0;
    // A bare `--` or `#` closing the text: what the payload cut off of the host query.
    const emptyTail = s.commentEnd && last!.text.trim() === "";
    if (tk.versioned && code.length > 0) mark(s, S_SPLIT, code[0]!);
    const statement = mode === "statement";
    let h = 0;
    while (isPunct(code[h], "(")) h++;
    const headStatement =
      code[h]?.type === T_WORD && this.statementKeywords.has(code[h]!.text) && h === 0;
    let chars = 0;
    for (let i = 0; i < code.length; i++) {
      const t = code[i]!;
      const next = code[i + 1];
      if (t.type === T_WORD) {
        const w = t.text;
        if (t.split && this.splitWords.has(w)) mark(s, S_SPLIT, t);
        const call = isPunct(next, "(");
        // One map lookup tells which lists a word is on; most words are on none.
        const f = this.flags.get(w) ?? 0;
        if (f & F_KEYWORD)
          switch (w) {
            case "select":
              s.select = true;
              // `(select … from t)` inside a sort key, a filter or an id: a subquery smuggled
              // into a value (a statement sent as a whole value is judged as one).
              if (
                !statement &&
                !headStatement &&
                isPunct(code[i - 1], "(") &&
                this.expressionAt(code, i - 2) &&
                this.subquery(code, i)
              ) {
                mark(s, S_SUBQ, t);
              } else if (statement && isPunct(code[i - 1], "(") && this.concatDump(code, i)) {
                // `'%' || (SELECT group_concat(sql) FROM sqlite_master) || '%'`: the shape a
                // quote-breakout payload leaves inside a query's string value.
                mark(s, S_CONCAT, t);
              }
              break;
            case "union": {
              let j = i + 1;
              if (isWord(code[j], "all") || isWord(code[j], "distinct")) j++;
              if (isPunct(code[j], "(")) j++;
              if (!isWord(code[j], "select")) break;
              if (
                statement
                  ? this.unionProbe(code, j) || emptyTail
                  : this.selectList(code, j + 1, mode === "literal")
              ) {
                mark(s, S_UNION, t);
              }
              break;
            }
            case "or":
            case "xor":
              this.orAt(code, i, s, t);
              break;
            case "and":
              this.andAt(code, i, s, t, statement);
              break;
            case "when":
            case "if":
            case "not":
            case "rlike":
            case "regexp":
            case "having":
            case "elt":
            case "iif": {
              const cmp = this.compareAt(code, i + 1);
              if (cmp?.constBoth) mark(s, S_BOOL, t);
              break;
            }
            case "where": {
              if (statement) break;
              const cmp = this.compareAt(code, i + 1);
              if (cmp !== null && (cmp.constBoth || cmp.sameIdent)) mark(s, S_BOOL, t);
              break;
            }
            case "order":
            case "group":
              if (!statement && isWord(next, "by") && this.orderProbe(code, i + 2))
                mark(s, S_ORDER, t);
              break;
            case "copy": {
              // `copy t from '/etc/passwd'`: the database server reads or writes a file.
              const dir = code[i + 2];
              const path = code[i + 3];
              if (
                !statement &&
                (isWord(dir, "from") || isWord(dir, "to")) &&
                path !== undefined &&
                (path.type === T_STR || path.type === T_OP) &&
                (path.text.startsWith("/") ||
                  path.text.startsWith("\\") ||
                  path.text.charCodeAt(1) === 58)
              ) {
                mark(s, S_OOB, t);
              }
              break;
            }
            case "exp":
              if (call && code[i + 2]?.type === T_OP && code[i + 2]!.text === "~")
                mark(s, S_ERROR, t);
              break;
            default:
              break;
          }
        if (f !== 0) {
          if (call && f & F_TIME) mark(s, S_TIME, t);
          if (call && f & F_ERROR) mark(s, S_ERROR, t);
          if (call && f & F_CAST && this.castAttack(code, i + 2, statement)) mark(s, S_ERROR, t);
          if (f & F_OOB) mark(s, S_OOB, t);
          if ((call && f & F_SYSFN) || f & F_SYSWORD) mark(s, S_SYSINFO, t);
          if (f & F_ENUM) mark(s, S_ENUM, t);
          // `substring(password,1,1)='a'`, `ascii(mid(pwd,2,1))>77`: a secret read one
          // character at a time, the shape of blind extraction wherever it appears.
          if (call && f & F_EXTRACT && this.extractsSecret(code, i + 2, statement)) {
            mark(s, S_BOOL, t);
          }
          if (f & F_CRED) mark(s, S_CRED, t);
          if (call && f & F_CHAR && (code[i + 2]?.type === T_NUM || code[i + 2]?.type === T_HEX)) {
            chars++;
            if (chars >= (statement ? 3 : 2)) mark(s, S_CHAR, t);
          }
          if (call && f & F_CONCAT) {
            const arg = code[i + 2];
            if (arg?.type === T_HEX || (arg?.type === T_WORD && this.charFn.has(arg.text))) {
              mark(s, S_CHAR, t);
            }
          }
          if (f & F_SEQ) {
            if (this.seqAt(code, i, this.timeSeq)) mark(s, S_TIME, t);
            if (this.seqAt(code, i, this.oobSeq)) mark(s, S_OOB, t);
          }
        }
        if (w.length > 2 && w.charCodeAt(0) === 64 && w.charCodeAt(1) === 64) mark(s, S_SYSINFO, t);
        if (
          this.prefixFirst[w.charCodeAt(0) & 127] === 1 &&
          this.prefix3.has(w.slice(0, 3)) &&
          startsWithAny(w, this.enumPrefixes)
        ) {
          mark(s, S_ENUM, t);
        }
      } else if (t.type === T_OP) {
        if (!statement && (t.text === "||" || t.text === "&&")) {
          if (t.text === "||") this.orAt(code, i, s, t);
          else this.andAt(code, i, s, t, false);
        }
        if (
          statement &&
          CMP_OPS.has(t.text) &&
          next?.type === T_WORD &&
          this.breakWords.has(next.text)
        ) {
          mark(s, S_BREAK, t);
        }
      } else if (
        t.type === T_STR &&
        !statement &&
        t.text.startsWith("\\\\") &&
        this.hasStatementWord(code)
      ) {
        // A UNC path in injected SQL: the server is made to reach an SMB share.
        mark(s, S_OOB, t);
      } else if (t.type === T_PUNCT && t.text === ";" && !statement) {
        if (this.stackedAt(code, i + 1)) mark(s, S_STACKED, t);
      }
    }
    if (statement) {
      for (const t of tk.toks) {
        // `--'` after code, or a block comment never closed: the rest of the query is cut off.
        if (t.type === T_COMMENT && (t.quoteLead || t.open)) mark(s, S_TRUNC, t);
        if (t.type === T_STR && t.open && startsWithComment(t.text)) mark(s, S_TRUNC, t);
      }
    } else {
      this.valueShape(tk, s, mode === "literal");
    }
    return s;
  }

  /** `or` (or `||`, `xor`) followed by an always-true or constant condition. */
  orAt(code: Tok[], i: number, s: Signals, t: Tok): void {
    const cmp = this.compareAt(code, i + 1);
    if (cmp !== null) {
      if (cmp.likeAll || ((cmp.constBoth || cmp.sameIdent) && cmp.truth === true))
        mark(s, S_TAUT, t);
      else if (cmp.constBoth) mark(s, S_BOOL, t);
      return;
    }
    const n = code[i + 1];
    if (n === undefined) return;
    // `or ''*'`, `or 1-0`: a constant expression standing in for a condition.
    const o = this.operandAt(code, i + 1);
    const op = o === null ? undefined : code[o.next];
    if (
      o !== null &&
      o.kind !== K_IDENT &&
      op?.type === T_OP &&
      ARITH_OPS.has(op.text) &&
      this.operandAt(code, o.next + 1)?.kind === o.kind
    ) {
      mark(s, S_BOOL, t);
      return;
    }
    // `or 1`, `or true`, `or '1=1'` (MySQL reads a string by its leading number).
    const constTrue =
      isWord(n, "true") ||
      (n.type === T_NUM && Number(n.text) !== 0) ||
      (n.type === T_STR && Number.parseFloat(n.text) > 0);
    if (constTrue && isTerminator(code[i + 2])) mark(s, S_TAUT, t);
    if (isPunct(n, "(") && isWord(code[i + 2], "select")) mark(s, S_SUBQ, t);
  }

  andAt(code: Tok[], i: number, s: Signals, t: Tok, statement: boolean): void {
    const cmp = this.compareAt(code, i + 1);
    if (cmp !== null && (cmp.constBoth || cmp.sameIdent)) {
      mark(s, S_BOOL, t);
      return;
    }
    if (statement) return;
    // `and (select …)`, `and 1=(select …)`: a subquery used as a yes/no oracle.
    for (let j = i + 1; j < i + 10 && j < code.length; j++) {
      if (isPunct(code[j], "(") && isWord(code[j + 1], "select")) {
        mark(s, S_SUBQ, t);
        return;
      }
      const w = code[j]!;
      if (
        w.type === T_WORD &&
        w.text !== "not" &&
        w.text !== "exists" &&
        !isPunct(code[j + 1], "(")
      ) {
        return;
      }
    }
  }

  /**
   * `UNION SELECT 1,2,NULL`, `UNION SELECT @@version`, a UNION that reads the catalog
   * (`… FROM sqlite_master`, `information_schema.columns`) or credential columns
   * (`username, password_hash`): probing or dumping, not a report query.
   */
  unionProbe(code: Tok[], select: number): boolean {
    let depth = 0;
    let allConst = true;
    let sys = false;
    let items = 1;
    let tokens = 0;
    for (let j = select + 1; j < code.length && j < select + 400; j++) {
      const t = code[j]!;
      if (isPunct(t, "(")) {
        depth++;
        continue;
      }
      if (isPunct(t, ")")) {
        if (depth === 0) break;
        depth--;
        continue;
      }
      if (depth > 0) {
        // `concat(login, ':', pass)`: credentials read inside a function call.
        if (t.type === T_WORD && this.isCredentialColumn(t.text)) sys = true;
        continue;
      }
      if (isPunct(t, ";")) break;
      if (isPunct(t, ",")) {
        items++;
        continue;
      }
      if (t.type === T_WORD) {
        if (t.text === "from") return sys || this.catalogName(code[j + 1]);
        if (t.text === "union" || t.text === "order" || t.text === "limit" || t.text === "where")
          break;
        if (t.text.startsWith("@@") || (this.sysFn.has(t.text) && isPunct(code[j + 1], "("))) {
          sys = true;
        } else if (t.text !== "null" && t.text !== "true" && t.text !== "false") {
          allConst = false;
          if (this.isCredentialColumn(t.text)) sys = true;
        }
      }
      tokens++;
    }
    return sys || (allConst && tokens > 0 && items >= 2);
  }

  /**
   * What precedes a `(`: the start of the value, an operator, a comma, a condition keyword or
   * a function name — an expression, not a sentence ("choose (select one from the list)").
   */
  expressionAt(code: Tok[], j: number): boolean {
    const t = code[j];
    if (t === undefined || t.type === T_OP || isPunct(t, ",") || isPunct(t, "(")) return true;
    if (t.type !== T_WORD) return false;
    return EXPRESSION_WORDS.has(t.text) || this.flags.has(t.text) || isPunct(code[j + 1], "(");
  }

  /**
   * A parenthesised subquery at `select` (index i) that is concatenated into a value (`||`,
   * `+`, `concat(…)`) and reads the catalog, a secret column, or folds rows into one string.
   */
  concatDump(code: Tok[], i: number): boolean {
    let depth = 0;
    let end = -1;
    let dumps = false;
    for (let j = i + 1; j < code.length && j < i + 120; j++) {
      const t = code[j]!;
      if (isPunct(t, "(")) depth++;
      else if (isPunct(t, ")")) {
        if (depth === 0) {
          end = j;
          break;
        }
        depth--;
      } else if (t.type === T_WORD) {
        if (t.text === "from" && this.catalogName(code[j + 1])) dumps = true;
        else if (this.dumpFns.has(t.text) && isPunct(code[j + 1], "(")) dumps = true;
        else if (this.isCredentialColumn(t.text) && !isPunct(code[j + 1], "(")) dumps = true;
      }
    }
    if (!dumps || end < 0) return false;
    const before = code[i - 2];
    const after = code[end + 1];
    const joins = (t: Tok | undefined) => t?.type === T_OP && (t.text === "||" || t.text === "+");
    if (joins(before) || joins(after)) return true;
    for (let k = i - 2; k >= 0 && k >= i - 12; k--) {
      const t = code[k]!;
      if (t.type === T_WORD && isPunct(code[k + 1], "(")) {
        return ((this.flags.get(t.text) ?? 0) & F_CONCAT) !== 0;
      }
    }
    return false;
  }

  /** `select x from t` up to the closing parenthesis: a select list, a table, a SQL tail. */
  subquery(code: Tok[], i: number): boolean {
    let items = 0;
    let depth = 0;
    for (let j = i + 1; j < code.length && j < i + 80; j++) {
      const t = code[j]!;
      if (isPunct(t, "(")) {
        depth++;
        items++;
        continue;
      }
      if (isPunct(t, ")")) {
        if (depth === 0) return false;
        depth--;
        continue;
      }
      if (depth > 0) continue;
      if (isWord(t, "from")) {
        if (items === 0 || this.nameAt(code, j + 1) === null) return false;
        let k = j + 2;
        // An alias only counts when a clause follows it (`from users u where …`).
        const alias = code[k]?.type === T_WORD && !this.reserved.has(code[k]!.text);
        if (alias) k++;
        const after = code[k];
        if (after === undefined || isPunct(after, ")")) return !alias;
        if (!alias && (isPunct(after, ",") || isPunct(after, ";"))) return true;
        return after.type === T_WORD && SUBQUERY_TAIL.has(after.text);
      }
      if (
        t.type === T_NUM ||
        t.type === T_STR ||
        (t.type === T_OP && t.text === "*") ||
        (t.type === T_WORD &&
          (!this.reserved.has(t.text) || t.text === "null" || t.text === "case"))
      ) {
        items++;
      }
    }
    return false;
  }

  /**
   * A credential column among the arguments of a call (nested calls included); in a
   * statement the call must also be compared (`…)='a'`), as masking (`left(token, 4)`) is not.
   */
  extractsSecret(code: Tok[], j: number, compared: boolean): boolean {
    let depth = 0;
    let secret = false;
    for (let k = j; k < code.length && k < j + 40; k++) {
      const t = code[k]!;
      if (isPunct(t, "(")) depth++;
      else if (isPunct(t, ")")) {
        if (depth > 0) {
          depth--;
          continue;
        }
        if (!secret || !compared) return secret;
        const n = code[k + 1];
        return (
          n !== undefined &&
          ((n.type === T_OP && CMP_OPS.has(n.text)) ||
            (n.type === T_WORD &&
              (CMP_WORDS.has(n.text) || n.text === "between" || n.text === "in")))
        );
      } else if (
        t.type === T_WORD &&
        this.isCredentialColumn(t.text) &&
        !isPunct(code[k + 1], "(")
      ) {
        secret = true;
      }
    }
    return false;
  }

  /** A system catalog or credential table: `sqlite_master`, `pg_catalog.pg_user`, `sys.objects`. */
  catalogName(t: Tok | undefined): boolean {
    if (t === undefined || t.type !== T_WORD) return false;
    const f = this.flags.get(t.text) ?? 0;
    return (f & (F_ENUM | F_CRED)) !== 0 || startsWithAny(t.text, this.enumPrefixes);
  }

  /** `password`, `pwd_hash`, `api_token`, `users.passwd`: a column that holds a secret. */
  isCredentialColumn(name: string): boolean {
    const c = this.data.credentialColumns;
    const col = name.slice(name.lastIndexOf(".") + 1);
    if (c.names.includes(col)) return true;
    let start = 0;
    for (let i = 0; i <= col.length; i++) {
      if (i < col.length && col.charCodeAt(i) !== 95) continue;
      const part = col.slice(start, i);
      if (c.parts.includes(part) || startsWithAny(part, c.partPrefixes)) return true;
      start = i + 1;
    }
    return false;
  }

  /** What follows SELECT reads as a select list, not as prose ("union select explained"). */
  selectList(code: Tok[], j: number, endOk: boolean): boolean {
    const t = code[j];
    if (t === undefined) return endOk;
    if (t.type === T_NUM || t.type === T_STR || t.type === T_HEX || isPunct(t, "(")) return true;
    if (t.type === T_OP) return t.text === "*" || t.text === "-";
    if (t.type !== T_WORD) return false;
    if (t.text === "null" || t.text.startsWith("@@") || isPunct(code[j + 1], "(")) return true;
    if (t.text === "all" || t.text === "distinct") return this.selectList(code, j + 1, endOk);
    const n = code[j + 1];
    return isPunct(n, ",") || isWord(n, "from") || (n === undefined && endOk);
  }

  /** `ORDER BY 3`, `GROUP BY 1,2,` ending the injected text: column-count probing. */
  orderProbe(code: Tok[], j: number): boolean {
    if (code[j]?.type !== T_NUM) return false;
    while (j < code.length) {
      if (code[j]!.type === T_NUM) j++;
      else break;
      if (isPunct(code[j], ",")) j++;
      else break;
    }
    return isTerminator(code[j]);
  }

  /** `convert(int, (select …))`, `cast(chr(…)||… as numeric)`: errors that leak data. */
  castAttack(code: Tok[], j: number, statement: boolean): boolean {
    if (!statement && isWord(code[j], "int") && isPunct(code[j + 1], ",")) return true;
    for (let k = j; k < j + 8 && k < code.length; k++) {
      const t = code[k]!;
      if (t.type !== T_WORD) continue;
      if (t.text === "select" || t.text.startsWith("@@")) return true;
      if (this.charFn.has(t.text) && isPunct(code[k + 1], "(")) return true;
    }
    return false;
  }

  seqAt(code: Tok[], i: number, seqs: readonly (readonly string[])[]): boolean {
    const first = code[i]!.text;
    for (const seq of seqs) {
      if (seq[0] !== first) continue;
      let ok = true;
      for (let k = 1; k < seq.length && ok; k++) ok = isWord(code[i + k], seq[k]!);
      if (ok) return true;
    }
    return false;
  }

  /** A statement that starts after `;` and reads like SQL, not prose. */
  stackedAt(code: Tok[], i: number): boolean {
    const t = code[i];
    if (t === undefined || t.type !== T_WORD) return false;
    const follow = this.stacked.get(t.text);
    if (follow === undefined) return false;
    const n = code[i + 1];
    switch (t.text) {
      case "update":
        // `update t set`, `update only t set`, `update low_priority t set`.
        return isWord(code[i + 2], "set") || isWord(code[i + 3], "set");
      case "delete": {
        const j = isWord(n, "from") ? i + 2 : i + 1;
        if (this.nameAt(code, j) === null) return false;
        const after = code[j + 1];
        return (
          after === undefined ||
          isPunct(after, ";") ||
          (after.type === T_WORD && DELETE_FOLLOW.has(after.text))
        );
      }
      case "insert":
        return (
          isWord(n, "into") &&
          this.nameAt(code, i + 2) !== null &&
          (isPunct(code[i + 3], "(") ||
            isWord(code[i + 3], "values") ||
            isWord(code[i + 3], "select"))
        );
      case "exec":
      case "execute":
        return (
          n !== undefined &&
          (n.type === T_STR ||
            isPunct(n, "(") ||
            // Stored procedures (sp_, xp_), variables, the master database.
            (n.type === T_WORD &&
              (n.text.startsWith("xp_") ||
                n.text.startsWith("sp_") ||
                n.text.startsWith("@") ||
                n.text.startsWith("master.") ||
                this.oob.has(n.text))))
        );
      case "declare":
      case "set":
        return n !== undefined && n.type === T_WORD && n.text.startsWith("@");
      case "shutdown":
        return n === undefined || isPunct(n, ";") || isWord(n, "with");
      case "select":
      case "grant":
      case "copy":
        for (let k = i + 1; k < i + 9 && k < code.length; k++) {
          const u = code[k]!;
          if (
            u.type === T_WORD &&
            (u.text === "from" || u.text === "to" || u.text.startsWith("@@"))
          )
            return true;
          if (u.type === T_WORD && isPunct(code[k + 1], "(")) return true;
          if (u.type === T_NUM && t.text === "select") return true;
        }
        return false;
      case "drop":
      case "truncate":
      case "create":
      case "alter": {
        let j = i + 1;
        if (follow.length > 0) {
          if (!isWord(n, follow[0]!) && !follow.includes(n?.text ?? "")) {
            if (t.text !== "truncate") return false;
          } else {
            j++;
          }
        }
        if (isWord(code[j], "if") && isWord(code[j + 1], "exists")) j += 2;
        if (this.nameAt(code, j) === null) return false;
        const after = code[j + 1];
        return (
          after === undefined ||
          isPunct(after, ";") ||
          isPunct(after, "(") ||
          (after.type === T_WORD && DDL_FOLLOW.has(after.text))
        );
      }
      default:
        if (follow.length === 0) return true;
        if (n === undefined || n.type !== T_WORD) return false;
        return follow.includes(n.text) || (follow.includes("*") && !this.reserved.has(n.text));
    }
  }

  /**
   * Prose that quotes a payload ("entering admin'-- bypasses the password"): several words
   * before the quote and a run of plain words after it. Injected values have a short prefix.
   */
  /**
   * Text of at least eight words, mostly ordinary words (not SQL keywords): a sentence, not
   * a fragment of a query.
   */
  proseLiteral(text: string, from: number, to: number): boolean {
    let words = 0;
    let plain = 0;
    let start = -1;
    let letters = true;
    for (let i = from; i <= to; i++) {
      const c = i < to ? text.charCodeAt(i) : 32;
      if (c === 32 || c === 9 || c === 10 || c === 13) {
        if (start >= 0) {
          words++;
          let end = i;
          while (end > start && isSentencePunct(text.charCodeAt(end - 1))) end--;
          if (letters && end - start > 1 && !this.reserved.has(text.slice(start, end))) plain++;
        }
        start = -1;
        letters = true;
        continue;
      }
      if (start < 0) start = i;
      if (!((c >= 97 && c <= 122) || c >= 0xc0 || c === 45 || isSentencePunct(c))) letters = false;
    }
    return words >= 8 && plain >= 6 && plain * 10 >= words * 6;
  }

  /**
   * The text with every Markdown code span (`…` on one line, or a ``` fence) blanked, when
   * what is left is prose; null otherwise (no span, or code around the spans).
   */
  outsideCodeSpans(text: string, from: number, to: number): string | null {
    let last = from;
    const parts: string[] = [];
    // The next line break at or after the current span (kept, so the scan stays linear).
    let newline = -1;
    let steps = 0;
    for (let i = text.indexOf("`", from); i >= 0 && i < to && steps++ < 256; ) {
      let ticks = 1;
      while (i + ticks < to && text.charCodeAt(i + ticks) === 96) ticks++;
      const fence = "`".repeat(ticks);
      const close = text.indexOf(fence, i + ticks);
      if (close < 0 || close >= to) break;
      // An inline span stays on its line; a fence may span lines.
      if (newline < i && newline !== to) {
        newline = text.indexOf("\n", i);
        if (newline < 0 || newline > to) newline = to;
      }
      if (ticks < 3 && newline < close) {
        i = text.indexOf("`", i + ticks);
        continue;
      }
      const end = close + ticks;
      parts.push(text.slice(last, i), " ".repeat(end - i));
      last = end;
      i = text.indexOf("`", end);
    }
    if (parts.length === 0) return null;
    parts.push(text.slice(last, to));
    const out = parts.join("");
    return this.proseLiteral(out, 0, out.length) ? out : null;
  }

  /**
   * The text opens with four or more ordinary words (not SQL) before any code, or with two
   * before a keyword ("how to union select …"): no numeric slot parses that.
   */
  proseLead(tk: Tokens): boolean {
    let words = 0;
    for (let k = 0; k < tk.toks.length && k < 24; k++) {
      const t = tk.toks[k]!;
      if (t.type === T_WORD) {
        // Clause and statement words end the lead; `to`, `in`, `is`… are English too.
        if (this.breakWords.has(t.text) || this.statementKeywords.has(t.text)) return words >= 2;
        if (isPunct(tk.toks[k + 1], "(")) return false;
        // A reserved word counts only after an ordinary one (`how to`, not `as alias`).
        const plain = !this.reserved.has(t.text) || words > 0;
        if (plain && t.text.length > 1 && ++words >= 4) return true;
      } else if (t.type === T_PUNCT || (t.type === T_OP && t.text.length === 1 && t.text === ":")) {
        if (t.text === ";" || t.text === "(" || t.text === ")") return false;
      } else {
        return false;
      }
    }
    return false;
  }

  quotedInProse(tk: Tokens): boolean {
    if (wordCount(tk.toks[0]!.text) < 2) return false;
    let run = 0;
    for (let k = 1; k < tk.toks.length; k++) {
      const t = tk.toks[k]!;
      if (t.type === T_COMMENT) {
        if (wordCount(t.text) >= 3) return true;
        run = 0;
      } else if (t.type === T_STR && t.open && wordCount(t.text) >= 4) {
        // The text runs on in words to the end: the template's closing quote would land
        // after a sentence, not after a payload (`' OR '1'='1 an Eingaben an, um …`).
        return true;
      } else if (t.type === T_WORD && !this.reserved.has(t.text) && t.text.length > 1) {
        if (++run >= 3) return true;
      } else {
        run = 0;
      }
    }
    return false;
  }

  /** Value-only shapes: a comment right after the breakout quote; a condition fragment. */
  valueShape(tk: Tokens, s: Signals, literal: boolean): void {
    const code = tk.code;
    let r = tk.breakout ? 1 : 0;
    if (tk.breakout) {
      let k = r;
      while (k < code.length && (isPunct(code[k], ")") || isPunct(code[k], ";"))) k++;
      if (k >= code.length) {
        let comment: Tok | undefined;
        for (let k = 1; k < tk.toks.length && comment === undefined; k++) {
          if (tk.toks[k]!.type === T_COMMENT) comment = tk.toks[k];
        }
        if (comment !== undefined) mark(s, S_TRUNC, comment);
      }
    }
    while (r < code.length && (isPunct(code[r], ")") || isPunct(code[r], ";"))) r++;
    const head = code[r];
    if (head === undefined) return;
    // A statement right after the closing quote (MSSQL needs no `;`): `' exec …`, `'create user …`.
    if (tk.breakout && this.stackedAt(code, r)) mark(s, S_STACKED, head);
    const clause =
      (head.type === T_WORD && this.clause.has(head.text)) ||
      (head.type === T_OP && (head.text === "||" || head.text === "&&"));
    // A condition appended to the host query: after a breakout with the rest commented away
    // (`' AND ascii(…)>64--`), completed by the template's own closing quote (the
    // balanced-quote trick: `' and a='a`, `' || f() || '`), or a bare well-formed condition.
    const last = code[code.length - 1]!;
    const balanced = tk.breakout && last.type === T_STR && last.open;
    const bare = r === 0 && this.hasComparison(code, r + 1);
    if (
      clause &&
      (balanced ||
        (tk.breakout && s.commentEnd) ||
        (this.conditionFragment(code, r + 1) && (tk.breakout || s.commentEnd || bare || literal)))
    ) {
      mark(s, S_FRAG, head);
    }
  }

  hasComparison(code: Tok[], j: number): boolean {
    for (let k = j; k < code.length && k < j + 24; k++) {
      const t = code[k]!;
      if (
        (t.type === T_OP && CMP_OPS.has(t.text)) ||
        (t.type === T_WORD && CMP_WORDS.has(t.text))
      ) {
        return true;
      }
    }
    return false;
  }

  /** `1`, `x=y`, `id is null`, `('a'='b')`: a bare condition up to the end or `;`. */
  conditionFragment(code: Tok[], j: number): boolean {
    let expectOperand = true;
    let depth = 0;
    let n = 0;
    let seen = false;
    for (; j < code.length && n < 24; j++, n++) {
      const t = code[j]!;
      if (isPunct(t, ";")) break;
      if (expectOperand) {
        if (isPunct(t, "(")) {
          depth++;
          continue;
        }
        if (isWord(t, "not")) continue;
        const o = this.operandAt(code, j);
        if (o === null) return false;
        j = o.next - 1;
        expectOperand = false;
        seen = true;
        continue;
      }
      if (isPunct(t, ")")) {
        if (depth === 0) return false;
        depth--;
        continue;
      }
      if (
        t.type === T_OP ||
        (t.type === T_WORD &&
          (CMP_WORDS.has(t.text) ||
            t.text === "and" ||
            t.text === "or" ||
            t.text === "not" ||
            t.text === "in" ||
            t.text === "between"))
      ) {
        expectOperand = !(t.text === "is");
        if (t.text === "is") {
          // `is [not] null`
          if (isWord(code[j + 1], "not")) j++;
          if (!isWord(code[j + 1], "null")) return false;
          j++;
        }
        continue;
      }
      return false;
    }
    return seen && (j >= code.length || isPunct(code[j], ";"));
  }

  // -------------------------------------------------------------------------------------------
  // Destructive statements

  isTemp(name: string): boolean {
    const t = this.data.tempTables;
    const dot = name.lastIndexOf(".");
    const schema = dot > 0 ? name.slice(0, dot).replaceAll(".", "") : "";
    const table = dot >= 0 ? name.slice(dot + 1) : name;
    if (schema !== "" && t.schemas.includes(schema)) return true;
    return (
      startsWithAny(table, t.prefixes) ||
      endsWithAny(table, t.suffixes) ||
      includesAny(table, t.contains) ||
      t.schemas.includes(table)
    );
  }

  allTemp(names: readonly string[]): boolean {
    for (const n of names) if (!this.isTemp(n)) return false;
    return true;
  }

  /** ALTER/CREATE USER … SUPERUSER and the like. */
  escalates(st: Tok[]): boolean {
    for (const t of st) {
      if (t.type === T_WORD && t.text !== "all" && this.privileged.has(t.text)) return true;
    }
    return false;
  }

  hasStatementWord(code: Tok[]): boolean {
    for (const t of code) if (t.type === T_WORD && this.statementKeywords.has(t.text)) return true;
    return false;
  }

  isLegacyColumn(name: string): boolean {
    return includesAny(name, this.data.legacyColumns);
  }

  isTimeColumn(name: string): boolean {
    const col = name.slice(name.lastIndexOf(".") + 1);
    const tc = this.data.timeColumns;
    if (includesAny(col, this.data.expiryColumns)) return false;
    return tc.names.includes(col) || endsWithAny(col, tc.suffixes);
  }

  /** `expires_at`, `valid_until`: removing what has expired is housekeeping, not loss. */
  isExpiryColumn(name: string): boolean {
    return includesAny(name.slice(name.lastIndexOf(".") + 1), this.data.expiryColumns);
  }

  isKeyColumn(name: string): boolean {
    const col = name.slice(name.lastIndexOf(".") + 1);
    const kc = this.data.keyColumns;
    return kc.names.includes(col) || endsWithAny(col, kc.suffixes);
  }

  nameAt(code: Tok[], j: number): string | null {
    const t = code[j];
    if (t === undefined) return null;
    if (t.type === T_STR) return t.text.toLowerCase();
    if (t.type === T_WORD && !this.reserved.has(t.text) && !t.text.startsWith("@")) return t.text;
    return null;
  }

  /** Names `a, b, c` from j; returns them and the index after, or null. */
  namesAt(code: Tok[], j: number): { names: string[]; next: number } | null {
    const names: string[] = [];
    while (j < code.length && names.length < 64) {
      const name = this.nameAt(code, j);
      if (name === null) return null;
      names.push(name);
      j++;
      if (isPunct(code[j], ",")) j++;
      else break;
    }
    return names.length === 0 ? null : { names, next: j };
  }

  /** After the names of a DROP/TRUNCATE: the end, or CASCADE-like options only. */
  endsOk(st: Tok[], j: number): boolean {
    return j >= st.length || END_OPTIONS.has(st[j]!.text);
  }

  /** Judges each statement (split at `;`) for destruction. */
  destructive(code: Tok[], src: string, out: Reporter, strict: boolean): void {
    let start = 0;
    for (let i = 0; i <= code.length; i++) {
      if (i < code.length && !isPunct(code[i], ";")) continue;
      if (i > start) this.statement(code.slice(start, i), src, out, strict);
      start = i + 1;
    }
  }

  statement(st: Tok[], src: string, out: Reporter, strict: boolean): void {
    let s = 0;
    while (isPunct(st[s], "(")) s++;
    let head = st[s];
    if (head === undefined || head.type !== T_WORD) return;
    if (head.text === "with") {
      let depth = 0;
      for (let k = s + 1; k < st.length; k++) {
        const t = st[k]!;
        // `WITH gone AS (DELETE FROM t RETURNING *)`: a data-modifying CTE runs in full.
        if (
          depth === 0 &&
          isPunct(t, "(") &&
          isWord(st[k - 1], "as") &&
          (isWord(st[k + 1], "delete") || isWord(st[k + 1], "update"))
        ) {
          let d = 0;
          let e = k + 1;
          for (; e < st.length; e++) {
            if (isPunct(st[e], "(")) d++;
            else if (isPunct(st[e], ")") && d-- === 0) break;
          }
          this.statement(st.slice(k + 1, e), src, out, false);
        }
        if (isPunct(t, "(")) depth++;
        else if (isPunct(t, ")")) depth--;
        else if (depth === 0 && t.type === T_WORD && (t.text === "delete" || t.text === "update")) {
          s = k;
          head = t;
          break;
        }
      }
    }
    if (!DESTRUCTIVE_HEADS.has(head.text)) return;
    const evidence = src.slice(head.start, Math.min(st[st.length - 1]!.end, head.start + 120));
    switch (head.text) {
      case "drop": {
        let j = s + 1;
        const obj = st[j];
        if (obj === undefined || obj.type !== T_WORD) return;
        if (obj.text === "temporary" || obj.text === "temp") {
          out.add("SQL_DROP_TEMP_TABLE", evidence);
          return;
        }
        j++;
        if (isWord(st[j], "if") && isWord(st[j + 1], "exists")) j += 2;
        if (this.data.dropDatabaseObjects.includes(obj.text)) {
          const n = this.namesAt(st, j);
          if (n === null || (strict && !this.endsOk(st, n.next))) return;
          out.add(this.allTemp(n.names) ? "SQL_DROP_TEMP_TABLE" : "SQL_DROP_DATABASE", evidence);
        } else if (this.data.dropTableObjects.includes(obj.text)) {
          const n = this.namesAt(st, j);
          if (n === null || (strict && !this.endsOk(st, n.next))) return;
          out.add(this.allTemp(n.names) ? "SQL_DROP_TEMP_TABLE" : "SQL_DROP_TABLE", evidence);
        } else if (obj.text === "owned") {
          out.add("SQL_DROP_DATABASE", evidence);
        } else if (this.dropWarn.has(obj.text) && this.nameAt(st, j) !== null) {
          out.add("SQL_DROP_OBJECT", evidence);
        }
        return;
      }
      case "truncate": {
        let j = s + 1;
        if (isWord(st[j], "table")) j++;
        // Snowflake and others: TRUNCATE [TABLE] IF EXISTS t.
        if (isWord(st[j], "if") && isWord(st[j + 1], "exists")) j += 2;
        if (isWord(st[j], "only")) j++;
        const n = this.namesAt(st, j);
        if (n === null || (strict && !this.endsOk(st, n.next))) return;
        out.add(this.allTemp(n.names) ? "SQL_TRUNCATE_STAGING" : "SQL_TRUNCATE", evidence);
        return;
      }
      case "delete": {
        let j = s + 1;
        for (let k = j; k < j + 4 && k < st.length; k++) {
          if (isWord(st[k], "from")) {
            j = k + 1;
            break;
          }
        }
        const table = this.nameAt(st, j);
        if (table === null) return;
        const after = st[j + 1];
        if (
          strict &&
          !(
            after === undefined ||
            DELETE_TAIL.has(after.text) ||
            (after.type === T_WORD && isWord(st[j + 2], "where"))
          )
        ) {
          return;
        }
        this.bounded(st, s, table, "SQL_UNBOUNDED_DELETE", evidence, out, true);
        return;
      }
      case "update": {
        let j = s + 1;
        while (UPDATE_MODIFIERS.has(st[j]?.text ?? "")) j++;
        const table = this.nameAt(st, j);
        if (table === null || this.depthZero(st, s, "set") < 0) return;
        this.bounded(st, s, table, "SQL_UNBOUNDED_UPDATE", evidence, out, false);
        return;
      }
      case "alter": {
        const kind = st[s + 1]?.text;
        // ClickHouse mutations: `ALTER TABLE t DELETE WHERE …`, `ALTER TABLE t UPDATE c = … WHERE …`.
        const mutation = st[s + 3];
        const name = kind === "table" ? this.nameAt(st, s + 2) : null;
        if (name !== null && (isWord(mutation, "delete") || isWord(mutation, "update"))) {
          const del = mutation!.text === "delete";
          this.bounded(
            st,
            s,
            name,
            del ? "SQL_UNBOUNDED_DELETE" : "SQL_UNBOUNDED_UPDATE",
            evidence,
            out,
            del,
          );
          return;
        }
        if (kind === "table") {
          for (let k = s + 2; k < st.length; k++) {
            if (!isWord(st[k], "drop")) continue;
            let j = k + 1;
            const what = st[j]?.text ?? "";
            if (ALTER_DROP_NO_DATA.has(what)) continue;
            if (what === "partition") {
              out.add("SQL_DROP_OBJECT", evidence);
              continue;
            }
            if (what === "column") j++;
            if (isWord(st[j], "if") && isWord(st[j + 1], "exists")) j += 2;
            const col = this.nameAt(st, j);
            if (col === null) continue;
            out.add(
              this.isLegacyColumn(col) ? "SQL_DROP_LEGACY_COLUMN" : "SQL_ALTER_DROP_COLUMN",
              evidence,
            );
          }
        } else if (kind === "user" || kind === "role" || kind === "login") {
          if (this.escalates(st)) {
            out.add("SQL_PRIVILEGE_GRANT", evidence);
          }
        }
        return;
      }
      case "create": {
        const kind = st[s + 1]?.text;
        if ((kind === "user" || kind === "role" || kind === "login") && this.escalates(st)) {
          out.add("SQL_PRIVILEGE_GRANT", evidence);
        }
        return;
      }
      case "grant": {
        let broad = false;
        for (let k = s + 1; k < st.length; k++) {
          const t = st[k]!;
          if (t.type !== T_WORD) continue;
          if (this.privileged.has(t.text)) broad = true;
          if (t.text === "to" && isWord(st[k + 1], "public")) broad = true;
          if (t.text === "with" && (isWord(st[k + 1], "grant") || isWord(st[k + 1], "admin")))
            broad = true;
        }
        out.add(broad ? "SQL_PRIVILEGE_GRANT" : "SQL_PRIVILEGE_CHANGE", evidence);
        return;
      }
      case "merge": {
        // MERGE … ON <always true> … THEN DELETE empties the target; WHEN NOT MATCHED BY
        // SOURCE THEN DELETE removes every row the source lacks (a sync: review).
        const on = this.depthZero(st, s, "on");
        const when = this.depthZero(st, s, "when");
        let deletes = false;
        let bySource = false;
        for (let k = s + 1; k < st.length; k++) {
          if (isWord(st[k], "then") && isWord(st[k + 1], "delete")) deletes = true;
          if (isWord(st[k], "by") && isWord(st[k + 1], "source")) bySource = true;
        }
        if (!deletes || on < 0) return;
        const cond = st.slice(on + 1, when > on ? when : st.length);
        if (this.alwaysTrue(cond)) out.add("SQL_UNBOUNDED_DELETE", evidence);
        else if (bySource) out.add("SQL_BULK_DELETE", evidence);
        return;
      }
      case "shutdown":
        if (st.length === s + 1 || isWord(st[s + 1], "with"))
          out.add("SQL_SERVER_SHUTDOWN", evidence);
        return;
      default:
        return;
    }
  }

  /** Index of `word` outside parentheses from `from`, or -1. */
  depthZero(st: Tok[], from: number, word: string): number {
    let depth = 0;
    for (let k = from; k < st.length; k++) {
      const t = st[k]!;
      if (isPunct(t, "(")) depth++;
      else if (isPunct(t, ")")) depth--;
      else if (depth === 0 && t.type === T_WORD && t.text === word) return k;
    }
    return -1;
  }

  /** DELETE / UPDATE: no WHERE, an always-true WHERE, or a WHERE bounded only by age. */
  bounded(
    st: Tok[],
    s: number,
    table: string,
    unbounded: SqlCode,
    evidence: string,
    out: Reporter,
    isDelete: boolean,
  ): void {
    const where = this.depthZero(st, s, "where");
    const temp = this.isTemp(table);
    if (where < 0) {
      if (temp) {
        if (isDelete) out.add("SQL_TRUNCATE_STAGING", evidence);
        return;
      }
      const limited = this.depthZero(st, s, "limit") > 0 || isWord(st[s + 1], "top");
      out.add(limited ? "SQL_BULK_DELETE" : unbounded, evidence);
      return;
    }
    let end = st.length;
    let depth = 0;
    for (let k = where + 1; k < st.length; k++) {
      const t = st[k]!;
      if (isPunct(t, "(")) depth++;
      else if (isPunct(t, ")")) depth--;
      else if (depth === 0 && t.type === T_WORD && WHERE_END.has(t.text)) {
        end = k;
        break;
      }
    }
    const cond = st.slice(where + 1, end);
    if (this.alwaysTrue(cond)) {
      if (!temp) out.add(unbounded, evidence);
      else if (isDelete) out.add("SQL_TRUNCATE_STAGING", evidence);
      return;
    }
    if (isDelete && !temp && this.ageBounded(cond)) out.add("SQL_BULK_DELETE", evidence);
  }

  /** Splits at depth-0 `word` (and / or). */
  splitAt(cond: Tok[], word: string): Tok[][] {
    const parts: Tok[][] = [];
    let depth = 0;
    let start = 0;
    for (let k = 0; k < cond.length; k++) {
      const t = cond[k]!;
      if (isPunct(t, "(")) depth++;
      else if (isPunct(t, ")")) depth--;
      else if (depth === 0 && t.type === T_WORD && t.text === word) {
        parts.push(cond.slice(start, k));
        start = k + 1;
      }
    }
    parts.push(cond.slice(start));
    return parts;
  }

  alwaysTrue(cond: Tok[]): boolean {
    for (const disjunct of this.splitAt(cond, "or")) {
      const conjuncts = this.splitAt(disjunct, "and");
      let all = true;
      for (const c of conjuncts) all &&= this.trueAtom(c);
      if (all) return true;
    }
    return false;
  }

  trueAtom(atom: Tok[]): boolean {
    let a = 0;
    let b = atom.length;
    while (b - a >= 2 && isPunct(atom[a], "(") && isPunct(atom[b - 1], ")")) {
      a++;
      b--;
    }
    if (b - a === 1) {
      const t = atom[a]!;
      return isWord(t, "true") || (t.type === T_NUM && Number(t.text) !== 0);
    }
    const inner = atom.slice(a, b);
    if (this.everyKey(inner)) return true;
    const cmp = this.compareAt(inner, 0);
    if (cmp === null || cmp.next !== inner.length) return false;
    return cmp.likeAll || ((cmp.constBoth || cmp.sameIdent) && cmp.truth === true);
  }

  /**
   * `id > 0`, `id >= 0`, `id IS NOT NULL` on a table's own key column: every row has one, so
   * the condition selects the whole table.
   */
  everyKey(atom: Tok[]): boolean {
    const col = atom[0];
    if (col?.type !== T_WORD) return false;
    const name = col.text.slice(col.text.lastIndexOf(".") + 1);
    if (!this.data.keyColumns.names.includes(name)) return false;
    if (atom.length === 4) {
      return isWord(atom[1], "is") && isWord(atom[2], "not") && isWord(atom[3], "null");
    }
    const op = atom[1];
    if (op?.type !== T_OP || (op.text !== ">" && op.text !== ">=")) return false;
    let k = 2;
    let sign = 1;
    if (atom[k]?.type === T_OP && atom[k]!.text === "-") {
      sign = -1;
      k++;
    }
    const v = atom[k];
    if (v?.type !== T_NUM || k + 1 !== atom.length) return false;
    const n = sign * Number(v.text);
    return op.text === ">" ? n <= 0 : n <= 1;
  }

  ageBounded(cond: Tok[]): boolean {
    if (this.splitAt(cond, "or").length > 1) return false;
    let age = false;
    for (const c of this.splitAt(cond, "and")) {
      const first = c[0];
      if (first?.type === T_WORD && isWord(c[1], "in") && this.isKeyColumn(first.text))
        return false;
      if (first?.type === T_WORD && isWord(c[1], "between") && this.isTimeColumn(first.text)) {
        age = true;
        continue;
      }
      const cmp = this.compareAt(c, 0);
      if (cmp === null || cmp.a.kind !== K_IDENT) {
        // `created_at < now() - interval '90 days'`, `last_seen < dateadd(day, -30, getdate())`:
        // the right side is a time expression, whatever the column is called.
        if (
          first?.type === T_WORD &&
          c[1]?.type === T_OP &&
          "<>=".includes(c[1].text[0]!) &&
          (this.isTimeColumn(first.text) ||
            (!this.isExpiryColumn(first.text) && this.timeExpression(c, 2)))
        ) {
          age = true;
        }
        continue;
      }
      if (this.isKeyColumn(cmp.a.value) && (cmp.op === "=" || cmp.op === "==")) return false;
      if (
        RANGE_OPS.has(cmp.op) &&
        (this.isTimeColumn(cmp.a.value) ||
          (!this.isExpiryColumn(cmp.a.value) && this.timeExpression(c, cmp.next - 1)))
      ) {
        age = true;
      }
    }
    return age;
  }

  /** From j on: `now()`, `interval '30 days'`, `getdate()`, or a literal like `'2023-01-01'`. */
  timeExpression(c: Tok[], j: number): boolean {
    for (let k = Math.max(0, j); k < c.length && k < j + 12; k++) {
      const t = c[k]!;
      if (t.type === T_WORD && this.timeWords.has(t.text)) return true;
      if (t.type === T_STR && isDateText(t.text)) return true;
    }
    return false;
  }
}

/** `2023-01-31`, `2023-01-31 10:00`: the text opens with a calendar date. */
function isDateText(text: string): boolean {
  if (text.length < 10) return false;
  for (let i = 0; i < 10; i++) {
    const c = text.charCodeAt(i);
    if (i === 4 || i === 7 ? c !== 45 && c !== 47 : !isDigit(c)) return false;
  }
  return true;
}

/** `. , : ; ! ?` ending a word in a sentence. */
function isSentencePunct(c: number): boolean {
  return c === 46 || c === 44 || c === 58 || c === 59 || c === 33 || c === 63;
}

function startsWithAny(text: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (text.startsWith(p)) return true;
  return false;
}

function endsWithAny(text: string, suffixes: readonly string[]): boolean {
  for (const p of suffixes) if (text.endsWith(p)) return true;
  return false;
}

function includesAny(text: string, parts: readonly string[]): boolean {
  for (const p of parts) if (text.includes(p)) return true;
  return false;
}

function onlyPercent(v: string): boolean {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) !== 37) return false;
  return true;
}

function isTerminator(t: Tok | undefined): boolean {
  return (
    t === undefined ||
    isPunct(t, ")") ||
    isPunct(t, ";") ||
    (t.type === T_WORD &&
      (t.text === "limit" || t.text === "order" || t.text === "and" || t.text === "or"))
  );
}

function startsWithComment(text: string): boolean {
  let k = 0;
  while (k < text.length && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 41)) k++;
  const c = text.charCodeAt(k);
  return (
    (c === 45 && text.charCodeAt(k + 1) === 45) ||
    c === 35 ||
    (c === 47 && text.charCodeAt(k + 1) === 42)
  );
}

function numeric(o: Operand): number {
  if (o.kind === K_NUM) return Number(o.value);
  if (o.kind === K_STR && o.value.trim() !== "") return Number(o.value);
  if (o.kind === K_BOOL) return o.value === "true" ? 1 : 0;
  return Number.NaN;
}

function truthOf(a: Operand, b: Operand, op: string): boolean | null {
  if (op === "is" || op === "is not") {
    if (b.kind !== K_NULL) return null;
    const isNull = a.kind === K_NULL;
    return op === "is" ? isNull : !isNull;
  }
  if (a.kind === K_IDENT || b.kind === K_IDENT) {
    if (a.kind !== b.kind || a.value !== b.value) return null;
    return op === "=" || op === "==" || op === "<=" || op === ">=" || op === "like" || op === "<=>";
  }
  if (a.kind === K_NULL || b.kind === K_NULL) return op === "<=>" ? a.kind === b.kind : false;
  const x = numeric(a);
  const y = numeric(b);
  let cmp: number;
  if (Number.isFinite(x) && Number.isFinite(y)) cmp = x === y ? 0 : x < y ? -1 : 1;
  else if (a.kind === K_STR && b.kind === K_STR)
    cmp = a.value === b.value ? 0 : a.value < b.value ? -1 : 1;
  else return null;
  switch (op) {
    case "=":
    case "==":
    case "<=>":
    case "like":
      return cmp === 0;
    case "<>":
    case "!=":
      return cmp !== 0;
    case "<":
    case "!>":
      return cmp < 0 || (op === "!>" && cmp === 0);
    case ">":
    case "!<":
      return cmp > 0 || (op === "!<" && cmp === 0);
    case "<=":
      return cmp <= 0;
    case ">=":
      return cmp >= 0;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Findings

type Reporter = { add(code: SqlCode, evidence: string): void };

const VALUE_SIGNAL_CODES: readonly (readonly [number, SqlCode])[] = [
  [S_UNION, "SQL_UNION_INJECTION"],
  [S_TAUT, "SQL_TAUTOLOGY"],
  [S_BOOL, "SQL_BOOLEAN_BLIND"],
  [S_SUBQ, "SQL_BOOLEAN_BLIND"],
  [S_TIME, "SQL_TIME_BLIND"],
  [S_ERROR, "SQL_ERROR_BASED"],
  [S_OOB, "SQL_OUT_OF_BAND"],
  [S_CHAR, "SQL_OBFUSCATED"],
  [S_SPLIT, "SQL_OBFUSCATED"],
  [S_STACKED, "SQL_STACKED_QUERY"],
  [S_ORDER, "SQL_COLUMN_PROBE"],
  [S_TRUNC, "SQL_COMMENT_TRUNCATION"],
];

const STATEMENT_SIGNAL_CODES: readonly (readonly [number, SqlCode])[] = [
  [S_UNION, "SQL_UNION_INJECTION"],
  [S_TAUT, "SQL_TAUTOLOGY"],
  [S_BOOL, "SQL_BOOLEAN_BLIND"],
  [S_TIME, "SQL_TIME_BLIND"],
  [S_ERROR, "SQL_ERROR_BASED"],
  [S_OOB, "SQL_OUT_OF_BAND"],
  [S_CHAR, "SQL_OBFUSCATED"],
  [S_SPLIT, "SQL_OBFUSCATED"],
  [S_TRUNC, "SQL_COMMENT_TRUNCATION"],
  [S_BREAK, "SQL_SYNTAX_BREAK"],
  [S_CRED, "SQL_CREDENTIAL_TABLE_READ"],
  [S_CONCAT, "SQL_CONCAT_SUBQUERY"],
];

function evidenceAt(src: string, at: number): string {
  return src.slice(at, at + 100);
}

/** Turns signals into findings by the mode's rules. */
function report(s: Signals, mode: Mode, src: string, out: Reporter): void {
  if (!s.any) return;
  if (mode === "statement") {
    for (const [signal, code] of STATEMENT_SIGNAL_CODES) {
      if (has(s, signal)) out.add(code, evidenceAt(src, at(s, signal)));
    }
    return;
  }
  for (const [signal, code] of VALUE_SIGNAL_CODES) {
    if (has(s, signal)) out.add(code, evidenceAt(src, at(s, signal)));
  }
  const context = s.select || s.breakout || s.commentEnd || has(s, S_UNION);
  if (context && (has(s, S_ENUM) || has(s, S_SYSINFO) || has(s, S_CRED))) {
    const where = Math.max(at(s, S_ENUM), at(s, S_SYSINFO), at(s, S_CRED));
    out.add("SQL_SCHEMA_ENUMERATION", evidenceAt(src, where));
  }
  if (has(s, S_FRAG)) {
    out.add("SQL_INJECTED_FRAGMENT", evidenceAt(src, at(s, S_FRAG)));
  }
}

// Characters without which a value cannot carry SQL: quotes, separators, comment starts,
// parentheses, comparison. `application/json` or `2024-01-31` never reach the tokenizer.
const INTERESTING = new Set([39, 34, 96, 59, 35, 40, 61, 124, 38, 32, 9, 10, 13, 43]);

function interesting(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (INTERESTING.has(c) || (c >= 0x2b0 && foldedQuote(c) !== 0)) return true;
    const next = i + 1 < to ? text.charCodeAt(i + 1) : 0;
    if ((c === 45 && next === 45) || (c === 47 && next === 42)) return true;
  }
  return false;
}

/** Statements that may open inside control flow of dynamic SQL, and the words before them. */
const DYNAMIC_SPLIT_HEADS = new Set(["drop", "truncate", "delete"]);
const DYNAMIC_SPLIT_AFTER = new Set(["then", "else", "begin", "loop", "do"]);

/** The text opens (after spaces and `(`) with DELETE, UPDATE or MERGE. */
function changeHead(text: string): boolean {
  let i = 0;
  while (i < text.length && i < 64 && (isSpace(text.charCodeAt(i), false) || text[i] === "(")) i++;
  const word =
    text.startsWith("delete", i) || text.startsWith("update", i)
      ? 6
      : text.startsWith("merge", i)
        ? 5
        : 0;
  return word > 0 && !isWordChar(text.charCodeAt(i + word));
}

/** The largest number under a params key that names a row count (two levels, bounded). */
function rowCountOf(params: unknown, parts: readonly string[]): number {
  if (params === null || typeof params !== "object" || Array.isArray(params)) return 0;
  let best = 0;
  const stack: Record<string, unknown>[] = [params as Record<string, unknown>];
  let seen = 0;
  for (let depth = 0; stack.length > 0 && depth < 8; depth++) {
    const record = stack.pop()!;
    for (const k in record) {
      if (++seen > 64) return best;
      const v = record[k];
      if (v !== null && typeof v === "object" && !Array.isArray(v)) {
        if (stack.length < 4) stack.push(v as Record<string, unknown>);
        continue;
      }
      const n =
        typeof v === "number"
          ? v
          : typeof v === "string" && v.length < 16
            ? Number(v.replaceAll(",", ""))
            : Number.NaN;
      if (!Number.isFinite(n) || n <= best) continue;
      const key = keyOf(k);
      if (key.startsWith("max") || key.startsWith("limit")) continue;
      if (includesAny(key, parts)) best = n;
    }
  }
  return best;
}

/** A doubled quote `q` (the SQL escape of a quote inside a literal) between from and to. */
function hasDoubledQuote(text: string, from: number, to: number, q: number): boolean {
  for (let i = from; i + 1 < to; i++) {
    if (text.charCodeAt(i) === q && text.charCodeAt(i + 1) === q) return true;
  }
  return false;
}

/** Whitespace-separated runs that contain a letter. */
function wordCount(text: string): number {
  let words = 0;
  let letter = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      if (letter) words++;
      letter = false;
    } else if ((c | 0x20) >= 97 && (c | 0x20) <= 122) {
      letter = true;
    }
  }
  return words;
}

function hasFoldedQuote(text: string, to: number): boolean {
  for (let i = 0; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x2b0 && foldedQuote(c) !== 0) return true;
  }
  return false;
}

function hasQuote(text: string, from: number, to: number, q: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === q || (c >= 0x2b0 && foldedQuote(c) === q)) return true;
  }
  return false;
}

const STRING_PREFIXES = new Set(["n", "x", "b", "e", "u", "r", "_utf8", "_latin1", "_binary"]);

/** A string that breaks pairing: never closed, or touching a word or number with no space. */
function oddString(toks: Tok[]): Tok | null {
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.type !== T_STR) continue;
    if (t.open) return t;
    const prev = toks[i - 1];
    const next = toks[i + 1];
    if (next !== undefined && next.start === t.end && (next.type === T_WORD || next.type === T_NUM))
      return t;
    if (
      prev !== undefined &&
      prev.end === t.start &&
      prev.type === T_WORD &&
      !STRING_PREFIXES.has(prev.text)
    ) {
      return t;
    }
  }
  return null;
}

function looksLikeUrl(text: string): boolean {
  const sep = text.indexOf("://");
  return sep > 0 && sep < 12;
}

type Limits = SqlData["limits"];

/** The work of one check: findings so far and the budget left (one object per request). */
class Scan {
  readonly found: Finding[] = [];
  budget: number;
  values = 0;

  constructor(
    readonly judge: SqlJudge,
    readonly limits: Limits,
    readonly spec: SqlData["findings"],
  ) {
    this.budget = limits.maxTotalChars;
  }

  /**
   * On long texts, once something is already blocked, the optional re-reads (literals,
   * flipped quotes, folded quotes, the tail) only cost time.
   */
  enough(length: number): boolean {
    if (this.budget <= 0) return true;
    if (length < LONG_TEXT) return false;
    for (const f of this.found) if (f.severity === "BLOCK") return true;
    return false;
  }

  add(code: SqlCode, evidence: string): void {
    for (const f of this.found) if (f.code === code) return;
    const s = this.spec[code]!;
    this.found.push({
      layer: "sql",
      code,
      severity: s.severity as Severity,
      confidence: s.confidence,
      message: s.message,
      evidence: evidenceOf(evidence),
    });
  }

  opts(
    quote: number,
    plusSpace: boolean,
    foldQuotes: boolean,
    maxTokens = this.limits.maxTokens,
  ): TokenizeOptions {
    return { quote, plusSpace, foldQuotes, maxTokens };
  }

  /**
   * A value placed into some query: read as if in a numeric slot, then as if inside a
   * '…' or "…" literal (only when the value holds that quote).
   */
  value(text: string, from: number, to: number, plus: boolean, mode: Mode): void {
    if (to - from < 2 || this.budget <= 0 || this.values >= this.limits.maxValues) return;
    to = Math.min(to, from + this.limits.maxValueChars);
    if (!interesting(text, from, to)) return;
    // Prose that quotes payloads in Markdown code spans (a review comment, a ticket, a doc)
    // mentions them: only the prose around the spans is read.
    if (mode === "value" && to - from >= 48 && text.indexOf("`", from) >= 0) {
      const masked = this.judge.outsideCodeSpans(text, from, to);
      if (masked !== null) {
        text = masked;
        from = 0;
        to = masked.length;
      }
    }
    this.values++;
    this.budget -= to - from;
    const judge = this.judge;
    const plain = tokenize(text, from, to, this.opts(0, plus, true));
    // A sentence that goes on to quote SQL ("the search box accepted 1 UNION SELECT …") is a
    // syntax error in any numeric slot: only its quote-breakout readings below can run.
    const lead = judge.proseLead(plain);
    if (!lead) report(judge.analyze(plain, mode), mode, text, this);
    // Words rebuilt across inline comments (UN/∗∗/ION) are one reading; most engines read
    // the comment as a space (UNION/∗∗/SELECT): judge that reading too.
    const spaced = plain.joined && !lead ? this.spaced(text, from, to, 0, plus) : null;
    if (spaced !== null) report(judge.analyze(spaced, mode), mode, text, this);
    if (mode === "value") {
      const head = plain.code[0];
      if (head?.type === T_WORD && judge.statementKeywords.has(head.text)) {
        judge.destructive(plain.code, text, this, true);
      }
    }
    for (const q of QUOTES) {
      if (!hasQuote(text, from, to, q)) continue;
      const variant = tokenize(text, from, to, this.opts(q, plus, true));
      if (variant.toks.length > 1 && !judge.quotedInProse(variant)) {
        report(judge.analyze(variant, mode), mode, text, this);
        const alt = variant.joined ? this.spaced(text, from, to, q, plus) : null;
        if (alt !== null) report(judge.analyze(alt, mode), mode, text, this);
      }
    }
  }

  /** The text tokenised again with inline comments read as spaces. */
  spaced(text: string, from: number, to: number, quote: number, plus: boolean): Tokens {
    this.budget -= to - from;
    const o = this.opts(quote, plus, true);
    o.noJoin = true;
    return tokenize(text, from, to, o);
  }

  /** Path segments and query values of a URL, each a value. */
  url(text: string, rawHasEncodedAmp: boolean): void {
    const q = text.indexOf("?");
    const pathStart = text.indexOf("/", text.indexOf("://") + 3);
    const pathEnd = q < 0 ? text.length : q;
    if (pathStart > 0) {
      let seg = pathStart + 1;
      for (let i = seg; i <= pathEnd; i++) {
        if (i === pathEnd || text.charCodeAt(i) === 47) {
          this.value(text, seg, i, false, "value");
          seg = i + 1;
        }
      }
    }
    if (q < 0) return;
    let start = q + 1;
    for (let i = start; i <= text.length; i++) {
      if (i === text.length || text.charCodeAt(i) === 38 /* & */) {
        const eq = text.indexOf("=", start);
        this.value(text, eq >= 0 && eq < i ? eq + 1 : start, i, true, "value");
        start = i + 1;
      }
    }
    // An encoded `&` inside one value would otherwise be split away from its payload.
    if (rawHasEncodedAmp) this.value(text, q + 1, text.length, true, "value");
  }

  /** SQL text: injection signs, literals that carry SQL, destructive statements. */
  statement(text: string): void {
    if (text.length === 0 || this.budget <= 0) return;
    const judge = this.judge;
    const to = Math.min(text.length, this.limits.maxStatementChars);
    this.budget -= to;
    const tk = tokenize(text, 0, to, this.opts(0, false, false));
    this.judgeStatement(tk, text, to);
    // Past the bound, still read the end of the text: padding must not hide a final
    // `; DROP TABLE …`.
    if ((tk.truncated || to < text.length) && !this.enough(0)) {
      this.budget -= this.limits.maxTailChars;
      const tail = Math.max(0, text.length - this.limits.maxTailChars);
      const semi = text.indexOf(";", tail);
      if (semi >= 0) {
        const end = tokenize(text, semi + 1, text.length, this.opts(0, false, false));
        this.judgeStatement(end, text, text.length);
      }
    }
    // Typographic quotes (’ ′) pasted into a payload pair up differently on back-ends
    // that fold them: read the statement once more that way.
    if (!this.enough(to) && hasFoldedQuote(text, to)) {
      this.budget -= to;
      const folded = tokenize(text, 0, to, this.opts(0, false, true));
      report(judge.analyze(folded, "statement"), "statement", text, this);
    }
  }

  judgeStatement(tk: Tokens, text: string, to: number): void {
    const judge = this.judge;
    report(judge.analyze(tk, "statement"), "statement", text, this);
    if (tk.joined) {
      const from = tk.toks[0]?.start ?? 0;
      const o = this.opts(0, false, false);
      o.noJoin = true;
      this.budget -= to - from;
      report(judge.analyze(tokenize(text, from, to, o), "statement"), "statement", text, this);
    }
    let dynamic = false;
    // A string kept in a variable and run later (`SET @s = 'DELETE …'; PREPARE p FROM @s`).
    let runsStrings = false;
    for (const t of tk.code) {
      if (t.type === T_WORD && judge.dynamicWords.has(t.text)) runsStrings = true;
    }
    for (let k = 0; k < tk.code.length && !this.enough(to); k++) {
      const t = tk.code[k]!;
      if (t.type === T_WORD && judge.dynamicWords.has(t.text)) dynamic = true;
      if (t.type !== T_STR || t.text.length < 2) continue;
      if (runsStrings && !dynamic) {
        this.dynamicStatement(text, t.start + 1, t.open ? t.end : t.end - 1, tk.code[k + 1]);
      }
      // A LIKE pattern is searched-for data, not code.
      const prev = tk.code[k - 1];
      if (prev?.type === T_WORD && LIKE_WORDS.has(prev.text)) continue;
      const from = t.start + 1;
      const end = t.open ? t.end : t.end - 1;
      // A sentence stored as data (a knowledge-base article that quotes `' OR 1=1 --`)
      // mentions SQL; only a string the statement runs (EXEC('…')) is code.
      if (!dynamic && !t.open && judge.proseLiteral(text, from, end)) continue;
      // A doubled quote inside the literal is the escape that keeps a quoted payload data
      // (`'Robert''); DROP TABLE …'`): only a string the statement runs is code then.
      if (!dynamic && !t.open && hasDoubledQuote(text, from, end, text.charCodeAt(t.start))) {
        continue;
      }
      this.value(text, from, end, false, "literal");
      // A string the statement runs (`EXEC('DROP TABLE …')`, `sp_MSforeachtable 'DELETE FROM ?'`,
      // `EXECUTE 'TRUNCATE ' || r.tablename`) is judged as a statement of its own.
      if (dynamic) this.dynamicStatement(text, from, end, tk.code[k + 1]);
    }
    judge.destructive(tk.code, text, this, false);
    // A string that never closes, or one glued to a word (`"x"="x` after `" or `), means
    // the quotes no longer pair up: read the text again as if its first quote closed a
    // literal of the template, the way the server would.
    const odd = this.enough(to) ? null : oddString(tk.toks);
    if (odd !== null) {
      this.budget -= to - odd.start;
      const q = text.charCodeAt(odd.start);
      const first = text.indexOf(String.fromCharCode(q), tk.toks[0]?.start ?? 0);
      if (first >= 0 && first < odd.start + (odd.open ? 0 : 1)) {
        const flipped = tokenize(text, first, to, this.opts(q, false, true));
        if (flipped.toks.length > 1) report(judge.analyze(flipped, "value"), "value", text, this);
      }
    }
  }

  /**
   * The text of a dynamic SQL string, judged for destruction. Placeholders (`?`, `%s`, `%I`,
   * `{0}`) and a name slot the statement fills by concatenation (`'DROP TABLE ' || t`) stand
   * for the table the loop or procedure supplies.
   */
  dynamicStatement(text: string, from: number, to: number, after: Tok | undefined): void {
    if (to - from < 6 || this.budget <= 0) return;
    this.budget -= to - from;
    const tk = tokenize(text, from, to, this.opts(0, false, false, 400));
    const code: Tok[] = [];
    for (let k = 0; k < tk.code.length; k++) {
      const t = tk.code[k]!;
      const next = tk.code[k + 1];
      const prev = code[code.length - 1];
      // `IF … THEN DROP …`, `… ) DELETE …`: a statement inside control flow starts here.
      if (
        t.type === T_WORD &&
        DYNAMIC_SPLIT_HEADS.has(t.text) &&
        prev !== undefined &&
        (isPunct(prev, ")") ||
          isPunct(prev, "]") ||
          prev.type === T_STR ||
          (prev.type === T_WORD && DYNAMIC_SPLIT_AFTER.has(prev.text)))
      ) {
        code.push(makeTok(T_PUNCT, t.start, t.start, ";"));
      }
      if (isPunct(t, "[") && next?.text === "?" && isPunct(tk.code[k + 2], "]")) {
        code.push(makeTok(T_WORD, t.start, tk.code[k + 2]!.end, "placeholder"));
        k += 2;
        continue;
      }
      if (t.type === T_OP && (t.text === "?" || t.text === "%" || t.text === "{")) {
        // `%s` / `%I` (format), `{0}` / `{}` (string.Format, str.format): one name.
        if (t.text === "%" && next?.type === T_WORD && next.start === t.end) k++;
        if (t.text === "{") {
          for (let n = 0; n < 4 && k + 1 < tk.code.length && tk.code[k + 1]!.text !== "}"; n++) k++;
          k++;
        }
        code.push(makeTok(T_WORD, t.start, t.end, "placeholder"));
      } else {
        code.push(t);
      }
    }
    if (after !== undefined && after.type === T_OP && (after.text === "+" || after.text === "||")) {
      code.push(makeTok(T_WORD, to, to, "placeholder"));
    }
    this.judge.destructive(code, text, this, false);
  }

  /**
   * A request body: JSON string leaves, the string arguments of a GraphQL document, or the
   * values of a form (`user=…&pass=…`), each a value some query may receive.
   */
  body(text: string, skipKeys: ReadonlySet<string>): void {
    let i = 0;
    while (i < text.length && isSpace(text.charCodeAt(i), false)) i++;
    if (i >= text.length || this.budget <= 0) return;
    const c = text.charCodeAt(i);
    if ((c === 123 || c === 91) && text.length <= this.limits.maxStatementChars) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined) {
        this.jsonLeaves(parsed, skipKeys);
        return;
      }
    }
    if (isGraphql(text)) {
      this.graphqlStrings(text);
      return;
    }
    // An XML or SOAP body: the text between tags.
    if (c === 60 /* < */) {
      let n = 0;
      for (let open = text.indexOf(">", i); open >= 0 && n < 64; n++) {
        const close = text.indexOf("<", open + 1);
        if (close < 0) break;
        if (close - open > 2) this.value(text, open + 1, close, false, "value");
        open = text.indexOf(">", close + 1);
      }
      return;
    }
    // A form body: one line, `key=value` pairs, no spaces outside values.
    if (text.includes("=") && !text.includes("\n") && !text.includes(" ")) {
      this.url(`form://body?${text}`, false);
    }
  }

  jsonLeaves(root: unknown, skipKeys: ReadonlySet<string>): void {
    const stack: { v: unknown; key: string }[] = [{ v: root, key: "" }];
    let nodes = 0;
    while (stack.length > 0 && nodes++ < 512 && this.values < this.limits.maxValues) {
      const { v, key } = stack.pop()!;
      if (typeof v === "string") {
        if (skipKeys.has(key)) continue;
        if (this.isStatement(v)) this.statement(v);
        this.value(v, 0, v.length, false, "value");
      } else if (Array.isArray(v)) {
        for (let k = v.length - 1; k >= 0 && k < 256; k--) stack.push({ v: v[k], key });
      } else if (v !== null && typeof v === "object") {
        for (const k in v as Record<string, unknown>) {
          stack.push({ v: (v as Record<string, unknown>)[k], key: k.toLowerCase() });
        }
      }
    }
  }

  /** The double-quoted string arguments of a GraphQL document, each a value. */
  graphqlStrings(text: string): void {
    let n = 0;
    for (let i = text.indexOf('"'); i >= 0 && n < 64; i = text.indexOf('"', i + 1)) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      if (j >= text.length) break;
      if (j - i > 2) this.value(text, i + 1, j, false, "value");
      n++;
      i = j;
    }
  }

  isStatement(text: string): boolean {
    const tk = tokenize(text, 0, Math.min(text.length, 256), this.opts(0, false, false, 4));
    let k = 0;
    while (isPunct(tk.code[k], "(")) k++;
    const head = tk.code[k];
    return head?.type === T_WORD && this.judge.statementKeywords.has(head.text);
  }
}

// ---------------------------------------------------------------------------------------------
// NoSQL and other data stores: operator injection into query documents, and destructive
// operations (flush, drop, delete-everything) sent through tools of any name.

/** Lower case without separators: `Delete-Many`, `delete_many` and `deleteMany` read `deletemany`. */
function keyOf(key: string): string {
  if (isPlainKey(key)) return key;
  let out = "";
  for (let i = 0; i < key.length && i < 64; i++) {
    const c = key.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122)) out += key[i];
    else if (c >= 65 && c <= 90) out += String.fromCharCode(c + 32);
  }
  return out;
}

/** Only lower-case letters and digits (and not too long to be a key). */
function isPlainKey(key: string): boolean {
  if (key.length > 64) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 122))) return false;
  }
  return true;
}

type OperatorUse = { field: string; op: string; value: unknown; text: boolean };

/** What one bounded walk over `params` found. */
type StoreWalk = {
  operators: OperatorUse[];
  ops: string[];
  filters: unknown[];
  /** Top-level keys that are neither an operation, a container, a filter nor a connection. */
  selectorKeys: number;
  container: boolean;
  matchAll: boolean;
  method: string;
  paths: string[];
  /** Keys and items visited so far. */
  nodes: number;
};

// Which lists a params key is on (one Map lookup per key).
const KEY_OP = 1;
const KEY_OP_NAME = 2;
const KEY_CONTAINER = 4;
const KEY_FILTER = 8;
const KEY_MATCH_ALL = 16;
const KEY_METHOD = 32;
const KEY_PATH = 64;
const KEY_NEUTRAL = 128;
/** Keys that name the operation, its target or its connection, not which records. */
const KEY_STRUCTURAL = KEY_OP | KEY_CONTAINER | KEY_FILTER | KEY_NEUTRAL;

/** Judges query documents and store operations; lists come from data/sql.json. */
class StoreJudge {
  readonly n: SqlData["nosql"];
  readonly st: SqlData["stores"];
  readonly bypass: ReadonlySet<string>;
  readonly alwaysTrue: ReadonlySet<string>;
  readonly jsOps: ReadonlySet<string>;
  readonly plainOps: ReadonlySet<string>;
  readonly jsAttack: RE2;
  readonly textForms: readonly RE2[];
  readonly valueForm: RE2;
  readonly identity: ReadonlySet<string>;
  readonly secret: ReadonlySet<string>;
  readonly authTokens: ReadonlySet<string>;
  readonly opKeys: ReadonlySet<string>;
  readonly wipeOps: ReadonlySet<string>;
  readonly containerOps: ReadonlySet<string>;
  readonly deleteOps: ReadonlySet<string>;
  readonly updateOps: ReadonlySet<string>;
  readonly genericOps: ReadonlySet<string>;
  /** Every prefix of every operation name: action-name tokens that may start one. */
  readonly opStarts: ReadonlySet<string>;
  readonly filterKeys: ReadonlySet<string>;
  readonly containerKeys: ReadonlySet<string>;
  readonly neutralKeys: ReadonlySet<string>;
  readonly storeTokens: ReadonlySet<string>;
  readonly searchTokens: ReadonlySet<string>;
  readonly methodKeys: ReadonlySet<string>;
  readonly pathKeys: ReadonlySet<string>;
  readonly sqlContext: RE2;
  readonly keyFlags: ReadonlyMap<string, number>;
  readonly keyCache = new Map<string, string>();
  readonly destructiveWord: RE2;
  readonly bulkDeleteCall: RE2;

  constructor(
    data: SqlData,
    readonly judge: SqlJudge,
  ) {
    const n = data.nosql;
    const st = data.stores;
    const keys = (words: readonly string[]) => new Set(words.map(keyOf));
    this.n = n;
    this.st = st;
    this.bypass = new Set(n.bypassOperators);
    this.alwaysTrue = new Set(n.alwaysTrueOperators);
    this.jsOps = new Set(n.jsOperators);
    this.plainOps = new Set(n.plainOperators);
    this.jsAttack = new RE2(n.jsAttackPatterns.map((p) => `(?:${p})`).join("|"), "u");
    this.textForms = n.operatorTextPatterns.map((p) => new RE2(p, "gu"));
    this.valueForm = new RE2(n.valueOperatorPattern, "u");
    this.identity = keys(n.identityFields);
    this.secret = keys(n.secretFields);
    this.authTokens = new Set(n.authContextTokens);
    this.opKeys = keys(st.opKeys);
    this.wipeOps = keys(st.wipeOps);
    this.containerOps = keys(st.containerOps);
    this.deleteOps = keys(st.deleteOps);
    this.updateOps = keys(st.updateOps);
    this.genericOps = keys(st.genericOps);
    const starts = new Set<string>();
    for (const op of [...this.wipeOps, ...this.deleteOps, ...this.updateOps]) {
      for (let n = 1; n <= op.length; n++) starts.add(op.slice(0, n));
    }
    this.opStarts = starts;
    this.filterKeys = keys(st.filterKeys);
    this.containerKeys = keys(st.containerKeys);
    this.neutralKeys = keys(st.neutralKeys);
    this.storeTokens = new Set(st.storeTokens);
    this.searchTokens = new Set(st.searchTokens);
    this.methodKeys = keys(st.methodKeys);
    this.pathKeys = keys(st.pathKeys);
    this.sqlContext = new RE2(st.sqlContextPattern, "u");
    const flags = new Map<string, number>();
    const flag = (words: Iterable<string>, bit: number) => {
      for (const w of words) flags.set(w, (flags.get(w) ?? 0) | bit);
    };
    flag(this.opKeys, KEY_OP);
    flag(this.wipeOps, KEY_OP_NAME);
    flag(this.containerOps, KEY_OP_NAME);
    flag(this.containerKeys, KEY_CONTAINER);
    flag(this.filterKeys, KEY_FILTER);
    flag(st.matchAllKeys.map(keyOf), KEY_MATCH_ALL);
    flag(this.methodKeys, KEY_METHOD);
    flag(this.pathKeys, KEY_PATH);
    flag(this.neutralKeys, KEY_NEUTRAL);
    this.keyFlags = flags;
    this.destructiveWord = new RE2(st.destructiveStatementPattern, "u");
    this.bulkDeleteCall = new RE2(st.bulkDeleteCallPattern, "u");
  }

  isSecretField(field: string): boolean {
    return tailSpells(field, this.secret);
  }

  /** One bounded pass over params (depth and node count capped by data/sql.json). */
  walk(params: unknown): StoreWalk {
    const w: StoreWalk = {
      operators: [],
      ops: [],
      filters: [],
      selectorKeys: 0,
      container: false,
      matchAll: false,
      method: "",
      paths: [],
      nodes: 0,
    };
    if (params !== null && typeof params === "object") this.visit(w, params, "", 0);
    return w;
  }

  visit(w: StoreWalk, v: object, field: string, depth: number): void {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length && w.nodes < this.n.maxNodes; i++) {
        const item: unknown = v[i];
        w.nodes++;
        if (item !== null && typeof item === "object" && depth < this.n.maxDepth) {
          this.visit(w, item, field, depth + 1);
        }
      }
      return;
    }
    for (const k in v as Record<string, unknown>) {
      if (++w.nodes > this.n.maxNodes) return;
      const value = (v as Record<string, unknown>)[k];
      const dollar = k.charCodeAt(0) === 36; /* $ */
      // `{password: {not: ""}}`: an operator spelled without `$`, under a field.
      const plain = !dollar && field !== "" && this.plainOps.has(k.toLowerCase());
      const operator = dollar || plain;
      if (operator) {
        w.operators.push({ field, op: opName(k), value, text: false });
      }
      if (!dollar) this.entry(w, k, value, depth);
      if (value !== null && typeof value === "object" && depth < this.n.maxDepth) {
        this.visit(w, value, operator ? field : k, depth + 1);
      }
    }
  }

  /** keyOf, remembered: keys repeat from request to request (bounded; results do not depend on it). */
  key(k: string): string {
    if (isPlainKey(k)) return k;
    const known = this.keyCache.get(k);
    if (known !== undefined) return known;
    const folded = keyOf(k);
    if (this.keyCache.size >= 1024) this.keyCache.clear();
    if (k.length <= 64) this.keyCache.set(k, folded);
    return folded;
  }

  entry(w: StoreWalk, k: string, value: unknown, depth: number): void {
    const kn = this.key(k);
    // One lookup says which lists the key is on; most keys are on none.
    const f = this.keyFlags.get(kn) ?? 0;
    const str = typeof value === "string" ? value : null;
    if (f !== 0) {
      if (f & KEY_OP && str !== null && str.length < 64) w.ops.push(keyOf(str));
      // A command document ({"dropDatabase": 1}, {"drop": "orders"}) names its operation as a key.
      else if (f & KEY_OP_NAME && depth <= 1 && (str !== null || value === 1 || value === true)) {
        w.ops.push(kn);
        if (str !== null) w.container = true;
      }
      if (f & KEY_CONTAINER) w.container = true;
      if (f & KEY_FILTER && depth <= 2) w.filters.push(value);
      if (f & KEY_MATCH_ALL) w.matchAll = true;
      if (f & KEY_METHOD && str !== null) w.method = str.trim().toLowerCase();
      if (f & KEY_PATH && str !== null) w.paths.push(str.toLowerCase());
    }
    if (depth === 0 && (f & KEY_STRUCTURAL) === 0) w.selectorKeys++;
    // JSON smuggled into a string: `"password": "{\"$ne\": null}"`.
    if (str !== null && str.length < 4096 && str.includes("$")) {
      const m = this.valueForm.exec(str.toLowerCase());
      if (m !== null) w.operators.push({ field: k, op: m[1]!, value: str, text: true });
    }
  }

  /** `password: {$ne: …}`, `password[$ne]=` written as text (bodies, URLs, shell strings). */
  textOperators(text: string, out: OperatorUse[]): void {
    // Every form needs a `$` or a `{` (`password: {_neq: ""}`).
    if (!text.includes("$") && !text.includes("{")) return;
    for (const re of this.textForms) {
      re.lastIndex = 0;
      for (let n = 0; n < 32; n++) {
        const m = re.exec(text);
        if (m === null) break;
        const end = m.index + m[0].length;
        out.push({
          field: m[1]!,
          op: opName(m[2]!),
          value: text.slice(end, end + 240),
          text: true,
        });
      }
    }
  }

  /**
   * `db.events.deleteMany({createdAt: {$lt: …}})` written as code: a retention purge, like
   * DELETE … WHERE created_at < … — unless the field is an expiry (`expiresAt`), housekeeping.
   */
  rangeDelete(facts: Facts, uses: readonly OperatorUse[], out: Reporter): void {
    let call = this.bulkDeleteCall.exec(facts.content.norm);
    call ??= this.bulkDeleteCall.exec(facts.target.norm);
    if (call === null) return;
    for (const u of uses) {
      if (!u.text || !NOSQL_RANGE_OPS.has(u.op)) continue;
      if (this.judge.isExpiryColumn(keyOf(u.field))) continue;
      out.add("SQL_BULK_DELETE", `${call[0]} ${useEvidence(u)}`);
      return;
    }
  }

  /** Operators that bypass authentication, extract secrets or run JavaScript on the server. */
  operators(uses: readonly OperatorUse[], auth: boolean, out: Reporter): void {
    for (let k = 0; k < uses.length && k < 64; k++) {
      const u = uses[k]!;
      if (this.jsOps.has(u.op)) {
        const js = typeof u.value === "string" ? u.value.toLowerCase() : shortValue(u.value, 400);
        out.add(this.jsAttack.test(js) ? "NOSQL_JS_INJECTION" : "NOSQL_JS_QUERY", useEvidence(u));
      } else if (this.bypass.has(u.op) && this.isSecretField(u.field)) {
        out.add("NOSQL_OPERATOR_INJECTION", useEvidence(u));
      } else if (auth && this.alwaysTrue.has(u.op) && tailSpells(u.field, this.identity)) {
        out.add("NOSQL_OPERATOR_INJECTION", useEvidence(u));
      }
    }
  }

  /** An empty or match-everything filter. */
  emptyFilter(v: unknown): boolean {
    if (v === null || v === undefined) return true;
    if (typeof v === "string") {
      const t = v.trim();
      return t === "" || t === "*" || t === "*:*" || t === "{}" || t === "[]";
    }
    if (typeof v !== "object") return v === true;
    if (Array.isArray(v)) return v.length === 0;
    let count = 0;
    for (const k in v as Record<string, unknown>) {
      count++;
      const kn = keyOf(k);
      if (count > 1 || !(this.st.matchAllKeys.includes(kn) || kn === "query")) return false;
      if (kn === "query" && !this.emptyFilter((v as Record<string, unknown>)[k])) return false;
    }
    return true;
  }

  /** Structured operations: `{"operation": "deleteMany", "filter": {}}`, `{"op": "dropDatabase"}`. */
  operations(w: StoreWalk, facts: Facts, tokens: readonly string[], out: Reporter): void {
    let context =
      w.container ||
      facts.target.norm.startsWith("redis") ||
      facts.target.norm.startsWith("mongodb");
    for (const t of tokens) if (this.storeTokens.has(t)) context = true;
    // The action name itself may be the operation: `mongo_delete_many`, `redis_flushall`.
    let ops: string[] | null = w.ops.length > 0 ? w.ops.slice(0, 16) : null;
    for (let i = 0; i < tokens.length && i < 8; i++) {
      if (!this.opStarts.has(tokens[i]!)) continue;
      let joined = "";
      for (let j = i; j < tokens.length && j < i + 3; j++) {
        joined += tokens[j];
        const compound =
          this.wipeOps.has(joined) || this.deleteOps.has(joined) || this.updateOps.has(joined);
        if (j > i ? compound : this.wipeOps.has(joined)) {
          ops ??= [];
          ops.push(joined);
        }
      }
    }
    if (ops === null) return;
    const explicitAll =
      w.matchAll || (w.filters.length > 0 && w.filters.every((f) => this.emptyFilter(f)));
    const unfiltered = w.filters.length === 0 && w.selectorKeys === 0;
    for (const op of ops) {
      if (this.wipeOps.has(op)) out.add("NOSQL_STORE_WIPE", op);
      else if (this.containerOps.has(op) && context && w.container) out.add("NOSQL_STORE_WIPE", op);
      else if (!context) continue;
      else if (!(unfiltered || explicitAll)) {
        // A many-delete bounded by a range (`createdAt: {$lt: …}`) is a retention purge:
        // like its SQL twin (DELETE … WHERE created_at < …) it deserves a look.
        if (this.deleteOps.has(op) && w.operators.some((u) => NOSQL_RANGE_OPS.has(u.op))) {
          out.add("SQL_BULK_DELETE", op);
        }
      } else if (this.deleteOps.has(op)) out.add("NOSQL_UNBOUNDED_DELETE", op);
      else if (this.updateOps.has(op)) out.add("NOSQL_UNBOUNDED_UPDATE", op);
      // `delete` / `remove` / `update` name a single-record call too: only an explicit empty
      // filter makes them mass operations.
      else if (explicitAll && this.genericOps.has(op)) {
        out.add(op.startsWith("update") ? "NOSQL_UNBOUNDED_UPDATE" : "NOSQL_UNBOUNDED_DELETE", op);
      }
    }
  }

  /** Search clusters: `DELETE /_all`, `DELETE /logs-*`, `_delete_by_query` matching all. */
  searchIndex(w: StoreWalk, facts: Facts, tokens: readonly string[], out: Reporter): void {
    let method = w.method;
    if (method === "" && facts.kind === "http" && facts.action.norm.includes("delete")) {
      method = "delete";
    }
    const byQuery = w.matchAll || facts.target.norm.includes("_delete_by_query");
    if (method !== "delete" && !byQuery) return;
    const paths = w.paths;
    let search = false;
    for (const t of tokens) if (this.searchTokens.has(t)) search = true;
    for (const u of facts.urls) {
      if (u.field !== "target" && u.field !== "params") continue;
      paths.push(u.path);
      if (this.st.searchPorts.includes(u.port)) search = true;
      if (u.path.includes("_delete_by_query") && (w.matchAll || u.query.includes("q=*"))) {
        out.add("NOSQL_UNBOUNDED_DELETE", u.text);
      }
    }
    for (const p of paths) {
      if (p.includes("_delete_by_query") && w.matchAll) out.add("NOSQL_UNBOUNDED_DELETE", p);
    }
    if (method !== "delete") return;
    for (const p of paths) {
      let s = 0;
      while (p.charCodeAt(s) === 47) s++;
      let e = p.indexOf("/", s);
      if (e < 0) e = p.length;
      const first = p.slice(s, e);
      if (first === "" || p.slice(e).replaceAll("/", "") !== "") continue;
      if (first === "_all" || first.includes("*")) {
        out.add("NOSQL_STORE_WIPE", `DELETE ${p}`);
      } else if (search && first.charCodeAt(0) !== 95) {
        // A dated (`logs-2024.01.07`) or scratch index is routine retention; others are data.
        const n = first.length;
        const dated = isDigit(first.charCodeAt(n - 1)) && isDigit(first.charCodeAt(n - 2));
        const temp = dated || this.judge.isTemp(first);
        out.add(temp ? "NOSQL_INDEX_DELETE" : "NOSQL_STORE_WIPE", `DELETE ${p}`);
      }
    }
  }

  /** SQL inside a shell command or program (`psql -c "DROP TABLE …"`, `cur.execute("DELETE …")`). */
  embeddedSql(text: string, out: Scan): void {
    if (text.length < 8 || out.budget <= 0) return;
    const destructive = this.destructiveWord.test(text);
    // A query the program runs that already carries a payload (`… WHERE name = 'x' OR '1'='1'`).
    const injected =
      text.includes(" or ") ||
      text.includes("union") ||
      text.includes("sleep") ||
      text.includes("waitfor") ||
      text.includes("benchmark");
    if (!(destructive || injected) || !this.sqlContext.test(text)) return;
    const judge = this.judge;
    const payloads: Reporter = {
      add(code, evidence) {
        if (EMBEDDED_INJECTION_CODES.has(code)) out.add(code, evidence);
      },
    };
    let strings = 0;
    for (let i = 0; i < text.length && strings < 32; i++) {
      const q = text.charCodeAt(i);
      if (q !== 34 && q !== 39 && q !== 96) continue;
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== q) j += text.charCodeAt(j) === 92 ? 2 : 1;
      strings++;
      const body = text.slice(i + 1, Math.min(j, text.length, i + 1 + 8192));
      i = j;
      if (body.length < 8 || out.budget <= 0) continue;
      out.budget -= body.length;
      const tk = tokenize(body, 0, body.length, {
        quote: 0,
        plusSpace: false,
        foldQuotes: false,
        maxTokens: 4000,
      });
      let h = 0;
      while (isPunct(tk.code[h], "(")) h++;
      const head = tk.code[h];
      if (head?.type === T_WORD && judge.statementKeywords.has(head.text)) {
        if (destructive) judge.destructive(tk.code, body, out, true);
        if (injected) report(judge.analyze(tk, "statement"), "statement", body, payloads);
      }
    }
    // A here-document fed to a database client: `psql <<SQL … SQL`.
    const here = text.indexOf("<<");
    const line = here < 0 ? -1 : text.indexOf("\n", here);
    if (line > 0 && out.budget > 0) {
      const body = text.slice(line + 1, line + 1 + 8192);
      out.budget -= body.length;
      const tk = tokenize(body, 0, body.length, {
        quote: 0,
        plusSpace: false,
        foldQuotes: false,
        maxTokens: 4000,
      });
      judge.destructive(tk.code, body, out, false);
    }
  }
}

/**
 * Whether the last one, two or three words of a field name (split at `_ - . [ ]` and camelCase)
 * spell one of `names`: `user_password` and `passwordHash` do, `password_changed_at` does not.
 */
function tailSpells(field: string, names: ReadonlySet<string>): boolean {
  const words: string[] = [];
  let word = "";
  const end = Math.min(field.length, 96);
  for (let i = 0; i < end; i++) {
    const c = field.charCodeAt(i);
    const upper = c >= 65 && c <= 90;
    const lower = (c >= 97 && c <= 122) || isDigit(c);
    if (!upper && !lower) {
      if (word !== "") words.push(word);
      word = "";
      continue;
    }
    const prev = field.charCodeAt(i - 1);
    if (upper && word !== "" && !(prev >= 65 && prev <= 90)) {
      words.push(word);
      word = "";
    }
    word += upper ? String.fromCharCode(c + 32) : field[i];
  }
  if (word !== "") words.push(word);
  let tail = "";
  for (let k = words.length - 1; k >= 0 && k >= words.length - 3; k--) {
    tail = words[k] + tail;
    if (names.has(tail)) return true;
  }
  return false;
}

/** `$ne`, `_neq`, `notIn` → `ne`, `neq`, `notin`: an operator's name without sigils or case. */
function opName(key: string): string {
  let s = 0;
  while (s < key.length && (key.charCodeAt(s) === 36 || key.charCodeAt(s) === 95)) s++;
  return keyOf(key.slice(s));
}

/** What a query inside a program may show of an injection payload already spliced in. */
const EMBEDDED_INJECTION_CODES: ReadonlySet<SqlCode> = new Set<SqlCode>([
  "SQL_TAUTOLOGY",
  "SQL_UNION_INJECTION",
  "SQL_TIME_BLIND",
  "SQL_ERROR_BASED",
]);

/** Range operators of query documents, as `opName` spells them. */
const NOSQL_RANGE_OPS = new Set(["lt", "lte", "gt", "gte", "before", "after", "olderthan"]);

/** `password: {$ne: null}` for evidence. */
function useEvidence(u: OperatorUse): string {
  return `${u.field}: {$${u.op}: ${shortValue(u.value)}}`;
}

/**
 * A value as short JSON-like text, for evidence and for reading a `$function` body: strings
 * as they are, containers walked only until `max` characters are written.
 */
function shortValue(v: unknown, max = 60): string {
  if (typeof v === "string") return v.slice(0, max);
  const out: string[] = [];
  let length = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0 && length < max && out.length < 256) {
    const item = stack.pop();
    let piece: string;
    if (typeof item === "string") piece = item.length > max ? item.slice(0, max) : item;
    else if (item === null || typeof item !== "object") piece = String(item);
    else {
      piece = Array.isArray(item) ? "[" : "{";
      const keys: unknown[] = [];
      let n = 0;
      for (const k in item as Record<string, unknown>) {
        if (++n > 16) break;
        keys.push((item as Record<string, unknown>)[k], Array.isArray(item) ? "," : `${k}:`);
      }
      // Children go on the stack last-first so they are written in order.
      for (let i = keys.length - 1; i >= 0 && stack.length < 64; i--) stack.push(keys[i]);
    }
    out.push(piece);
    length += piece.length;
  }
  return out.join("").slice(0, max);
}

const QUOTES = [39, 34] as const;

/** Texts at least this long stop re-reading once a BLOCK is found. */
const LONG_TEXT = 2048;

/**
 * Layer 6: SQL injection and destructive SQL. SQL actions are tokenised as statements
 * (tautologies, UNION probes, blind/error/out-of-band functions, literals that carry SQL,
 * DROP/TRUNCATE/unbounded DELETE…); other actions' injection points — URL query values,
 * tool arguments, decoded blobs — are tokenised as values placed in a numeric slot or
 * inside a quoted literal of some host query.
 */
export function createSqlLayer(input: unknown): Layer {
  const data = SqlDataSchema.parse(input);
  const judge = new SqlJudge(data);
  const stores = new StoreJudge(data, judge);
  const storeRules = compileRules("sql", data.rules);
  const skip = new Set<ActionKind>(data.skipKinds);
  const codeKeys = new Set(data.codeParamKeys);
  const sqlKeys = new Set(data.sqlParamKeys);

  // Action names repeat from request to request: their tokens are kept (bounded).
  const tokenCache = new Map<string, readonly string[]>();
  const tokensOf = (name: string): readonly string[] => {
    let tokens = tokenCache.get(name);
    if (tokens === undefined) {
      tokens = Object.freeze(name.split("_"));
      if (tokenCache.size >= 512) tokenCache.clear();
      if (name.length <= 128) tokenCache.set(name, tokens);
    }
    return tokens;
  };

  /** Non-SQL stores: operator injection, flush/drop/delete-everything, SQL inside commands. */
  const nonSql = (facts: Facts, scan: Scan): void => {
    // The text rules read what the agent sends; a fetched page is someone else's text.
    if (facts.source === "agent" || facts.source === "user") storeRules(facts, scan.found);
    const w = stores.walk(facts.params);
    const uses = w.operators;
    const outbound = facts.source === "agent" || facts.source === "user";
    stores.textOperators(facts.target.norm, uses);
    if (outbound) stores.textOperators(facts.content.norm, uses);
    for (let k = 0; k < facts.paramStrings.length && k < 64; k++) {
      stores.textOperators(facts.paramStrings[k]!.value.norm, uses);
    }
    if (uses.length > 0) {
      stores.operators(uses, authContext(facts, tokensOf(facts.actionName), w, stores), scan);
      if (outbound) stores.rangeDelete(facts, uses, scan);
    }
    const tokens = tokensOf(facts.actionName);
    stores.operations(w, facts, tokens, scan);
    stores.searchIndex(w, facts, tokens, scan);
    // Unknown tools (`node_exec`, `run_job`) may run a program or a command line too.
    if (facts.kind === "shell" || facts.kind === "code_exec" || facts.kind === "other") {
      stores.embeddedSql(facts.target.norm, scan);
      stores.embeddedSql(facts.content.norm, scan);
      for (let k = 0; k < facts.paramStrings.length && k < 64; k++) {
        stores.embeddedSql(facts.paramStrings[k]!.value.norm, scan);
      }
    }
  };

  const rowKeyParts = data.rowCountKeyParts;
  /** A DELETE / UPDATE whose params say it touches many rows (a row-count preview). */
  const massChange = (facts: Facts, scan: Scan): void => {
    let statement = changeHead(facts.content.norm) ? facts.content.norm : null;
    if (statement === null && changeHead(facts.target.norm)) statement = facts.target.norm;
    for (let k = 0; statement === null && k < facts.paramStrings.length && k < 16; k++) {
      const v = facts.paramStrings[k]!.value.norm;
      if (changeHead(v)) statement = v;
    }
    if (statement === null) return;
    const rows = rowCountOf(facts.params, rowKeyParts);
    if (rows >= data.massChangeRows) {
      scan.add("SQL_MASS_CHANGE", `${statement.slice(0, 80)} (${rows} rows)`);
    }
  };

  return {
    name: "sql",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const kind = facts.kind;
      // Prompts, tool output and messages are prose; files written are not run.
      const prose = kind === "tool_output" || kind === "llm_prompt";
      const text = prose || kind === "message" || kind.startsWith("file_");
      const scan = new Scan(judge, data.limits, data.findings);
      if (!text) nonSql(facts, scan);
      if (skip.has(kind)) return done(scan.found);
      if (!text) massChange(facts, scan);
      if (kind === "sql") {
        scan.statement(facts.content.norm);
        const target = facts.target.norm;
        if (target !== "") {
          if (scan.isStatement(target)) scan.statement(target);
          else scan.value(target, 0, target.length, false, "value");
        }
        for (const p of facts.paramStrings) {
          if (codeKeys.has(p.key.toLowerCase())) continue;
          const v = p.value.norm;
          if (scan.isStatement(v)) scan.statement(v);
          else scan.value(v, 0, v.length, false, "value");
        }
        return done(scan.found);
      }
      const target = facts.target.norm;
      if (!prose && target !== "") {
        if (looksLikeUrl(target)) scan.url(target, hasEncodedAmp(facts.target.raw));
        else scan.value(target, 0, target.length, false, "value");
      }
      // A tool the action table does not know may still run SQL: statement-shaped content,
      // or a statement under a SQL-named parameter, is read as SQL. A body the agent sends
      // (JSON, a GraphQL document, a form) carries values bound for some query.
      const content = facts.content.norm;
      if (kind === "other" && scan.isStatement(content)) scan.statement(content);
      else if ((kind === "other" || kind === "http") && facts.source === "agent") {
        scan.body(content, codeKeys);
      }
      for (const p of facts.paramStrings) {
        const key = p.key.toLowerCase();
        if (codeKeys.has(key)) continue;
        const v = p.value.norm;
        if (looksLikeUrl(v)) {
          scan.url(v, hasEncodedAmp(p.value.raw));
          continue;
        }
        // Outside a SQL action a statement in a parameter is still a value someone supplied:
        // read it both ways.
        if (sqlKeys.has(key) && scan.isStatement(v)) scan.statement(v);
        scan.value(v, 0, v.length, false, "value");
        if (isGraphql(v)) scan.graphqlStrings(v);
      }
      for (const d of facts.decoded) scan.value(d.norm, 0, d.norm.length, false, "value");
      return done(scan.found);
    },
  };
}

/** A login, a session or a credential is at stake: the action, the URL or a secret field says so. */
function authContext(
  facts: Facts,
  tokens: readonly string[],
  w: StoreWalk,
  stores: StoreJudge,
): boolean {
  for (const t of tokens) if (stores.authTokens.has(t)) return true;
  for (let k = 0; k < facts.paramStrings.length && k < 64; k++) {
    if (stores.isSecretField(facts.paramStrings[k]!.key)) return true;
  }
  for (const u of facts.urls) {
    if (u.field !== "target") continue;
    let start = 0;
    const path = u.path;
    for (let i = 0; i <= path.length; i++) {
      const c = i < path.length ? path.charCodeAt(i) : 47;
      if ((c >= 97 && c <= 122) || isDigit(c)) continue;
      if (i > start && stores.authTokens.has(path.slice(start, i))) return true;
      start = i + 1;
    }
  }
  for (const u of w.operators) if (stores.isSecretField(u.field)) return true;
  return false;
}

/** `query { … }`, `mutation …`, `{ user(id: "…") { … } }`: a GraphQL document. */
function isGraphql(text: string): boolean {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i), false)) i++;
  const open = text.charCodeAt(i) === 123 && text.indexOf("(", i) > 0;
  return (
    open ||
    text.startsWith("query", i) ||
    text.startsWith("mutation", i) ||
    text.startsWith("subscription", i)
  );
}

/** `%26` in the raw text: an `&` that belongs to a value, not a separator. */
function hasEncodedAmp(raw: string): boolean {
  return raw.includes("%26");
}
