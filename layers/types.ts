/** The twelve layers, in registry order. */
export const LAYER_NAMES = [
  "normalize",
  "policy",
  "path",
  "command",
  "network",
  "sql",
  "prompt_injection",
  "jailbreak",
  "secrets",
  "pii",
  "exfiltration",
  "financial",
] as const;

export type LayerName = (typeof LAYER_NAMES)[number];

export type Severity = "BLOCK" | "WARN";

/** One thing a layer found. Severity is the layer's verdict; confidence is 0–1. */
export type Finding = Readonly<{
  layer: LayerName;
  code: string;
  severity: Severity;
  confidence: number;
  message: string;
  /** A short excerpt showing what matched (never more than 120 characters). */
  evidence?: string;
}>;

/** Where the text of a request came from, as declared by the caller or implied by the action. */
export type Source = "user" | "tool_output" | "web" | "file" | "agent";

/** What an action does, whatever the caller named it. */
export type ActionKind =
  | "file_read"
  | "file_write"
  | "file_delete"
  | "shell"
  | "code_exec"
  | "http"
  | "sql"
  | "message"
  | "payment"
  | "llm_prompt"
  | "tool_output"
  | "other";

/**
 * A piece of request text in two forms: as sent, and normalised (decoded, NFKC, invisible
 * characters removed, confusables folded, lower case). `buf` is the normalised text as UTF-8,
 * ready for RE2 without re-encoding.
 */
export type TextView = Readonly<{ raw: string; norm: string; buf: Buffer }>;

/** A string found somewhere in `params`, with its JSON path (`to[0]`, `body.memo`). */
export type ParamString = Readonly<{ path: string; key: string; value: TextView }>;

/** A URL found in the target, content or params, parsed once. */
export type UrlFact = Readonly<{
  /** The URL text after decoding, as found. */
  text: string;
  scheme: string;
  /** Host as written (lower case, brackets removed for IPv6); empty when the URL has none. */
  host: string;
  port: string;
  path: string;
  query: string;
  /** Where it was found. */
  field: "target" | "content" | "params" | "decoded";
}>;

/** How much a request was disguised; the normalize layer judges it. */
export type ObfuscationFacts = Readonly<{
  zeroWidth: number;
  bidiControls: number;
  /** Rounds of percent-decoding that changed the text (2+ is double encoding). */
  percentRounds: number;
  htmlEntities: number;
  /** Characters folded from look-alike scripts (Cyrillic а for Latin a…). */
  confusables: number;
  /** \xNN, \uNNNN and similar escapes decoded. */
  escapes: number;
  /** Overlong UTF-8 sequences such as %c0%ae. */
  overlongUtf8: number;
  /** Base64 or hex blobs that decoded to readable text. */
  decodedBlobs: number;
  /** Characters changed by NFKC (full-width letters, ligatures…). */
  nfkcChanges: number;
}>;

/** Numbers a layer may want without parsing params again. */
export type AmountFact = Readonly<{ value: number; currency: string | null; path: string }>;

/** What a policy bundle says about actions, targets and money, as layers need it. */
export type PolicyView = Readonly<{
  id: string;
  /** SHA-256 of the bundle's canonical JSON. */
  hash: string;
  /** deny, warn or allow by the bundle's action globs; unlisted when no allow glob matches. */
  actionRule(actionName: string): "deny" | "warn" | "allow" | "unlisted";
  /** deny or warn when a target glob matches the normalised target, else null. */
  targetRule(target: string): "deny" | "warn" | null;
  financial: Readonly<{ approvalAmount: number; currency: string }>;
}>;

/**
 * The read-only view of one /api/protect request every layer receives. Built once per
 * request by the pipeline; layers never see the HTTP request itself.
 */
export type Facts = Readonly<{
  action: TextView;
  /** Lower-case action with separators unified: `Read-File` → `read_file`. */
  actionName: string;
  kind: ActionKind;
  target: TextView;
  content: TextView;
  params: unknown;
  paramStrings: readonly ParamString[];
  /** Every param string as `key: value` lines, one view, for patterns that span params. */
  paramsText: TextView;
  /** Text recovered from base64/hex blobs anywhere in the request. */
  decoded: readonly TextView[];
  /** Target, content, params and decoded text joined by newlines. */
  all: TextView;
  urls: readonly UrlFact[];
  amounts: readonly AmountFact[];
  source: Source;
  /** True when `source` was declared in context rather than implied by the action. */
  sourceDeclared: boolean;
  obfuscation: ObfuscationFacts;
  /** Characters in target + content + params; layers compare it with their bounds. */
  size: number;
  /** The agent's policy bundle. */
  policy: PolicyView;
}>;

/** A layer: a pure, synchronous function of Facts. */
export type Layer = Readonly<{
  name: LayerName;
  /** Largest `facts.size` the layer is built to inspect; above it the pipeline BLOCKs. */
  maxInputChars: number;
  check(facts: Facts): readonly Finding[];
}>;

/** The shared frozen result for "nothing found": no allocation on the common path. */
export const NO_FINDINGS: readonly Finding[] = Object.freeze([]);
