import { randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";
import { base62, base62Bytes, isBase62Code } from "./base62.js";
import { sha256Bytes } from "./sha256.js";

/** Agent and admin keys. */
export const AGENT_KEY_PREFIX = "ak_";
/** Scoped organization keys: a distinct prefix, so scanners and logs tell them apart. */
export const ORG_KEY_PREFIX = "ak_live_";
/** 32 random bytes need at most 43 base62 digits. */
const BODY_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
/** How much of the key is kept for display: prefix plus 8 characters, about 47 bits. */
const DISPLAY_CHARS = 8;

export type KeyPrefix = typeof AGENT_KEY_PREFIX | typeof ORG_KEY_PREFIX;

function checksumOf(prefixAndBody: string): string {
  return base62(BigInt(crc32(prefixAndBody)), CHECKSUM_LENGTH);
}

export type IssuedKey = Readonly<{ key: string; hash: Buffer; prefix: string }>;

/**
 * Mints `ak_` (or `ak_live_`) + 43 base62 digits of 32 random bytes + a 6-digit CRC32 checksum,
 * like GitHub's token format: secret scanners can recognise it and reject typos without a lookup.
 */
export function issueApiKey(prefix: KeyPrefix = AGENT_KEY_PREFIX): IssuedKey {
  const body = base62Bytes(randomBytes(32));
  const key = `${prefix}${body}${checksumOf(prefix + body)}`;
  return { key, hash: hashSecret(key), prefix: key.slice(0, prefix.length + DISPLAY_CHARS) };
}

/** True when `key` has the shape of a `prefix` key and a correct checksum; no lookup, no regex. */
export function isWellFormedApiKey(key: string, prefix: KeyPrefix = AGENT_KEY_PREFIX): boolean {
  const length = prefix.length + BODY_LENGTH + CHECKSUM_LENGTH;
  if (key.length !== length || !key.startsWith(prefix)) return false;
  for (let i = prefix.length; i < length; i++) {
    if (!isBase62Code(key.charCodeAt(i))) return false;
  }
  const cut = length - CHECKSUM_LENGTH;
  return checksumOf(key.slice(0, cut)) === key.slice(cut);
}

/** SHA-256 of a secret; the only form in which keys and tokens are stored. */
export function hashSecret(secret: string): Buffer {
  return sha256Bytes(secret);
}

/** Constant-time equality of two hashes (false, not a throw, when lengths differ). */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A random URL-safe token for e-mail links: 32 bytes, base64url. */
export function issueToken(): string {
  return randomBytes(32).toString("base64url");
}
