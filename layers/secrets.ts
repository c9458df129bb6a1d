import { crc32 } from "node:zlib";
import RE2 from "re2";
import { z } from "zod";
import { compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import type { ActionKind, Facts, Finding, Layer, Severity } from "./types.js";

/** An RE2 pattern in a data file: checked at start-up so a bad file names its rule. */
export const Re2PatternSchema = z.string().refine(
  (pattern) => {
    try {
      new RE2(pattern, "u");
      return true;
    } catch {
      return false;
    }
  },
  { message: "is not a valid RE2 pattern" },
);

const StrengthSchema = z.enum(["strong", "medium", "weak"]);
export type Strength = z.infer<typeof StrengthSchema>;

const DetectorSchema = z.strictObject({
  id: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
  label: z.string().min(1),
  /** Matched against the text as sent: key formats are case-sensitive. */
  pattern: Re2PatternSchema,
  /** Lower-case variant for text that had to be de-obfuscated (the normalised view is lower case). */
  normPattern: Re2PatternSchema.optional(),
  group: z.number().int().min(0),
  userGroup: z.number().int().min(1).optional(),
  hostGroup: z.number().int().min(1).optional(),
  keywordGroup: z.number().int().min(1).optional(),
  /** The words between a key word and its value (`password for the staging db: …`). */
  gapGroup: z.number().int().min(1).optional(),
  strength: StrengthSchema,
  minEntropy: z.number().min(0),
  /** Entropy is measured on the last N characters (webhook URLs carry their secret at the end). */
  tailEntropy: z.number().int().positive().optional(),
  check: z
    .enum([
      "crc32_base62_tail",
      "gateway_checksum",
      "jwt",
      "discord_id",
      "mixed_case",
      "connection",
      "generic_token",
      "generic_password",
      "keyword",
      "prose_password",
      "basic_auth",
      "base64_text",
    ])
    .optional(),
  /** The detector applies only to a text this also matches (a Secret manifest, a key file). */
  context: Re2PatternSchema.optional(),
  /**
   * The detector does not apply to a text this matches: keys that are public by design where
   * they appear (a Firebase web config's `apiKey` ships in every page).
   */
  exemptContext: Re2PatternSchema.optional(),
  /** The match sits where credentials are presented (a header, -u user:pass): use, not payload. */
  authContext: z.boolean().optional(),
  /** Key material (DER in base64) legitimately has long runs such as AAAA. */
  allowRepeats: z.boolean().optional(),
  /**
   * In a link's query string this is most likely a link token (a sign-in or invitation link
   * meant for its recipient): it counts as weak there.
   */
  linkToken: z.boolean().optional(),
  providers: z.array(z.string()),
});
export type Detector = z.infer<typeof DetectorSchema>;

const SinkSchema = z.enum(["public", "external", "model", "note", "local", "store", "incoming"]);
/** Where the text of a request ends up. */
export type Sink = z.infer<typeof SinkSchema>;

/** How to tell where a request's text goes (shared by the secrets, pii and exfiltration layers). */
export const SinkDataSchema = z.strictObject({
  $comment: z.string().optional(),
  outboundActionTokens: z.array(z.string()),
  noteActionTokens: z.array(z.string()),
  /** Tools (not messages) whose name says they write into an internal system: tickets, wikis. */
  internalToolTokens: z.array(z.string()).default([]),
  /** Tools whose name says they publish for anyone to read (gists, pastes). */
  publicActionTokens: z.array(z.string()).default([]),
  /** Unknown tools whose name says they call a language model. */
  modelActionTokens: z.array(z.string()).default([]),
  /** Unknown tools whose name says they write into a secret manager (`vault_kv_put`). */
  storeActionTokens: z.array(z.string()).default([]),
  /** Verbs that take an item out of a secret manager (`share`, `export`): the store is the source. */
  storeOutTokens: z.array(z.string()).default([]),
  publicTargetPattern: Re2PatternSchema,
  /** A destination (target, recipient) that names an outside party: vendor, partner, contractor. */
  externalTargetPattern: Re2PatternSchema.optional(),
  /** Host names that stay inside (`.internal`, `.corp`, private addresses, single labels). */
  internalHostPattern: Re2PatternSchema.optional(),
  /** Params whose value is where the request goes (`url`, `endpoint`, `webhook_url`). */
  destinationParamKeys: z.array(z.string()).default([]),
  /** Params naming who receives or sees the payload (`cc`, `assignee`, `share_with`). */
  partyParamKeys: z.array(z.string()).default([]),
  /** Params whose name alone says the payload goes to an outside party (`vendor: Acme`). */
  outsidePartyParamKeys: z.array(z.string()).default([]),
  /** Unknown tools whose name says they deal with an outside party (`create_vendor_ticket`). */
  externalActionTokens: z.array(z.string()).default([]),
  /** Hosts that by their name serve a public community (`community.`, `forum.`, `discuss.`). */
  publicHostPattern: Re2PatternSchema.optional(),
  /** Free-mail providers: an address there belongs to a person outside the organisation. */
  freemailDomains: z.array(z.string()).default([]),
  /** Last labels that make `name.ext` a file name rather than a host (`report.csv`). */
  fileExtensions: z.array(z.string()).default([]),
  /**
   * Access flags among the params, each tried on one `key: value` pair (lower case): the payload
   * is made public (`public: true`, `acl: public-read`), shared outside (`visibility: external`)
   * or kept inside (`visibility: internal`).
   */
  publicFlagPattern: Re2PatternSchema.optional(),
  externalFlagPattern: Re2PatternSchema.optional(),
  internalFlagPattern: Re2PatternSchema.optional(),
  publicHosts: z.array(z.string()),
  publicPathPattern: Re2PatternSchema,
  secretStorePathPattern: Re2PatternSchema,
  /** Secret managers reached over HTTP: a secret sent there is being stored, as intended. */
  secretStoreHostPattern: Re2PatternSchema.optional(),
  /** An internal secret store, tried on `host/path` of an inside-only call (`vault.corp/v1/…`). */
  secretStoreInternalPattern: Re2PatternSchema.optional(),
  notePathPattern: Re2PatternSchema,
  bodyMethods: z.array(z.string()),
  bodyParamKeys: z.array(z.string()),
  authParamKeys: z.array(z.string()),
});
export type SinkData = z.infer<typeof SinkDataSchema>;

const ActionSchema = z.tuple([z.enum(["BLOCK", "WARN"]), z.number().min(0).max(1)]).nullable();
const RowSchema = z.strictObject({
  strong: ActionSchema,
  medium: ActionSchema,
  weak: ActionSchema,
});

export const SecretsDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  maxMatchesPerDetector: z.number().int().positive(),
  detectors: z.array(DetectorSchema).min(1),
  placeholders: z.strictObject({
    $comment: z.string().optional(),
    markers: z.array(z.string()),
    genericMarkers: z.array(z.string()),
    maxRepeatRun: z.number().int().min(2),
    trivialPasswords: z.array(z.string()),
    localHosts: z.array(z.string()),
    /** Claims of documentation tokens (jwt.io's "John Doe"): a JWT carrying one is an example. */
    exampleClaims: z.array(z.string()).default([]),
  }),
  generic: z.strictObject({
    $comment: z.string().optional(),
    passwordKeywords: z.array(z.string()),
    passwordMinLength: z.number().int().positive(),
    passwordMinClasses: z.number().int().min(1).max(4),
    tokenMinLength: z.number().int().positive(),
    tokenMinEntropy: z.number(),
    strongTokenMinLength: z.number().int().positive(),
    strongTokenMinEntropy: z.number(),
    keywordNoise: z.array(z.string()),
    /** Key words that in a link's query string name a link token, not a credential. */
    linkKeywords: z.array(z.string()),
    /**
     * A named password this long, with this many character classes and this entropy, reads as a
     * real one: sent outside it counts as a medium match (kept local it stays weak).
     */
    realPasswordMinLength: z.number().int().positive().default(10),
    realPasswordMinClasses: z.number().int().min(1).max(4).default(3),
    realPasswordMinEntropy: z.number().default(3),
    /**
     * Words between "password" and a value in prose that say the value is something else (a
     * policy, a hint, a user name, where the password is kept).
     */
    proseGapNoisePattern: Re2PatternSchema.optional(),
    /** Words just before "password" that make it a shared one or an example (`guest wifi`). */
    prosePrefixNoisePattern: Re2PatternSchema.optional(),
  }),
  authContextPattern: Re2PatternSchema,
  /**
   * Tried on the text just before a key-word match: `WHERE token = '…'` looks a value up, it
   * does not hard-code it.
   */
  comparisonContextPattern: Re2PatternSchema.optional(),
  /** Distinct credentials in one payload that make a weak match count as a medium one (a dump). */
  bundleMinHits: z.number().int().min(2).default(2),
  sinks: SinkDataSchema,
  severities: z.strictObject({
    $comment: z.string().optional(),
    public: RowSchema,
    external: RowSchema,
    model: RowSchema,
    note: RowSchema,
    local: RowSchema,
    store: RowSchema,
    incoming: RowSchema,
    unrelatedHost: RowSchema,
    /**
     * A credential with a known issuer presented to an outside host that is not that issuer (a
     * GitHub token in a header to an analytics endpoint): forwarded, not used.
     */
    foreignHost: RowSchema.optional(),
  }),
});
export type SecretsData = z.infer<typeof SecretsDataSchema>;

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported: the exfiltration layer reuses them).

