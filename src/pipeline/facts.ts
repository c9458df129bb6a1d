import RE2 from "re2";
import type {
  ActionKind,
  AmountFact,
  Facts,
  ParamString,
  PolicyView,
  Source,
  TextView,
  UrlFact,
} from "../../layers/types.js";
import { emptyStats, foldText, type NormalizeStats, normalizeText } from "./normalize.js";

/** The body of a /api/protect call, after validation. */
export type ProtectRequest = Readonly<{
  action: string;
  target?: string | undefined;
  content?: string | undefined;
  params?: Readonly<Record<string, unknown>> | undefined;
  context?: Readonly<{ source?: Source | undefined; session_id?: string | undefined }> | undefined;
}>;

export type ActionTable = Readonly<{
  exact: Readonly<Record<string, ActionKind>>;
  tokenRules: readonly Readonly<{
    all?: readonly string[];
    any?: readonly string[];
    kind: ActionKind;
  }>[];
}>;

/** Bounds that keep the work per request linear and small, whatever is sent. */
const MAX_PARAM_STRINGS = 2_000;
const MAX_BLOBS = 8;
const MAX_BLOB_BYTES = 65_536;
/** Runs long enough to be a blob that are tried at most; bounds the work on hostile input. */
const MAX_BLOB_CANDIDATES = 256;
const MIN_BASE64_RUN = 16;
const MIN_HEX_RUN = 16;
const MIN_RUN = Math.min(MIN_BASE64_RUN, MIN_HEX_RUN);
const MAX_URLS = 64;

const EMPTY_BUFFER = Buffer.alloc(0);
const EMPTY_VIEW: TextView = Object.freeze({ raw: "", norm: "", buf: EMPTY_BUFFER });

// Candidate URLs: a scheme followed by "://", or the single-slash file: form.
const URL_PATTERN = new RE2("(?:[a-z][a-z0-9+.-]{1,20}://|file:/)[^\\s\"'<>`\\\\{}|^]*", "g");

function view(raw: string, stats: NormalizeStats): TextView & { decoded: string } {
  if (raw === "") return { ...EMPTY_VIEW, decoded: "" };
  const { decoded, norm } = normalizeText(raw, stats);
  return { raw, norm, buf: Buffer.from(norm, "utf8"), decoded };
}

function plainView(raw: string, norm: string): TextView {
  return raw === "" ? EMPTY_VIEW : { raw, norm, buf: Buffer.from(norm, "utf8") };
}

/** `Read-File`, `readFile` and `read.file` all become `read_file`. */
export function actionTokens(action: string): string[] {
  const tokens: string[] = [];
  let current = "";
  for (let i = 0; i < action.length; i++) {
    const ch = action[i]!;
    const code = action.charCodeAt(i);
    const isUpper = code >= 65 && code <= 90;
    const isLower = (code >= 97 && code <= 122) || (code >= 48 && code <= 57);
    if (!isUpper && !isLower) {
      if (current !== "") tokens.push(current);
      current = "";
      continue;
    }
    const prev = action.charCodeAt(i - 1);
    if (isUpper && current !== "" && prev >= 97 && prev <= 122) {
      tokens.push(current);
      current = "";
    }
    current += ch.toLowerCase();
  }
  if (current !== "") tokens.push(current);
  return tokens;
}

/** Classifies an action name by the data/actions.json table. */
export function classifyAction(
  action: string,
  table: ActionTable,
): { name: string; kind: ActionKind } {
  const lower = action.trim().toLowerCase();
  const tokens = actionTokens(action);
  const name = tokens.join("_");
  const exact = table.exact[lower] ?? table.exact[name];
  if (exact !== undefined) return { name, kind: exact };
  const set = new Set(tokens);
  for (const rule of table.tokenRules) {
    const allOk = rule.all === undefined || rule.all.every((t) => set.has(t));
    const anyOk = rule.any === undefined || rule.any.some((t) => set.has(t));
    if (allOk && anyOk) return { name, kind: rule.kind };
  }
  return { name, kind: "other" };
}

