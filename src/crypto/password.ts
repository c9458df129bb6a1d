import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost: log2 of N, block size r, parallelism p. */
export type ScryptParams = Readonly<{ logN: number; r: number; p: number }>;

/** OWASP's scrypt recommendation (N=2^15, r=8, p=3): about 32 MiB and tens of ms per hash. */
export const PRODUCTION_SCRYPT: ScryptParams = Object.freeze({ logN: 15, r: 8, p: 3 });

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;
/** 256 characters of up to 4 UTF-8 bytes each; longer input is refused before any hashing. */
export const PASSWORD_MAX_BYTES = 1_024;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const SCHEME = "scrypt";

// Bounds on what a stored string may ask for: a corrupt or hostile row must not make one
// verification allocate gigabytes or spin for minutes.
const MIN_LOG_N = 10;
const MAX_LOG_N = 20;
const MAX_R = 32;
const MAX_P = 16;

/** Hashes and verifies operator passwords; injectable so tests can use cheap parameters. */
export type PasswordHasher = Readonly<{
  /** The encoded hash `scrypt$<logN>$<r>$<p>$<salt b64>$<key b64>` of a password. */
  hash(password: string): Promise<string>;
  /**
   * True when `password` matches `encoded`. With `encoded` null (no such account) the same
   * scrypt work is done against a dummy hash and the answer is false, so timing tells nothing.
   */
  verify(password: string, encoded: string | null): Promise<boolean>;
  /** True when `encoded` was made with weaker parameters than this hasher's (rehash at login). */
  needsRehash(encoded: string): boolean;
}>;

type Parsed = Readonly<{ params: ScryptParams; salt: Buffer; key: Buffer }>;

function checkParams(params: ScryptParams): void {
  const { logN, r, p } = params;
  if (!Number.isInteger(logN) || logN < MIN_LOG_N || logN > MAX_LOG_N) {
    throw new RangeError(`scrypt logN must be an integer from ${MIN_LOG_N} to ${MAX_LOG_N}`);
  }
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) throw new RangeError("scrypt r out of range");
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) throw new RangeError("scrypt p out of range");
}

/** A decimal integer written the one canonical way (no sign, no leading zeros). */
function parseSmallInt(text: string): number | null {
  if (text.length === 0 || text.length > 2 || (text.length > 1 && text[0] === "0")) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  return Number(text);
}

function parseBase64(text: string, bytes: number): Buffer | null {
  const buffer = Buffer.from(text, "base64");
  // Node's decoder skips junk; re-encoding catches anything but the canonical spelling.
  return buffer.length === bytes && buffer.toString("base64") === text ? buffer : null;
}

/** Parses an encoded hash; null when it is not one this module wrote (or its bounds allow). */
function parseEncoded(encoded: string): Parsed | null {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== SCHEME) return null;
  const logN = parseSmallInt(parts[1]!);
  const r = parseSmallInt(parts[2]!);
  const p = parseSmallInt(parts[3]!);
  if (logN === null || r === null || p === null) return null;
  const params = { logN, r, p };
  try {
    checkParams(params);
  } catch {
    return null;
  }
  const salt = parseBase64(parts[4]!, SALT_BYTES);
  const key = parseBase64(parts[5]!, KEY_BYTES);
  return salt === null || key === null ? null : { params, salt, key };
}

function encode(params: ScryptParams, salt: Buffer, key: Buffer): string {
  return [
    SCHEME,
    params.logN,
    params.r,
    params.p,
    salt.toString("base64"),
    key.toString("base64"),
  ].join("$");
}

/**
 * The password as hashed: NFKC-normalised (NIST SP 800-63B), so the same password typed on two
 * keyboards matches, then UTF-8. Over PASSWORD_MAX_BYTES is refused: routes validate first.
 */
function passwordBytes(password: string): Buffer {
  const bytes = Buffer.from(password.normalize("NFKC"), "utf8");
  if (bytes.length > PASSWORD_MAX_BYTES) throw new RangeError("password too long");
  return bytes;
}

/** The async (thread-pool) scrypt: the sync one would stall the event loop for every login. */
function derive(password: Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    // scrypt needs 128·N·r bytes (plus a little); Node's 32 MiB default is exactly too small
    // for N=2^15, r=8, so allow twice that.
    maxmem: 256 * N * params.r,
  };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** A scrypt PasswordHasher with `params` (production defaults; tests pass cheaper ones). */
export function scryptPasswordHasher(params: ScryptParams = PRODUCTION_SCRYPT): PasswordHasher {
  checkParams(params);
  const hash = async (password: string): Promise<string> => {
    const salt = randomBytes(SALT_BYTES);
    return encode(params, salt, await derive(passwordBytes(password), salt, params));
  };
  // Computed once, on first need: an unknown account then costs what a known one does.
  let dummy: Promise<Parsed> | undefined;
  const dummyHash = (): Promise<Parsed> => {
    if (dummy === undefined) {
      const made = hash("dummy password, never matches anything").then((e) => parseEncoded(e)!);
      // A failure (out of memory, say) is not remembered: the next login tries again.
      made.catch(() => {
        if (dummy === made) dummy = undefined;
      });
      dummy = made;
    }
    return dummy;
  };
  return Object.freeze({
    hash,
    async verify(password: string, encoded: string | null): Promise<boolean> {
      const stored = encoded === null ? null : parseEncoded(encoded);
      const target = stored ?? (await dummyHash());
      let bytes: Buffer;
      try {
        bytes = passwordBytes(password);
      } catch {
        return false;
      }
      const key = await derive(bytes, target.salt, target.params);
      // Evaluated after the work, so an unknown account and a corrupt row take as long.
      return timingSafeEqual(key, target.key) && stored !== null;
    },
    needsRehash(encoded: string): boolean {
      const stored = parseEncoded(encoded);
      if (stored === null) return true;
      const old = stored.params;
      return old.logN < params.logN || old.r < params.r || old.p < params.p;
    },
  });
}