const ENTROPY_COUNTS = new Uint16Array(256);
const ENTROPY_SEEN: number[] = [];

/** Shannon entropy in bits per character of the first 512 characters. */
export function shannonEntropy(text: string): number {
  const n = Math.min(text.length, 512);
  if (n === 0) return 0;
  ENTROPY_SEEN.length = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i) & 0xff;
    const prev = ENTROPY_COUNTS[c]!;
    ENTROPY_COUNTS[c] = prev + 1;
    if (prev === 0) ENTROPY_SEEN.push(c);
  }
  let h = 0;
  for (const c of ENTROPY_SEEN) {
    const p = ENTROPY_COUNTS[c]! / n;
    h -= p * Math.log2(p);
    ENTROPY_COUNTS[c] = 0;
  }
  return h;
}

/** How many of lower case, upper case, digits and symbols a string uses (0–4). */
export function charClasses(text: string): number {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
    else other = 1;
  }
  return lower + upper + digit + other;
}

/** Longest run of one repeated character. */
export function longestRun(text: string): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    run = i > 0 && text.charCodeAt(i) === text.charCodeAt(i - 1) ? run + 1 : 1;
    if (run > best) best = run;
  }
  return best;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Big-endian base62 of a 32-bit value, left-padded to `width` digits. */
export function base62Of(value: number, width: number): string {
  let rest = value >>> 0;
  let out = "";
  while (rest > 0) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, "0");
}

/**
 * GitHub and npm tokens end in six base62 digits of the CRC32 of the 30 random characters
 * between the prefix and the checksum; a match is a real token shape, not a typo or a made-up one.
 */
export function hasGithubChecksum(token: string): boolean {
  const underscore = token.indexOf("_");
  const body = token.slice(underscore + 1);
  if (body.length < 7) return false;
  const random = body.slice(0, -6);
  return base62Of(crc32(random), 6) === body.slice(-6);
}

/** This gateway's `ak_` keys: CRC32 of prefix and body, six base62 digits (src/crypto/api-key.ts). */
export function hasGatewayChecksum(key: string): boolean {
  if (key.length !== 52) return false;
  return base62Of(crc32(key.slice(0, 46)), 6) === key.slice(46);
}

/** A JWT's first part must decode to a JSON header naming its algorithm. */
export function isJwtShape(token: string): boolean {
  const dot = token.indexOf(".");
  if (dot <= 0 || dot > 800) return false;
  const header = Buffer.from(token.slice(0, dot), "base64url").toString("latin1");
  return header.startsWith("{") && header.includes('"alg"');
}

/** A Discord bot token starts with the bot's numeric snowflake id in base64. */
function isDiscordShape(token: string): boolean {
  const dot = token.indexOf(".");
  if (dot <= 0) return false;
  const id = Buffer.from(token.slice(0, dot), "base64").toString("latin1");
  if (id.length < 17 || id.length > 20) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Base64 that decodes to printable text (a Kubernetes Secret's data field holds the value so). */
function isBase64Text(value: string): boolean {
  let bare = value.length;
  while (bare > 0 && value.charCodeAt(bare - 1) === 61 /* = */) bare--;
  // A base64 body never leaves a single character over.
  if (bare < 8 || bare % 4 === 1) return false;
  const text = Buffer.from(value, "base64").toString("latin1");
  if (text.length < 6) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 || c > 126) && c !== 10 && c !== 13 && c !== 9) return false;
  }
  return true;
}

/** The claims of a JWT, decoded (lower case, first 600 characters). */
function jwtClaims(token: string): string {
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  if (first < 0 || second < 0) return "";
  return Buffer.from(token.slice(first + 1, Math.min(second, first + 801)), "base64url")
    .toString("latin1")
    .toLowerCase();
}

/** Base64 of `user:password` (Docker's and HTTP Basic's encoding), with a real password part. */
function isBasicAuthShape(value: string): boolean {
  const text = Buffer.from(value, "base64").toString("latin1");
  const colon = text.indexOf(":");
  if (colon <= 0 || text.length - colon - 1 < 4) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c > 126) return false;
  }
  return true;
}

/** The domain of the first e-mail address in `lower` (lower-cased text) that is in `domains`, or null. */
export function mailDomainIn(lower: string, domains: readonly string[]): string | null {
  let at = lower.indexOf("@");
  // Bounded: a value full of "@" costs at most 16 short scans.
  for (let n = 0; at >= 0 && n < 16; n++) {
    let end = at + 1;
    while (end < lower.length) {
      const c = lower.charCodeAt(end);
      if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46)) break;
      end++;
    }
    const domain = lower.slice(at + 1, end);
    if (hostMatches(domain, domains)) return domain;
    at = lower.indexOf("@", end);
  }
  return null;
}

