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

/** The key that signs now, and every key whose public half is still published. */
export type Keyring = Readonly<{ active: SigningKey; all: readonly SigningKey[] }>;

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

/**
 * Loads the signing keys from `<dataDir>/keys` (mode 0700, files 0600), creating the first one
 * on first start. The newest key signs; older ones stay published for verifiers.
 */
export function loadKeyring(dataDir: string, now: number): Keyring {
  const dir = join(dataDir, "keys");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  const keys = files.map((f) => readKeyFile(join(dir, f)));
  if (keys.length === 0) {
    const key = generateSigningKey(now);
    writeKeyFile(dir, key);
    keys.push(key);
  }
  keys.sort((a, b) => b.createdAt - a.createdAt || a.kid.localeCompare(b.kid));
  return Object.freeze({ active: keys[0]!, all: Object.freeze(keys) });
}