const OUTBOUND_METHODS: ReadonlySet<string> = new Set(["post", "put", "patch", "delete"]);

function methodOf(params: ProtectRequest["params"]): string {
  const method = params?.method;
  return typeof method === "string" ? method.trim().toLowerCase() : "";
}

function inferSource(kind: ActionKind, hasContent: boolean, method: string): Source {
  switch (kind) {
    case "tool_output":
      return "tool_output";
    case "llm_prompt":
      return "user";
    case "http":
      // The content of a GET is the page fetched; of a POST, the body the agent sends.
      return hasContent && !OUTBOUND_METHODS.has(method) ? "web" : "agent";
    case "file_read":
      return hasContent ? "file" : "agent";
    default:
      return "agent";
  }
}

const AMOUNT_KEYS = new Set(["amount", "value", "total", "sum", "price", "amount_usd", "usd"]);

const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = {
  $: "USD",
  "€": "EUR",
  "£": "GBP",
  "¥": "JPY",
  "₹": "INR",
  "₩": "KRW",
  "₽": "RUB",
  "₺": "TRY",
  "₿": "BTC",
  "₣": "CHF",
};

/**
 * Reads an amount written as text: "$12,000.50", "EUR 9.500", "12 000 €", "1.250,75". A single
 * separator followed by exactly three digits is a thousands separator (over-reading a large
 * amount is the safe mistake here).
 */
export function parseAmount(text: string): { value: number; currency: string | null } | null {
  let currency: string | null = null;
  let digits = "";
  let letters = "";
  for (const ch of text.trim()) {
    const code = ch.charCodeAt(0);
    if ((code >= 48 && code <= 57) || ch === "." || ch === "," || ch === "-") digits += ch;
    else if (CURRENCY_SYMBOLS[ch] !== undefined) currency = CURRENCY_SYMBOLS[ch]!;
    else if (isAsciiLetterCode(code)) letters += ch;
    else if (ch !== " " && ch !== "\u00a0" && ch !== "'" && ch !== "_") return null;
  }
  if (letters.length === 3) currency = letters.toUpperCase();
  else if (letters !== "") return null;
  if (digits === "" || digits === "-") return null;
  const lastDot = digits.lastIndexOf(".");
  const lastComma = digits.lastIndexOf(",");
  let normalized: string;
  if (lastDot >= 0 && lastComma >= 0) {
    const decimal = lastDot > lastComma ? "." : ",";
    const thousands = decimal === "." ? "," : ".";
    normalized = digits.replaceAll(thousands, "").replace(decimal, ".");
  } else {
    const sep = lastDot >= 0 ? "." : lastComma >= 0 ? "," : "";
    const groups = sep === "" ? [digits] : digits.split(sep);
    const thousandsStyle = groups.length > 2 || (groups.length === 2 && groups[1]!.length === 3);
    normalized = sep === "" ? digits : thousandsStyle ? groups.join("") : groups.join(".");
  }
  const value = Number(normalized);
  return Number.isFinite(value) ? { value, currency } : null;
}

type Walked = { strings: ParamString[]; amounts: AmountFact[]; raw: string[]; norm: string[] };