/** True when `host` is one of `domains` or a subdomain of one. */
export function hostMatches(host: string, domains: readonly string[]): boolean {
  for (const d of domains) {
    if (
      host === d ||
      (host.length > d.length && host.endsWith(d) && host[host.length - d.length - 1] === ".")
    )
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The scanner.

/** Which part of the request a match came from. */
export type HitField = "target" | "content" | "params" | "decoded" | "norm";

/** One credential found in a text. `value` is the secret itself: never put it in evidence unmasked. */
export type SecretHit = Readonly<{
  id: string;
  label: string;
  strength: Strength;
  verified: boolean;
  value: string;
  field: HitField;
  /** Offset of the match in the scanned text. */
  index: number;
  /** Presented as a credential (header, -u, key-named param) rather than as payload. */
  auth: boolean;
  /** A value named a password that looks like a real one (long, mixed classes). */
  password?: boolean;
  providers: readonly string[];
}>;

type CompiledDetector = Readonly<{
  spec: Detector;
  re: RE2;
  normRe: RE2 | null;
  context: RE2 | null;
  exempt: RE2 | null;
}>;

export type SecretScanner = Readonly<{
  /** Every credential in one text, most specific formats first, overlapping matches dropped. */
  scanText(text: string, field: HitField, out?: SecretHit[]): SecretHit[];
  /** Credentials anywhere in the request (memoised for the last request). */
  scanFacts(facts: Facts): readonly SecretHit[];
}>;

const DOWNGRADE: Readonly<Record<Strength, Strength>> = {
  strong: "medium",
  medium: "weak",
  weak: "weak",
};

function disguised(facts: Facts): boolean {
  const o = facts.obfuscation;
  return (
    o.zeroWidth + o.bidiControls + o.confusables + o.escapes + o.htmlEntities + o.nfkcChanges > 0 ||
    o.percentRounds > 0 ||
    o.overlongUtf8 > 0
  );
}

/** Builds the credential scanner from data/secrets.json (validated). */
export function createSecretScanner(data: SecretsData): SecretScanner {
  const detectors: CompiledDetector[] = data.detectors.map((spec) => ({
    spec,
    re: new RE2(spec.pattern, "gu"),
    normRe: spec.normPattern === undefined ? null : new RE2(spec.normPattern, "gu"),
    context: spec.context === undefined ? null : new RE2(spec.context, "u"),
    exempt: spec.exemptContext === undefined ? null : new RE2(spec.exemptContext, "u"),
  }));
  const rawSet = new RE2.Set(
    detectors.map((d) => d.spec.pattern),
    "u",
  );
  // The gate runs on the normalised UTF-8 buffer the facts already hold (no re-encoding, the
  // common path): case-insensitive versions of every pattern, a superset of the raw matches.
  const gateSet = new RE2.Set(
    detectors.map((d) => `(?i)${d.spec.pattern}`),
    "u",
  );
  const normDetectors = detectors.filter((d) => d.normRe !== null);
  const normSet = new RE2.Set(
    normDetectors.map((d) => d.spec.normPattern!),
    "u",
  );
  const authContext = new RE2(data.authContextPattern, "u");
  const markers = data.placeholders.markers.map((m) => m.toLowerCase());
  const genericMarkers = data.placeholders.genericMarkers.map((m) => m.toLowerCase());
  const trivial = new Set(data.placeholders.trivialPasswords);
  const localHosts = data.placeholders.localHosts;
  const g = data.generic;
  const passwordWords = g.passwordKeywords;
  const noise = g.keywordNoise;
  const maxMatches = data.maxMatchesPerDetector;
  // One-entry memo: the secrets and exfiltration layers ask about the same request in turn.
  // (A WeakMap keyed per request costs more in GC than the scan it saves.)
  let memoFacts: Facts | null = null;
  let memoHits: readonly SecretHit[] = [];

  const hasMarker = (lower: string, list: readonly string[]): boolean => {
    for (const m of list) if (lower.includes(m)) return true;
    return false;
  };

  /** A value that reads as documentation: placeholders, templates, masks, sequences. */
  const isPlaceholder = (value: string, spec: Detector): boolean => {
    const lower = value.toLowerCase();
    if (hasMarker(lower, markers)) return true;
    if (spec.allowRepeats !== true && longestRun(value) >= data.placeholders.maxRepeatRun)
      return true;
    return false;
  };

  /** Validates one match; returns its strength or null when it is not a credential. */
  const comparison =
    data.comparisonContextPattern === undefined
      ? null
      : new RE2(data.comparisonContextPattern, "u");
  const exampleClaims = data.placeholders.exampleClaims.map((m) => m.toLowerCase());
  const gapNoise =
    g.proseGapNoisePattern === undefined ? null : new RE2(g.proseGapNoisePattern, "u");
  const prefixNoise =
    g.prosePrefixNoisePattern === undefined ? null : new RE2(g.prosePrefixNoisePattern, "u");
  /** True when the key word at `index` is compared with the value (a query's WHERE clause). */
  const compared = (text: string, index: number): boolean =>
    comparison !== null && index > 0 && comparison.test(text.slice(Math.max(0, index - 40), index));

  const judge = (
    spec: Detector,
    value: string,
    match: RegExpExecArray,
    text: string,
  ):
    | { strength: Strength; verified: boolean; linkable: boolean; password: boolean }
    | typeof PLACEHOLDER
    | null => {
    if (isPlaceholder(value, spec)) return PLACEHOLDER;
    const measured = spec.tailEntropy === undefined ? value : value.slice(-spec.tailEntropy);
    if (shannonEntropy(measured) < spec.minEntropy) return null;
    let strength = spec.strength;
    let verified = false;
    let linkable = spec.linkToken === true;
    let realPassword = false;
    switch (spec.check) {
      case "crc32_base62_tail":
        verified = hasGithubChecksum(value);
        if (!verified) strength = DOWNGRADE[strength];
        break;
      case "gateway_checksum":
        verified = hasGatewayChecksum(value);
        if (!verified) strength = "weak";
        break;
      case "jwt":
        if (!isJwtShape(value)) return null;
        if (hasMarker(jwtClaims(value), exampleClaims)) return null;
        break;
      case "base64_text": {
        if (!isBase64Text(value)) return null;
        // The value is what the manifest hides: `changeme` in base64 is still a placeholder.
        const plain = Buffer.from(value, "base64").toString("latin1").trim().toLowerCase();
        if (trivial.has(plain) || hasMarker(plain, markers)) return PLACEHOLDER;
        break;
      }
      case "discord_id":
        if (!isDiscordShape(value)) return null;
        break;
      case "basic_auth":
        if (!isBasicAuthShape(value)) return null;
        break;
      case "mixed_case":
        if (charClasses(value) < 3) return null;
        break;
      case "connection": {
        const lower = value.toLowerCase();
        if (trivial.has(lower) || hasMarker(lower, genericMarkers)) return null;
        const first = value.charCodeAt(0);
        if (first === 36 /* $ */ || first === 37 /* % */ || first === 123 /* { */ || first === 58)
          return null;
        const user = spec.userGroup === undefined ? undefined : match[spec.userGroup];
        if (user !== undefined && user === value) return null;
        const host = spec.hostGroup === undefined ? undefined : match[spec.hostGroup];
        if (host !== undefined && hostMatches(host.toLowerCase(), localHosts)) strength = "weak";
        break;
      }
      case "generic_token": {
        if (value.length < g.tokenMinLength || charClasses(value) < 2) return null;
        if (hasMarker(value.toLowerCase(), genericMarkers)) return null;
        if (shannonEntropy(value) < g.tokenMinEntropy) return null;
        break;
      }
      case "generic_password": {
        if (value.length < g.passwordMinLength || charClasses(value) < 2) return null;
        if (compared(text, match.index)) return null;
        if (hasMarker(value.toLowerCase(), genericMarkers)) return null;
        if (value.startsWith("$") || value.startsWith("%")) return null;
        strength =
          value.length >= g.tokenMinLength && shannonEntropy(value) >= g.tokenMinEntropy
            ? "medium"
            : "weak";
        break;
      }
      case "keyword": {
        const keyword = (spec.keywordGroup === undefined ? "" : (match[spec.keywordGroup] ?? ""))
          .toLowerCase()
          .replaceAll("-", "_");
        for (const n of noise) if (keyword.endsWith(n)) return null;
        if (compared(text, match.index)) return null;
        const lower = value.toLowerCase();
        if (hasMarker(lower, genericMarkers)) return null;
        // Paths, URLs, references and identifiers name where a secret lives, not the secret.
        const first = value.charCodeAt(0);
        if (first === 36 || first === 37 || first === 47 || first === 126 || first === 46)
          return null;
        if (lower.includes("://") || lower.startsWith("env.") || lower.startsWith("secrets."))
          return null;
        const classes = charClasses(value);
        const h = shannonEntropy(value);
        let password = false;
        for (const w of passwordWords) if (keyword.includes(w)) password = true;
        linkable &&= !password && !keyword.includes("secret") && !keyword.includes("key");
        if (linkable) linkable = g.linkKeywords.some((w) => keyword.includes(w));
        if (password) {
          if (value.length < g.passwordMinLength) return null;
          if (classes < g.passwordMinClasses && !(classes >= 2 && value.length >= 12)) return null;
          strength = value.length >= g.tokenMinLength && h >= g.tokenMinEntropy ? "medium" : "weak";
          realPassword =
            value.length >= g.realPasswordMinLength &&
            classes >= g.realPasswordMinClasses &&
            h >= g.realPasswordMinEntropy;
        } else {
          if (value.length < g.tokenMinLength || classes < 2 || h < g.tokenMinEntropy) return null;
          strength = "medium";
        }
        break;
      }
      case "prose_password": {
        // A password told in a sentence ("the db password until Friday: …"): only a value that
        // reads as a real password counts, and only if the words around it do not say otherwise.
        const gap = spec.gapGroup === undefined ? "" : (match[spec.gapGroup] ?? "");
        if (gapNoise !== null && gap !== "" && gapNoise.test(gap)) return null;
        // The words just before the key word count too ("the guest wifi password is …").
        if (prefixNoise !== null) {
          const before = text.slice(Math.max(0, match.index - 24), match.index + 1);
          if (before !== "" && prefixNoise.test(before)) return null;
        }
        if (value.length < g.passwordMinLength || charClasses(value) < g.passwordMinClasses)
          return null;
        const lower = value.toLowerCase();
        if (trivial.has(lower) || hasMarker(lower, genericMarkers)) return null;
        const first = value.charCodeAt(0);
        if (first === 36 || first === 37 || first === 47 || first === 126 || first === 46)
          return null;
        // An address or a link is where to log in, not the password.
        if (lower.includes("://") || (lower.includes("@") && lower.includes("."))) return null;
        const h = shannonEntropy(value);
        if (h < g.realPasswordMinEntropy) return null;
        realPassword = value.length >= g.realPasswordMinLength;
        strength = realPassword ? "medium" : "weak";
        break;
      }
      default:
        break;
    }
    return { strength, verified, linkable, password: realPassword };
  };

  const lineKey = (text: string, index: number): string => {
    const start = text.lastIndexOf("\n", index) + 1;
    const colon = text.indexOf(": ", start);
    return colon < 0 || colon > index ? "" : text.slice(start, colon).toLowerCase();
  };
  const authKeys = new Set(data.sinks.authParamKeys.map((k) => k.toLowerCase()));
  const authSpecs = new Set(data.detectors.filter((d) => d.authContext === true).map((d) => d.id));
  const bodySegments = new Set(data.sinks.bodyParamKeys.map((k) => k.toLowerCase()));
  /**
   * A `token:` or `key:` inside the body of a request (`json.token`, `data.key`) is payload being
   * sent, not a credential presented to the host: only headers and top-level args present one.
   */
  const inBody = (facts: Facts, value: string): boolean => {
    for (const p of facts.paramStrings) {
      if (!p.value.raw.includes(value)) continue;
      let start = 0;
      const path = p.path;
      for (let i = 0; i <= path.length; i++) {
        const c = i === path.length ? 46 : path.charCodeAt(i);
        if (c === 46 /* . */ || c === 91 /* [ */) {
          if (i > start && bodySegments.has(path.slice(start, i).toLowerCase())) return true;
          start = i + 1;
        } else if (c === 93 /* ] */) start = i + 1;
      }
      return false;
    }
    return false;
  };

  const isAuth = (spec: Detector, text: string, index: number, field: HitField): boolean => {
    if (spec.authContext === true) return true;
    // A key-word credential in the URL being called (`?api_key=…`) is presented to that host:
    // with no known issuer, the host in the URL is the best guess.
    if (field === "target" && (spec.check === "keyword" || spec.check === "generic_token"))
      return true;
    if (field === "params" && authKeys.has(lineKey(text, index))) return true;
    const before = text.slice(Math.max(0, index - 48), index);
    return before !== "" && authContext.test(before);
  };

  const runDetector = (
    d: CompiledDetector,
    re: RE2,
    text: string,
    field: HitField,
    spans: number[],
    out: SecretHit[],
  ): void => {
    if (d.context !== null && !d.context.test(text)) return;
    // Matches in an exempt text are public by design: reserve their spans so that the key-word
    // rules do not report them either.
    const exempt = d.exempt?.test(text) === true;
    re.lastIndex = 0;
    for (let n = 0; n < maxMatches; n++) {
      const match = re.exec(text);
      if (match === null) break;
      const value = match[d.spec.group];
      if (value === undefined || value === "") continue;
      const index = match.index + match[0].indexOf(value);
      const end = index + value.length;
      let overlaps = false;
      for (let i = 0; i < spans.length; i += 2) {
        if (index < spans[i + 1]! && end > spans[i]!) overlaps = true;
      }
      if (overlaps) continue;
      const verdict = exempt ? PLACEHOLDER : judge(d.spec, value, match, text);
      if (verdict === null) continue;
      if (verdict === PLACEHOLDER) {
        // A value a specific format already knows as a placeholder is not judged again by the
        // key-word rules after it (`password: <base64 of changeme>` in a Secret template).
        spans.push(index, end);
        continue;
      }
      if (verdict.linkable && inUrlQuery(text, index)) verdict.strength = "weak";
      spans.push(index, end);
      out.push({
        id: d.spec.id,
        label: d.spec.label,
        strength: verdict.strength,
        verified: verdict.verified,
        value,
        field,
        index,
        auth: isAuth(d.spec, text, index, field),
        providers: d.spec.providers,
        password: verdict.password,
      });
    }
  };

  const scanText = (text: string, field: HitField, out: SecretHit[] = []): SecretHit[] => {
    if (text.length < 8 || !rawSet.test(text)) return out;
    const spans: number[] = [];
    // Set indexes come back sorted; data order puts specific formats before key-word rules.
    for (const i of rawSet.match(text))
      runDetector(detectors[i]!, detectors[i]!.re, text, field, spans, out);
    return out;
  };

  const scanNorm = (norm: string, buf: Buffer, out: SecretHit[]): void => {
    if (norm.length < 8 || !normSet.test(buf)) return;
    const known = new Set(out.map((h) => h.value.toLowerCase()));
    const found: SecretHit[] = [];
    const spans: number[] = [];
    for (const i of normSet.match(norm)) {
      const d = normDetectors[i]!;
      runDetector(d, d.normRe!, norm, "norm", spans, found);
    }
    for (const h of found) if (!known.has(h.value)) out.push({ ...h, verified: false });
  };

  return {
    scanText,
    scanFacts(facts) {
      if (memoFacts === facts) return memoHits;
      const out: SecretHit[] = [];
      if (facts.all.raw.length >= 8 && gateSet.test(facts.all.buf)) {
        scanText(facts.target.raw, "target", out);
        scanText(facts.content.raw, "content", out);
        const from = out.length;
        scanText(facts.paramsText.raw, "params", out);
        for (let i = from; i < out.length; i++) {
          const hit = out[i]!;
          if (hit.auth && !authSpecs.has(hit.id) && inBody(facts, hit.value))
            out[i] = { ...hit, auth: false };
        }
        for (const d of facts.decoded) scanText(d.raw, "decoded", out);
      }
      if (disguised(facts)) scanNorm(facts.all.norm, facts.all.buf, out);
      const result = out.length === 0 ? NO_HITS : out;
      memoFacts = facts;
      memoHits = result;
      return result;
    },
  };
}

const NO_HITS: readonly SecretHit[] = Object.freeze([]);
/** What `judge` says of a documentation value: not a secret, and not to be judged again. */
const PLACEHOLDER = "placeholder" as const;

/** True when `index` falls in the query string of a URL (`https://…?…=here`). */
export function inUrlQuery(text: string, index: number): boolean {
  let question = -1;
  for (let i = index - 1; i >= 0 && index - i < 2048; i--) {
    const c = text.charCodeAt(i);
    // Whitespace, quotes and angle brackets end a URL.
    if (c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 96) return false;
    if (c === 63 /* ? */ && question < 0) question = i;
    if (c === 47 && text.charCodeAt(i - 1) === 47 && text.charCodeAt(i - 2) === 58)
      return question > i;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Where the text goes.

/** Where a request's payload goes, and what else the judgement needs. */
export type SinkInfo = Readonly<{
  sink: Sink;
  kind: ActionKind;
  /** The target is a destination (recipient, file path), not payload: do not scan it. */
  skipTarget: boolean;
  /** The content is what came back (an HTTP response), not what is sent. */
  contentIncoming: boolean;
  /** Hosts the request is sent to (HTTP target; every URL for shell and code). */
  hosts: readonly string[];
  /** The action carries a body out (POST/PUT, upload verbs). */
  sendsBody: boolean;
  /** An HTTP call whose every host is inside (`.internal`, private addresses, single labels). */
  insideOnly: boolean;
  /**
   * The sink was inferred from a destination host alone (an unknown tool given an outside URL),
   * not from the tool's name, its access flags or its recipients: less certain.
   */
  inferred?: boolean;
}>;

export type SinkClassifier = (facts: Facts) => SinkInfo;

/** What the params say about who may read the payload. */
type Access = "public" | "external" | "internal" | null;

const ACCESS_RANK: Readonly<Record<NonNullable<Access>, number>> = {
  internal: 1,
  external: 2,
  public: 3,
};

/** Bounds on the params walk: flags and destinations sit near the top of a tool call. */
const MAX_PARAM_NODES = 96;
const MAX_PARAM_DEPTH = 4;
const MAX_FLAG_VALUE = 64;
const MAX_REMEMBERED_HOSTS = 512;

const SHARED_CLASSIFIERS = new WeakMap<object, SinkClassifier>();

/**
 * One classifier per data file, shared by the layers built from it: the secrets and pii layers
 * ask about the same request in turn, and the second answer comes from the first one's memo.
 */
export function sharedSinkClassifier(input: unknown, data: SinkData): SinkClassifier {
  if (input === null || typeof input !== "object") return createSinkClassifier(data);
  let classifier = SHARED_CLASSIFIERS.get(input);
  if (classifier === undefined) {
    classifier = createSinkClassifier(data);
    SHARED_CLASSIFIERS.set(input, classifier);
  }
  return classifier;
}

/** Builds the function that says where a request's text goes (memoised for the last request). */
export function createSinkClassifier(data: SinkData): SinkClassifier {
  const outbound = new Set(data.outboundActionTokens);
  const notes = new Set(data.noteActionTokens);
  const internalTools = new Set([...data.noteActionTokens, ...data.internalToolTokens]);
  const publicTools = new Set(data.publicActionTokens);
  const modelTools = new Set(data.modelActionTokens);
  const storeTools = new Set(data.storeActionTokens);
  const storeOut = new Set(data.storeOutTokens);
  const destinationKeys = new Set(data.destinationParamKeys.map((k) => k.toLowerCase()));
  const publicTarget = new RE2(data.publicTargetPattern, "u");
  const externalTarget =
    data.externalTargetPattern === undefined ? null : new RE2(data.externalTargetPattern, "u");
  const internalHost =
    data.internalHostPattern === undefined ? null : new RE2(data.internalHostPattern, "u");
  const flagAccess: NonNullable<Access>[] = [];
  const flagPatterns: string[] = [];
  for (const [pattern, access] of [
    [data.publicFlagPattern, "public"],
    [data.externalFlagPattern, "external"],
    [data.internalFlagPattern, "internal"],
  ] as const) {
    if (pattern === undefined) continue;
    flagPatterns.push(pattern);
    flagAccess.push(access);
  }
  // All `key: value` pairs of a request are tried in one pass, one pair a line; most requests
  // have no flag, and one plain RE2 answers that for a fraction of what a set costs.
  const flags =
    flagPatterns.length === 0
      ? null
      : new RE2.Set(
          flagPatterns.map((p) => `(?m)${p}`),
          "u",
        );
  const anyFlag =
    flagPatterns.length === 0 ? null : new RE2(flagPatterns.map((p) => `(?m:${p})`).join("|"), "u");
  const publicPath = new RE2(data.publicPathPattern, "u");
  const storePath = new RE2(data.secretStorePathPattern, "u");
  const notePath = new RE2(data.notePathPattern, "u");
  const storeHost =
    data.secretStoreHostPattern === undefined ? null : new RE2(data.secretStoreHostPattern, "u");
  const storeInternal =
    data.secretStoreInternalPattern === undefined
      ? null
      : new RE2(data.secretStoreInternalPattern, "u");
  const bodyMethods = new Set(data.bodyMethods);
  const bodyKeys = new Set(data.bodyParamKeys);
  let memoFacts: Facts | null = null;
  let memoInfo: SinkInfo | null = null;

  /** True when one of the `_`-separated tokens of the action name is in `set` (no allocation). */
  const hasToken = (name: string, set: ReadonlySet<string>): boolean => {
    let start = 0;
    for (let i = 0; i <= name.length; i++) {
      if (i === name.length || name.charCodeAt(i) === 95 /* _ */) {
        if (i > start && set.has(name.slice(start, i))) return true;
        start = i + 1;
      }
    }
    return false;
  };
  const hostsOf = (facts: Facts, targetOnly: boolean): string[] => {
    const hosts: string[] = [];
    for (const u of facts.urls) {
      if (u.host !== "" && (!targetOnly || u.field === "target")) hosts.push(u.host);
    }
    return hosts;
  };
  const publicHost =
    data.publicHostPattern === undefined ? null : new RE2(data.publicHostPattern, "u");
  // What a host is (public, inside, a secret store) depends on the host alone, and the same few
  // hosts come back request after request: remembered, so each costs its RE2 calls once.
  const HOST_PUBLIC = 1;
  const HOST_INSIDE = 2;
  const HOST_STORE = 4;
  const hostClasses = new Map<string, number>();
  const hostClass = (host: string): number => {
    const known = hostClasses.get(host);
    if (known !== undefined) return known;
    let c = 0;
    if (hostMatches(host, data.publicHosts) || publicHost?.test(host) === true) c |= HOST_PUBLIC;
    if (internalHost?.test(host) === true) c |= HOST_INSIDE;
    if (storeHost?.test(host) === true) c |= HOST_STORE;
    if (hostClasses.size >= MAX_REMEMBERED_HOSTS) hostClasses.clear();
    hostClasses.set(host, c);
    return c;
  };
  const anyPublic = (hosts: readonly string[]): boolean => {
    for (const h of hosts) if ((hostClass(h) & HOST_PUBLIC) !== 0) return true;
    return false;
  };
  const isInside = (host: string): boolean => (hostClass(host) & HOST_INSIDE) !== 0;
  const partyKeys = new Set(data.partyParamKeys.map((k) => k.toLowerCase()));
  const outsideKeys = new Set(data.outsidePartyParamKeys.map((k) => k.toLowerCase()));
  const externalTools = new Set(data.externalActionTokens);
  /** An address at a free-mail provider, or words naming an outside party (vendor, contractor). */
  const namesOutsider = (value: string): boolean => {
    if (value.length > 2048) return false;
    const lower = value.toLowerCase();
    if (mailDomainIn(lower, data.freemailDomains) !== null) return true;
    return externalTarget?.test(lower) === true;
  };
  const fileExtensions = new Set(data.fileExtensions);

  /**
   * The host of a destination written as a URL or a bare host name (`https://a.b/c`,
   * `help.vendor.example/new`); empty when the text is prose, a path, a file name or an e-mail.
   */
  const destinationHost = (value: string): string => {
    let text = value.trim().toLowerCase();
    if (text.length < 4 || text.length > 2048) return "";
    const scheme = text.indexOf("://");
    const hasScheme = scheme > 0 && scheme < 12;
    if (hasScheme) text = text.slice(scheme + 3);
    let end = text.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // / ? # end the authority; a space or a backslash means prose or a Windows path.
      if (c === 47 || c === 63 || c === 35) {
        end = i;
        break;
      }
      if (c <= 32 || c === 92) return "";
    }
    let authority = text.slice(0, end);
    const at = authority.lastIndexOf("@");
    if (at >= 0) {
      // user@host without a scheme is an e-mail address: a recipient, not a host.
      if (!hasScheme) return "";
      authority = authority.slice(at + 1);
    }
    const colon = authority.indexOf(":");
    const host = colon >= 0 ? authority.slice(0, colon) : authority;
    const lastDot = host.lastIndexOf(".");
    if (lastDot <= 0 || lastDot === host.length - 1) return "";
    let dots = 0;
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c === 46) dots++;
      else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95)) return "";
    }
    if (hasScheme) return host;
    // Without a scheme a name must look like a host, not a file: an alphabetic top label that is
    // no file extension, and a path or port after it or at least two dots.
    const top = host.slice(lastDot + 1);
    for (let i = 0; i < top.length; i++) {
      const c = top.charCodeAt(i);
      if (c < 97 || c > 122) return "";
    }
    if (top.length < 2 || fileExtensions.has(top)) return "";
    return dots >= 2 || end < text.length || colon >= 0 ? host : "";
  };

  /**
   * One bounded walk over the params: the strongest access flag (`public: true`,
   * `acl: public-read`, `visibility: external`) and the hosts named by destination keys.
   */
  const paramFacts = (
    params: unknown,
    /** Whether destinations and outside parties are wanted, or only the access flags. */
    parties = true,
  ): { access: Access; destinations: string[]; outsideParty: boolean } => {
    let access: Access = null;
    let outsideParty = false;
    const destinations: string[] = [];
    if (params === null || typeof params !== "object")
      return { access, destinations, outsideParty };
    const stack: { value: unknown; key: string; depth: number }[] = [
      { value: params, key: "", depth: 0 },
    ];
    let pairs = "";
    for (let n = 0; n < MAX_PARAM_NODES && stack.length > 0; n++) {
      const { value, key, depth } = stack.pop()!;
      if (value !== null && typeof value === "object") {
        if (depth >= MAX_PARAM_DEPTH) continue;
        if (Array.isArray(value)) {
          for (let i = Math.min(value.length, 16) - 1; i >= 0; i--)
            stack.push({ value: value[i], key, depth: depth + 1 });
        } else {
          const keys = Object.keys(value);
          for (let i = Math.min(keys.length, 32) - 1; i >= 0; i--) {
            const k = keys[i]!;
            stack.push({ value: (value as Record<string, unknown>)[k], key: k, depth: depth + 1 });
          }
        }
        continue;
      }
      if (key === "") continue;
      const lowerKey = key.toLowerCase();
      if (parties && typeof value === "string" && destinationKeys.has(lowerKey)) {
        const host = destinationHost(value);
        if (host !== "") destinations.push(host);
      }
      if (parties && typeof value === "string" && !outsideParty) {
        if (outsideKeys.has(lowerKey)) outsideParty = value.trim() !== "";
        else if (partyKeys.has(lowerKey)) outsideParty = namesOutsider(value);
      }
      if (flags === null) continue;
      const scalar =
        typeof value === "string"
          ? value.length <= MAX_FLAG_VALUE
            ? value.trim().toLowerCase()
            : null
          : typeof value === "boolean" || typeof value === "number"
            ? String(value)
            : null;
      if (scalar === null) continue;
      // One pair a line: a value's own line breaks must not forge another pair.
      const line = `${lowerKey}: ${scalar.includes("\n") ? scalar.replaceAll("\n", " ") : scalar}`;
      pairs = pairs === "" ? line : `${pairs}\n${line}`;
    }
    if (flags !== null && pairs !== "" && anyFlag!.test(pairs)) {
      for (const i of flags.match(pairs)) {
        const a = flagAccess[i]!;
        if (access === null || ACCESS_RANK[a] > ACCESS_RANK[access]) access = a;
      }
    }
    return { access, destinations, outsideParty };
  };

  /** Outside hosts the target names, as a URL or a bare host name. */
  const targetHosts = (facts: Facts, out: string[]): void => {
    const before = out.length;
    for (const u of facts.urls) if (u.field === "target" && u.host !== "") out.push(u.host);
    if (out.length === before) {
      const host = destinationHost(facts.target.norm);
      if (host !== "") out.push(host);
    }
  };
  /** Splits destination hosts into the outside ones (returned) and a count of inside ones. */
  const outsideOf = (hosts: readonly string[]): { outside: string[]; inside: number } => {
    const outside: string[] = [];
    let inside = 0;
    for (const h of hosts) {
      if (isInside(h)) inside++;
      else outside.push(h);
    }
    return { outside, inside };
  };

  const info = (
    kind: ActionKind,
    sink: Sink,
    hosts: readonly string[],
    skipTarget = false,
    sendsBody = false,
    contentIncoming = false,
    insideOnly = false,
  ): SinkInfo => ({ sink, kind, skipTarget, contentIncoming, hosts, sendsBody, insideOnly });
  const NONE: readonly string[] = Object.freeze([]);

  /** Access flags only ever widen the audience, except that an internal flag keeps a share inside. */
  const widen = (sink: Sink, access: Access): Sink => {
    if (access === "public") return "public";
    if (access === "external" && sink !== "public") return "external";
    return sink;
  };

  /** An unknown tool: judged by its name's verbs, its access flags and where it points. */
  const classifyOther = (facts: Facts, name: string): SinkInfo => {
    const kind = facts.kind;
    if (hasToken(name, modelTools)) return info(kind, "model", NONE);
    // A secret manager is where secrets belong, unless the call shares or sends the item out.
    if (hasToken(name, storeTools) && !hasToken(name, storeOut)) return info(kind, "store", NONE);
    const { access, destinations, outsideParty } = paramFacts(facts.params);
    targetHosts(facts, destinations);
    const { outside: hosts, inside } = outsideOf(destinations);
    // A draft or a note stays with its author until it is made public.
    if (hasToken(name, notes) && access !== "public") return info(kind, "note", hosts);
    if (hasToken(name, publicTools)) {
      // A "secret" gist or unlisted paste is still readable by anyone holding the link.
      return info(kind, access === "internal" ? "external" : "public", hosts, false, true);
    }
    if (access === "public" || anyPublic(hosts)) return info(kind, "public", hosts, false, true);
    // A target that names a public place (`…/discussions/`, `community forum`) publishes.
    if (facts.target.buf.length > 0 && publicTarget.test(facts.target.buf))
      return info(kind, "public", hosts, false, true);
    const namedOutside =
      outsideParty ||
      hasToken(name, externalTools) ||
      (facts.target.raw.length > 0 && namesOutsider(facts.target.norm));
    const sends = hasToken(name, outbound);
    if (hasToken(name, internalTools)) {
      // A ticket or a page is internal unless it is shared outside or pushed to an outside host.
      if (access === "external" || namedOutside || (sends && hosts.length > 0))
        return info(kind, "external", hosts, false, true);
      return info(kind, "note", hosts);
    }
    if (sends) {
      // Sent, but only to named inside hosts (`http://ingest.corp/…`) or marked internal.
      if (hosts.length === 0 && (access === "internal" || inside > 0))
        return info(kind, "note", hosts, false, true, false, inside > 0);
      return info(kind, "external", hosts, false, true);
    }
    if (access === "external" || namedOutside) return info(kind, "external", hosts, false, true);
    if (hosts.length > 0) return { ...info(kind, "external", hosts, false, true), inferred: true };
    if (access === "internal") return info(kind, "note", hosts);
    return info(kind, "local", hosts);
  };

  const classify = (facts: Facts): SinkInfo => {
    const name = facts.actionName;
    const kind = facts.kind;
    switch (kind) {
      case "message": {
        // A message is not an API call: a key in it is never "used with its issuer".
        if (hasToken(name, notes)) return info(kind, "note", NONE, true);
        const isPublic =
          hasToken(name, publicTools) ||
          (facts.target.buf.length > 0 && publicTarget.test(facts.target.buf)) ||
          anyPublic(hostsOf(facts, true)) ||
          paramFacts(facts.params, false).access === "public";
        return info(kind, isPublic ? "public" : "external", NONE, true, true);
      }
      case "http": {
        const params = facts.params as Record<string, unknown> | undefined | null;
        const hasParams = params !== undefined && params !== null && typeof params === "object";
        const method =
          hasParams && typeof params.method === "string" ? params.method.toLowerCase() : "";
        let sendsBody =
          bodyMethods.has(method) || hasToken(name, bodyMethods) || hasToken(name, outbound);
        if (!sendsBody && hasParams) {
          for (const k of Object.keys(params)) if (bodyKeys.has(k.toLowerCase())) sendsBody = true;
        }
        const incomingSource =
          facts.source === "web" || facts.source === "tool_output" || facts.source === "file";
        const hosts = hostsOf(facts, true);
        let sink: Sink = anyPublic(hosts) ? "public" : "external";
        // `x-amz-acl: public-read` on a PUT publishes the object.
        if (sendsBody && hasParams) sink = widen(sink, paramFacts(params, false).access);
        let inside = hosts.length > 0;
        let vault = hosts.length > 0 && storeHost !== null;
        for (const h of hosts) {
          if (!isInside(h)) inside = false;
          if (vault && (hostClass(h) & HOST_STORE) === 0) vault = false;
        }
        if (!vault && inside && storeInternal !== null) {
          for (const u of facts.urls)
            if (u.field === "target" && storeInternal.test(`${u.host}${u.path}`)) vault = true;
        }
        if (vault && sendsBody && sink !== "public") sink = "store";
        return info(kind, sink, hosts, false, sendsBody, !sendsBody && incomingSource, inside);
      }
      case "file_write": {
        const { access, destinations: named } = paramFacts(facts.params);
        const destinations = outsideOf(named).outside;
        if (hasToken(name, outbound)) {
          const hosts = [...hostsOf(facts, false), ...destinations];
          const sink: Sink = anyPublic(hosts) ? "public" : "external";
          return info(kind, widen(sink, access), hosts, true, true);
        }
        // Patterns are case-insensitive: the normalised (decoded) path serves.
        const path = facts.target.norm.trim();
        if (publicPath.test(path) || access === "public") return info(kind, "public", NONE, true);
        if (access === "external") return info(kind, "external", destinations, true, true);
        if (storePath.test(path)) return info(kind, "store", NONE, true);
        if (notePath.test(path)) return info(kind, "note", NONE, true);
        return info(kind, "local", NONE, true);
      }
      case "llm_prompt":
        return info(kind, "model", NONE);
      case "payment":
        return info(kind, "store", NONE);
      case "file_read":
      case "file_delete":
      case "tool_output":
        return info(kind, "incoming", NONE);
      case "other":
        return classifyOther(facts, name);
      default:
        // shell, code_exec, sql: the text runs here; what it sends is the exfiltration layer's.
        return info(kind, "local", hostsOf(facts, false));
    }
  };

  return (facts) => {
    if (memoFacts !== facts || memoInfo === null) {
      memoInfo = classify(facts);
      memoFacts = facts;
    }
    return memoInfo;
  };
}

