import RE2 from "re2";
import { type ZodType, z } from "zod";
import { type FieldIssue, GatewayError } from "./errors.js";

// Compiled once; RE2 runs in linear time on whatever a client sends.
const EMAIL = new RE2(
  "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
);
const SLUG = new RE2("^[A-Za-z0-9][A-Za-z0-9 _.-]*$");

function hasControlChars(text: string, allowNewlines: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (allowNewlines && (code === 10 || code === 13 || code === 9)) continue;
    if (code < 32 || code === 127 || (code >= 0x80 && code < 0xa0)) return true;
    // Bidi overrides and isolates can make a name read differently from what it is.
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return true;
  }
  return false;
}

/** A trimmed human-readable string: length bounds, no control or bidi-override characters. */
export function text(min: number, max: number, options: { multiline?: boolean } = {}) {
  return z
    .string()
    .trim()
    .min(min, { message: `must be at least ${min} characters` })
    .max(max, { message: `must be at most ${max} characters` })
    .refine((s) => !hasControlChars(s, options.multiline === true), {
      message: "must not contain control characters",
    });
}

/** An e-mail address, normalised to lower case. */
export function email() {
  return z
    .string()
    .trim()
    .max(254, { message: "must be at most 254 characters" })
    .refine((s) => EMAIL.test(s) && !s.startsWith(".") && !s.includes("..") && !s.includes(".@"), {
      message: "must be a valid e-mail address",
    })
    .transform((s) => s.toLowerCase());
}

/** A short identifier-like word: letters, digits, space, `_`, `.`, `-`. */
export function slug(max: number) {
  return z
    .string()
    .trim()
    .min(1, { message: "must not be empty" })
    .max(max, { message: `must be at most ${max} characters` })
    .refine((s) => SLUG.test(s), {
      message: "may contain only letters, digits, spaces, '_', '.' and '-'",
    });
}

/** A decimal integer in a query string, within [min, max]. */
export function intString(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z
    .string()
    .refine((s) => s.length > 0 && s.length <= 9 && [...s].every((ch) => ch >= "0" && ch <= "9"), {
      message,
    })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message });
}

/** Body members every authenticated route accepts: the key carrier and the caller's agent id. */
export const AUTH_FIELDS = {
  api_key: z.string().max(512).optional(),
  agent_id: z.string().max(64).optional(),
} as const;

function issuesToDetails(issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  const details: FieldIssue[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        details.push({ field: base ? `${base}.${key}` : key, message: "unknown field" });
      }
    } else if (issue.code === "invalid_type" && issue.input === undefined) {
      details.push({ field: base || "body", message: "is required" });
    } else {
      details.push({ field: base || "body", message: issue.message });
    }
  }
  return details;
}

/** Validates `value` or throws a 400 with one detail per bad field. */
export function parseInput<T extends ZodType>(
  schema: T,
  value: unknown,
  what = "body",
): z.output<T> {
  if (value === undefined && what === "body") {
    throw new GatewayError("BODY_REQUIRED", "A JSON request body is required");
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new GatewayError(
      "VALIDATION_FAILED",
      `Validation failed: invalid ${what}`,
      issuesToDetails(result.error.issues),
    );
  }
  return result.data;
}