/** Collects every string (with its path) and every amount-like number from params, iteratively. */
function walkParams(params: unknown, stats: NormalizeStats): Walked {
  const walked: Walked = { strings: [], amounts: [], raw: [], norm: [] };
  const line = (key: string, raw: string, norm: string) => {
    walked.raw.push(key === "" ? raw : `${key}: ${raw}`);
    walked.norm.push(key === "" ? norm : `${foldText(key, stats)}: ${norm}`);
  };
  if (params === undefined || params === null) return walked;
  const stack: { value: unknown; path: string; key: string; currency: string | null }[] = [
    { value: params, path: "", key: "", currency: null },
  ];
  while (stack.length > 0 && walked.strings.length < MAX_PARAM_STRINGS) {
    const { value, path, key, currency } = stack.pop()!;
    if (typeof value === "string") {
      const v = view(value, stats);
      walked.strings.push({ path, key, value: { raw: v.raw, norm: v.norm, buf: v.buf } });
      line(key, value, v.norm);
      const lowerKey = key.toLowerCase();
      if (AMOUNT_KEYS.has(lowerKey) || lowerKey.includes("amount")) {
        const parsed = parseAmount(value);
        if (parsed !== null) {
          walked.amounts.push({ value: parsed.value, currency: parsed.currency ?? currency, path });
        }
      }
    } else if (typeof value === "number") {
      const lowerKey = key.toLowerCase();
      if (AMOUNT_KEYS.has(lowerKey) || lowerKey.includes("amount")) {
        walked.amounts.push({ value, currency, path });
      }
      line(key, String(value), String(value));
    } else if (typeof value === "boolean") {
      line(key, String(value), String(value));
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i], path: `${path}[${i}]`, key, currency });
      }
    } else if (typeof value === "object" && value !== null) {
      const record = value as Record<string, unknown>;
      const cur = typeof record.currency === "string" ? record.currency.toUpperCase() : currency;
      const keys = Object.keys(record);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        stack.push({
          value: record[k],
          path: path === "" ? k : `${path}.${k}`,
          key: k,
          currency: cur,
        });
      }
    }
  }
  return walked;
}

function isBase64Code(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 43 ||
    code === 47 ||
    code === 45 ||
    code === 95
  );
}

function isHexCode(code: number): boolean {
  return (code >= 48 && code <= 57) || ((code | 0x20) >= 97 && (code | 0x20) <= 102);
}

/** Decoded bytes as text when they read as text (UTF-8 or UTF-16LE), else null. */
function bytesAsText(bytes: Buffer): string | null {
  if (bytes.length < 6) return null;
  let zeroOdd = 0;
  let control = 0;
  let high = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0 && i % 2 === 1) zeroOdd++;
    else if (b < 32 && b !== 9 && b !== 10 && b !== 13) control++;
    else if (b >= 0x80) high++;
  }
  let text: string;
  if (zeroOdd >= (bytes.length / 2) * 0.8) {
    text = bytes.toString("utf16le");
  } else {
    // Random bytes (a token, a hash) are mostly control and high bytes: reject them cheaply,
    // without a decoder exception per candidate.
    if (control + zeroOdd > bytes.length * 0.05 || high > bytes.length * 0.3) return null;
    text = high === 0 ? bytes.toString("latin1") : bytes.toString("utf8");
    if (high > 0 && text.includes("\ufffd")) return null;
  }
  let printable = 0;
  let letters = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13 || c >= 160) printable++;
    if ((c | 0x20) >= 97 && (c | 0x20) <= 122) letters++;
  }
  return printable >= text.length * 0.9 && letters >= 4 ? text : null;
}