// ---------------------------------------------------------------------------------------------
// The layer.

type Row = SecretsData["severities"]["public"];
type Verdict = { severity: Severity; confidence: number; code: string; verb: string };

type Where = Sink | "unrelatedHost" | "foreignHost";

const SINK_CODES: Readonly<Record<Where, { code: string; verb: string }>> = {
  public: { code: "SECRET_PUBLIC_EXPOSURE", verb: "published where anyone can read it" },
  external: { code: "SECRET_SENT_OUTSIDE", verb: "sent outside the organisation" },
  unrelatedHost: {
    code: "SECRET_TO_UNRELATED_HOST",
    verb: "presented to a host not known to have issued it",
  },
  foreignHost: {
    code: "SECRET_TO_FOREIGN_HOST",
    verb: "presented to an outside host other than its issuer",
  },
  model: { code: "SECRET_IN_PROMPT", verb: "pasted into a prompt for a model provider" },
  note: { code: "SECRET_IN_NOTE", verb: "written into a note or document" },
  local: { code: "SECRET_HARDCODED", verb: "hard-coded in a command, code or a local file" },
  store: { code: "SECRET_STORED", verb: "stored" },
  incoming: { code: "SECRET_INCOMING", verb: "received" },
};

/**
 * True when a host carries the issuer's name as a label part (`github.acme.com`,
 * `gitlab.corp.example`): a self-hosted instance or a proxy of that issuer.
 */
