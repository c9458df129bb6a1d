import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { generateEd25519, publicKeyOf } from "./ed25519.js";

export type SigningKey = Readonly<{
  kid: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  createdAt: number;
}>;

/** The key that signs now, and every key the gateway knows (newest first). */
export type Keyring = Readonly<{
  active: SigningKey;
  all: readonly SigningKey[];
  /** Re-reads keys added since (another process's rotation); true when something changed. */
  refresh?: () => boolean;
}>;

export type PublicJwk = Readonly<{
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}>;

/** RFC 7638 thumbprint of an Ed25519 public key (members in lexicographic order, no spaces). */
export function thumbprint(publicKey: Uint8Array): string {
  const x = Buffer.from(publicKey).toString("base64url");
  return createHash("sha256")
    .update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)
    .digest("base64url");
}

/** A new signing key, not yet stored anywhere. */
export function generateSigningKey(now: number): SigningKey {
  const { secretKey, publicKey } = generateEd25519();
  return Object.freeze({ kid: thumbprint(publicKey), secretKey, publicKey, createdAt: now });
}

/** The public JWK of a signing key, as published at /.well-known/jwks.json. */
export function publicJwk(key: SigningKey): PublicJwk {
  return {
    kty: "OKP",
    crv: "Ed25519",
    x: Buffer.from(key.publicKey).toString("base64url"),
    kid: key.kid,
    alg: "EdDSA",
    use: "sig",
  };
}

/** A keyring holding one fresh in-memory key (tests, and `:memory:` stores). */
export function ephemeralKeyring(now: number): Keyring {
  const key = generateSigningKey(now);
  return Object.freeze({ active: key, all: Object.freeze([key]) });
}

type StoredKey = {
  kty: "OKP";
  crv: "Ed25519";
  kid: string;
  x: string;
  d: string;
  created_at: number;
};

function readKeyFile(path: string): SigningKey {
  const stored = JSON.parse(readFileSync(path, "utf8")) as StoredKey;
  const secretKey = new Uint8Array(Buffer.from(stored.d, "base64url"));
  const publicKey = publicKeyOf(secretKey);
  if (secretKey.length !== 32 || Buffer.from(publicKey).toString("base64url") !== stored.x) {
    throw new Error(`signing key ${path} is corrupt: its public key does not match its seed`);
  }
  return Object.freeze({
    kid: thumbprint(publicKey),
    secretKey,
    publicKey,
    createdAt: stored.created_at,
  });
}

function writeKeyFile(dir: string, key: SigningKey): void {
  const body: StoredKey = {
    kty: "OKP",
    crv: "Ed25519",
    kid: key.kid,
    x: Buffer.from(key.publicKey).toString("base64url"),
    d: Buffer.from(key.secretKey).toString("base64url"),
    created_at: key.createdAt,
  };
  // Written to a temporary name, synced and renamed, so a crash never leaves half a key.
  const tmp = join(dir, `.${key.kid}.tmp`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(body));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, join(dir, `${key.kid}.json`));
}

function readKeyDir(dir: string): SigningKey[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  const keys = files.map((f) => readKeyFile(join(dir, f)));
  // Newest first: it signs. Ties (same millisecond) are broken by kid so every worker agrees.
  keys.sort((a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid));
  return keys;
}

function keysDir(dataDir: string): string {
  const dir = join(dataDir, "keys");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/**
 * Loads the signing keys from `<dataDir>/keys` (mode 0700, files 0600), creating the first one
 * on first start. The newest key signs; older ones stay published for verifiers.
 */
export function loadKeyring(dataDir: string, now: number): Keyring {
  const dir = keysDir(dataDir);
  const keys = readKeyDir(dir);
  if (keys.length === 0) {
    const key = generateSigningKey(now);
    writeKeyFile(dir, key);
    keys.push(key);
  }
  return Object.freeze({ active: keys[0]!, all: Object.freeze(keys) });
}

/**
 * Adds a new signing key to `<dataDir>/keys` (`admin rotate-signing-key`): it is the newest, so
 * it signs from the next (re)load on; the older keys stay for verification.
 */
export function addSigningKey(dataDir: string, now: number): SigningKey {
  const dir = keysDir(dataDir);
  const newest = readKeyDir(dir)[0];
  // Never older than the current key, even if the clock went back: the new key must win.
  const key = generateSigningKey(Math.max(now, (newest?.createdAt ?? 0) + 1));
  writeKeyFile(dir, key);
  return key;
}

/**
 * The signing keys of a data dir, re-read when `refresh()` finds the directory changed, so a
 * key added by `admin rotate-signing-key` signs in a running gateway (and in every worker)
 * without a restart. Keys are only ever added: a passport verifiable once stays verifiable.
 */
export class DirectoryKeyring implements Keyring {
  readonly #dir: string;
  #current: Keyring;
  #listing: string;

  constructor(dataDir: string, now: number) {
    this.#current = loadKeyring(dataDir, now);
    this.#dir = keysDir(dataDir);
    this.#listing = this.#list();
  }

  get active(): SigningKey {
    return this.#current.active;
  }

  get all(): readonly SigningKey[] {
    return this.#current.all;
  }

  #list(): string {
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .join("\n");
  }

  /** Re-reads the directory when its listing changed; true when the keys changed. */
  refresh(): boolean {
    const listing = this.#list();
    if (listing === this.#listing) return false;
    const keys = readKeyDir(this.#dir);
    if (keys.length === 0) return false;
    // Keep keys that vanished from disk: passports they signed must still verify here.
    const known = new Map(this.#current.all.map((k) => [k.kid, k]));
    for (const key of keys) known.set(key.kid, key);
    const merged = [...known.values()].sort(
      (a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid),
    );
    this.#current = Object.freeze({ active: merged[0]!, all: Object.freeze(merged) });
    this.#listing = listing;
    return true;
  }
}