/** Finds base64 and hex runs in `text` and returns those that decode to readable text. */
function decodeBlobs(
  text: string,
  out: string[],
  budget: { bytes: number; candidates: number },
): void {
  let i = 0;
  while (i < text.length && out.length < MAX_BLOBS && budget.bytes > 0 && budget.candidates > 0) {
    if (!isBase64Code(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && isBase64Code(text.charCodeAt(j))) j++;
    // Most runs are ordinary words: skip them before any slicing or classifying (on 64 KB of
    // prose this loop was a tenth of the request's CPU).
    if (j - i < MIN_RUN) {
      i = j;
      continue;
    }
    j = i;
    let allHex = true;
    let hasUpper = false;
    let hasLower = false;
    let hasDigit = false;
    while (j < text.length && isBase64Code(text.charCodeAt(j))) {
      const c = text.charCodeAt(j);
      if (!isHexCode(c)) allHex = false;
      if (c >= 65 && c <= 90) hasUpper = true;
      else if (c >= 97 && c <= 122) hasLower = true;
      else if (c >= 48 && c <= 57) hasDigit = true;
      j++;
    }
    let end = j;
    while (end < text.length && end - j < 2 && text.charCodeAt(end) === 61 /* = */) end++;
    const run = text.slice(i, j);
    let decoded: string | null = null;
    if (run.length >= MIN_HEX_RUN) budget.candidates--;
    if (allHex && run.length >= MIN_HEX_RUN && run.length % 2 === 0) {
      decoded = bytesAsText(Buffer.from(run, "hex"));
    } else if (run.length >= MIN_BASE64_RUN && (hasUpper || hasDigit) && (hasLower || hasDigit)) {
      const normalized = run.replaceAll("-", "+").replaceAll("_", "/");
      decoded = bytesAsText(Buffer.from(normalized, "base64"));
    }
    if (decoded !== null) {
      const clipped = decoded.slice(0, budget.bytes);
      budget.bytes -= clipped.length;
      out.push(clipped);
    }
    i = end;
  }
}

function authorityOf(rest: string): { host: string; port: string; after: string } {
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) {
      end = i;
      break;
    }
  }
  let authority = rest.slice(0, end);
  const at = authority.lastIndexOf("@");
  if (at >= 0) authority = authority.slice(at + 1);
  let host = authority;
  let port = "";
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    host = close > 0 ? authority.slice(1, close) : authority.slice(1);
    const colon = close > 0 ? authority.indexOf(":", close) : -1;
    if (colon > 0) port = authority.slice(colon + 1);
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon >= 0) {
      host = authority.slice(0, colon);
      port = authority.slice(colon + 1);
    }
  }
  let hostEnd = host.length;
  while (hostEnd > 0 && host.charCodeAt(hostEnd - 1) === 46 /* trailing dots */) hostEnd--;
  return { host: host.slice(0, hostEnd), port, after: rest.slice(end) };
}

/** Splits a URL without the WHATWG parser, so gopher:, dict: and odd hosts survive as written. */
export function parseUrl(text: string, field: UrlFact["field"]): UrlFact | null {
  const sep = text.indexOf(":");
  if (sep <= 0) return null;
  const scheme = text.slice(0, sep);
  let rest = text.slice(sep + 1);
  let host = "";
  let port = "";
  if (rest.startsWith("//")) {
    const authority = authorityOf(rest.slice(2));
    host = authority.host;
    port = authority.port;
    rest = authority.after;
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  const path = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : "";
  return { text, scheme, host, port, path, query, field };
}

/**
 * A target that is one URL is taken whole (quotes and all: an injected payload in its query
 * must not be cut off). `http:\\host` and `http:/host` are read the way browsers read them,
 * and an http action's bare `host/path` as `http://host/path`.
 */
function targetAsUrl(target: string, isHttp: boolean): UrlFact | null {
  const text = target.trim();
  if (text === "" || hasLineBreak(text)) return null;
  const colon = text.indexOf(":");
  const scheme = colon > 0 ? text.slice(0, colon) : "";
  // A target that starts with a scheme is one URL even with spaces in it (an injected query).
  if (scheme !== "" && isSchemeName(scheme)) {
    let rest = text.slice(colon + 1);
    if (SPECIAL_SCHEMES.has(scheme)) {
      let slashes = 0;
      while (slashes < rest.length && (rest[slashes] === "/" || rest[slashes] === "\\")) slashes++;
      // Special schemes read a backslash as a slash everywhere (WHATWG URL).
      const path = rest.slice(slashes).replaceAll("\\", "/");
      // file:/p and file:///p are paths on this host; file://h/p names host h.
      rest = scheme === "file" && slashes !== 2 ? `///${path}` : `//${path}`;
    } else if (!rest.startsWith("//") && isHttp) {
      // `localhost:8080/admin` is a host and port, not a scheme.
      return parseUrl(`http://${text}`, "target");
    }
    return parseUrl(`${scheme}:${rest}`, "target");
  }
  return isHttp && !hasWhitespace(text) ? parseUrl(`http://${text}`, "target") : null;
}

const SPECIAL_SCHEMES: ReadonlySet<string> = new Set(["http", "https", "ws", "wss", "ftp", "file"]);

function isSchemeName(text: string): boolean {
  if (text.length > 20 || !isAsciiLetterCode(text.charCodeAt(0))) return false;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isAsciiLetterCode(c) && !(c >= 48 && c <= 57) && c !== 43 && c !== 45 && c !== 46)
      return false;
  }
  return true;
}

