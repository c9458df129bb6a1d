import { parseStrictJson } from "./strict-json.js";

// The strict reading of a compact JWS shared by passports and operator access tokens: one
// spelling per token, one header shape, strict JSON.

function isBase64UrlChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 45 ||
    code === 95
  );
}

/** Decodes unpadded base64url, refusing any other character and non-canonical trailing bits. */
export function decodeSegment(segment: string): Buffer | null {
  if (segment.length === 0 || segment.length % 4 === 1) return null;
  for (let i = 0; i < segment.length; i++) {
    if (!isBase64UrlChar(segment.charCodeAt(i))) return null;
  }
  const bytes = Buffer.from(segment, "base64url");
  // Two spellings of one byte string would give one signature two tokens (and two cache keys).
  return bytes.toString("base64url") === segment ? bytes : null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A segment's JSON, parsed strictly (no duplicate members); undefined when it is not. */
export function jsonSegment(segment: string): unknown {
  const bytes = decodeSegment(segment);
  if (bytes === null) return undefined;
  try {
    return parseStrictJson(utf8.decode(bytes));
  } catch {
    return undefined;
  }
}

export type CompactParts = Readonly<{
  header: string;
  payload: string;
  signature: string;
  /** `header.payload`, the bytes the signature covers. */
  signingInput: string;
}>;

/** Splits `a.b.c` (printable ASCII only, three non-empty parts); null otherwise. */
export function splitCompact(token: string): CompactParts | null {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e) return null;
  }
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  if (first <= 0 || second <= first + 1 || second === token.length - 1) return null;
  if (token.indexOf(".", second + 1) !== -1) return null;
  return {
    header: token.slice(0, first),
    payload: token.slice(first + 1, second),
    signature: token.slice(second + 1),
    signingInput: token.slice(0, second),
  };
}

const HEADER_MEMBERS = ["alg", "kid", "typ"] as const;

/**
 * The kid of a header that is exactly {alg:"EdDSA", typ, kid} with a 43-character thumbprint
 * kid; null for anything else (another typ, extra members, another algorithm, "none").
 */
export function eddsaHeaderKid(header: unknown, typ: string): string | null {
  if (header === null || typeof header !== "object" || Array.isArray(header)) return null;
  const keys = Object.keys(header).sort();
  if (keys.length !== HEADER_MEMBERS.length || keys.some((k, i) => k !== HEADER_MEMBERS[i])) {
    return null;
  }
  const members = header as Record<string, unknown>;
  if (members.alg !== "EdDSA" || members.typ !== typ) return null;
  const kid = members.kid;
  if (typeof kid !== "string" || kid.length !== 43 || decodeSegment(kid)?.length !== 32) {
    return null;
  }
  return kid;
}
