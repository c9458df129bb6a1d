import RE2 from "re2";

/** Characters an excerpt keeps (code points), after masking. */
export const EXCERPT_CHARS = 200;

// RE2: linear time on whatever a client sent. Order matters: whole tokens before the generic
// long-run rule, so a JWT or a PEM block is masked as one piece.
const MASKS: readonly (readonly [RE2, string])[] = [
  [
    new RE2(
      "-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)",
      "g",
    ),
    "[secret]",
  ],
  [new RE2("eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}(\\.[A-Za-z0-9_-]*)?", "g"), "[secret]"],
  [new RE2("[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63})+", "g"), "[email]"],
  [
    new RE2(
      "(?i)\\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization|bearer)(\\s*[:=]\\s*|\\s+)[^\\s\"',;&]+",
      "g",
    ),
    "$1$2[secret]",
  ],
  // Provider keys (ak_, sk_live_, ghp_, xoxb-, AKIA…) and any long token-like run.
  [new RE2("\\b(ak|sk|pk|rk)_(live_|test_)?[A-Za-z0-9]{16,}", "g"), "[secret]"],
  [
    new RE2("\\b(gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[A-Z0-9]{16})", "g"),
    "[secret]",
  ],
  [new RE2("[A-Za-z0-9+/_=-]{32,}", "g"), "[secret]"],
  // Card, account and phone numbers: runs of 9 or more digits, spaces and dashes allowed.
  [new RE2("\\d(?:[ -]?\\d){8,}", "g"), "[number]"],
];

/**
 * A short, redacted excerpt of request text for the audit log (AIEGIS_AUDIT_EXCERPTS=on):
 * e-mail addresses, credentials, long tokens and long digit runs masked, then cut to 200
 * characters. Masking runs on a longer prefix than is kept, so a secret straddling the cut is
 * masked whole rather than half shown. Null for absent or empty text.
 */
export function auditExcerpt(text: string | undefined): string | null {
  if (text === undefined || text === "") return null;
  let masked = text.slice(0, EXCERPT_CHARS * 4);
  for (const [pattern, replacement] of MASKS) masked = masked.replace(pattern, replacement);
  const chars = Array.from(masked);
  return chars.length > EXCERPT_CHARS ? `${chars.slice(0, EXCERPT_CHARS).join("")}…` : masked;
}