function isAsciiLetterCode(code: number): boolean {
  return (code | 0x20) >= 97 && (code | 0x20) <= 122;
}

function hasLineBreak(text: string): boolean {
  return text.indexOf("\n") >= 0 || text.indexOf("\r") >= 0;
}

function hasWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) return true;
  }
  return false;
}

function collectUrls(norm: string, field: UrlFact["field"], out: UrlFact[]): void {
  if (norm.indexOf(":") < 0 || out.length >= MAX_URLS) return;
  URL_PATTERN.lastIndex = 0;
  for (let match = URL_PATTERN.exec(norm); match !== null; match = URL_PATTERN.exec(norm)) {
    const url = parseUrl(match[0], field);
    if (url !== null) out.push(url);
    if (out.length >= MAX_URLS) return;
  }
}

/** Builds the read-only Facts one request is judged on. */
export function buildFacts(
  request: ProtectRequest,
  actions: ActionTable,
  policy: PolicyView,
): Facts {
  const stats = emptyStats();
  const { name, kind } = classifyAction(request.action, actions);
  const action = view(request.action, stats);
  const target = view(request.target ?? "", stats);
  const content = view(request.content ?? "", stats);
  const walked = walkParams(request.params, stats);
  const paramsRaw = walked.raw.join("\n");
  const paramsText = plainView(paramsRaw, walked.norm.join("\n"));

  const blobs: string[] = [];
  const budget = { bytes: MAX_BLOB_BYTES, candidates: MAX_BLOB_CANDIDATES };
  decodeBlobs(target.decoded, blobs, budget);
  decodeBlobs(content.decoded, blobs, budget);
  for (const p of walked.strings) decodeBlobs(p.value.raw, blobs, budget);
  const decoded: TextView[] = blobs.map((blob) => {
    const v = view(blob, stats);
    return { raw: v.raw, norm: v.norm, buf: v.buf };
  });

  const urls: UrlFact[] = [];
  const whole = targetAsUrl(target.norm, kind === "http");
  if (whole !== null) urls.push(whole);
  else collectUrls(target.norm, "target", urls);
  collectUrls(content.norm, "content", urls);
  collectUrls(paramsText.norm, "params", urls);
  for (const d of decoded) collectUrls(d.norm, "decoded", urls);

  const allRaw = [target.raw, content.raw, paramsText.raw, ...decoded.map((d) => d.raw)]
    .filter((s) => s !== "")
    .join("\n");
  const allNorm = [target.norm, content.norm, paramsText.norm, ...decoded.map((d) => d.norm)]
    .filter((s) => s !== "")
    .join("\n");

  const declared = request.context?.source;
  return Object.freeze({
    action: { raw: action.raw, norm: action.norm, buf: action.buf },
    actionName: name,
    kind,
    target: { raw: target.raw, norm: target.norm, buf: target.buf },
    content: { raw: content.raw, norm: content.norm, buf: content.buf },
    params: request.params,
    paramStrings: walked.strings,
    paramsText,
    decoded,
    all: plainView(allRaw, allNorm),
    urls,
    amounts: walked.amounts,
    source: declared ?? inferSource(kind, content.raw !== "", methodOf(request.params)),
    sourceDeclared: declared !== undefined,
    obfuscation: { ...stats, decodedBlobs: decoded.length },
    size: request.action.length + target.raw.length + content.raw.length + paramsRaw.length,
    policy,
  });
}