export function brandHost(hit: SecretHit, hosts: readonly string[]): boolean {
  for (const provider of hit.providers) {
    const dot = provider.indexOf(".");
    const brand = dot > 0 ? provider.slice(0, dot) : provider;
    if (brand.length < 4) continue;
    for (const h of hosts) if (h.includes(brand)) return true;
  }
  return false;
}

/** True when the hit is used with its own issuer (a GitHub token sent to api.github.com). */
export function isProviderUse(hit: SecretHit, hosts: readonly string[]): boolean {
  if (hit.providers.length === 0) return false;
  for (const h of hosts) if (hostMatches(h, hit.providers)) return true;
  return false;
}

/**
 * Layer 9: credentials in the request. Provider key formats (with checksums where the format
 * has one), private keys, JWTs, connection strings with passwords and high-entropy values next
 * to key words are found on the text as sent; placeholders, templates and low-entropy values
 * are dropped. The verdict depends on where the text goes: out of the organisation or to a
 * public place BLOCKs, into a prompt or a note WARNs, a local file or command at most WARNs,
 * and text coming in (a file read, a tool result) is not a leak at all.
 */
export function createSecretsLayer(input: unknown): Layer {
  const data = SecretsDataSchema.parse(input);
  const scanner = createSecretScanner(data);
  const sinkOf = sharedSinkClassifier(input, data.sinks);
  const rules = compileRules("secrets", data.rules);
  const severities = data.severities;

  const rowFor = (where: Where): Row =>
    where === "foreignHost"
      ? (severities.foreignHost ?? severities.unrelatedHost)
      : severities[where];

  return {
    name: "secrets",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const found: Finding[] = data.rules.length > 0 ? rules(facts) : [];
      const info = sinkOf(facts);
      if (info.sink === "incoming" || info.sink === "store") return done(found);
      const hits = scanner.scanFacts(facts);
      if (hits.length === 0) return done(found);
      let best: Verdict | null = null;
      let bestHit: SecretHit | null = null;
      let count = 0;
      const sent = (hit: SecretHit): boolean =>
        !(hit.field === "target" && info.skipTarget) &&
        // Text that came back (an HTTP response) is not sent; "norm" hits may come from it too.
        !(hit.field !== "target" && hit.field !== "params" && info.contentIncoming) &&
        !isProviderUse(hit, info.hosts) &&
        // Presented to a self-hosted instance of its issuer (`gitlab.acme.net`): use.
        !(hit.auth && brandHost(hit, info.hosts)) &&
        // A credential presented to an internal service is how internal services are called.
        !(hit.auth && info.insideOnly);
      // Several distinct credentials in one payload (an .env, a config dump) are no coincidence.
      let bundle = false;
      if (hits.length >= data.bundleMinHits) {
        const values = new Set<string>();
        for (const hit of hits) if (!hit.auth && sent(hit)) values.add(hit.value);
        bundle = values.size >= data.bundleMinHits;
      }
      for (const hit of hits) {
        if (!sent(hit)) continue;
        // A secret handed to an internal service (a config API, a vault) stays inside: a note.
        let where: Where = info.insideOnly && info.sink === "external" ? "note" : info.sink;
        // A real-looking password counts as much as a key once it leaves, or is written down in a
        // note or a ticket for others to read; in local code or config it stays a weak signal.
        const shared = where === "external" || where === "public" || where === "note";
        const strength: Strength =
          hit.strength === "weak" && !hit.auth && (bundle || (shared && hit.password === true))
            ? "medium"
            : hit.strength;
        // A credential presented to the host being called (a header, `?api_key=`) is use, even
        // if that host is not its known issuer: at most a WARN.
        if (hit.auth && info.sink === "external" && (info.kind === "http" || info.hosts.length > 0))
          where =
            hit.providers.length > 0 && !brandHost(hit, info.hosts)
              ? "foreignHost"
              : "unrelatedHost";
        const action = rowFor(where)[strength];
        if (action === null) continue;
        count++;
        const confidence = Math.min(0.99, action[1] + (hit.verified ? 0.04 : 0));
        const better =
          best === null ||
          (action[0] === "BLOCK" && best.severity === "WARN") ||
          (action[0] === best.severity && confidence > best.confidence);
        if (better) {
          best = { severity: action[0], confidence, ...SINK_CODES[where] };
          bestHit = hit;
        }
      }
      if (best === null || bestHit === null) return done(found);
      const more = count > 1 ? ` (+${count - 1} more)` : "";
      found.push({
        layer: "secrets",
        code: best.code,
        severity: best.severity,
        confidence: best.confidence,
        message: `A ${bestHit.label}${bestHit.verified ? " (checksum valid)" : ""} is ${best.verb}${more}`,
        evidence: evidenceOf(`${bestHit.label}: ${evidenceOf(bestHit.value, true)}`),
      });
      return found;
    },
  };
}
