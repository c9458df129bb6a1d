import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

/**
 * Encrypts webhook signing secrets at rest. Secrets are otherwise stored only as hashes, but
 * HMAC signing needs the secret itself, so it is kept sealed with AES-256-GCM under a key that
 * lives outside the database (`<dataDir>/keys/webhook-secrets.key`): a copy of the database
 * alone does not reveal any secret.
 */
export type SecretBox = Readonly<{
  /** Seals `plaintext`; `context` (the endpoint id) is bound as associated data. */
  seal(plaintext: string, context: string): Buffer;
  /** Opens what seal() made for the same context; throws if it was altered or moved. */
  open(sealed: Buffer, context: string): string;
}>;

/** Format version byte, so the key or cipher can change later without ambiguity. */
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
export const SECRET_KEY_FILE = "webhook-secrets.key";

function boxWith(key: () => Buffer): SecretBox {
  return Object.freeze({
    seal(plaintext: string, context: string): Buffer {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key(), nonce);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), nonce, body, cipher.getAuthTag()]);
    },
    open(sealed: Buffer, context: string): string {
      if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
        throw new Error("sealed webhook secret has an unknown format");
      }
      const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
      const tag = sealed.subarray(sealed.length - TAG_BYTES);
      const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
      const decipher = createDecipheriv("aes-256-gcm", key(), nonce);
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    },
  });
}

/** A box with a fresh in-memory key: in-memory databases and tests, whose rows die with it. */
export function ephemeralSecretBox(): SecretBox {
  const key = randomBytes(KEY_BYTES);
  return boxWith(() => key);
}

/**
 * Reads `<dataDir>/keys/webhook-secrets.key`, creating it (0600, directory 0700) when absent.
 * Created under a temporary name and hard-linked into place, so when several workers start
 * at once exactly one key wins and every one of them reads that one.
 */
export function loadSecretKey(dataDir: string): Buffer {
  const dir = join(dataDir, "keys");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = join(dir, SECRET_KEY_FILE);
  try {
    return checkedKey(readFileSync(path), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const tmp = join(dir, `.${SECRET_KEY_FILE}.${process.pid}.${randomBytes(4).toString("hex")}`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, randomBytes(KEY_BYTES));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    unlinkSync(tmp);
  }
  return checkedKey(readFileSync(path), path);
}

function checkedKey(key: Buffer, path: string): Buffer {
  if (key.length !== KEY_BYTES) {
    throw new Error(`${path} must hold exactly ${KEY_BYTES} bytes; refusing to use it`);
  }
  return key;
}

/** A box keyed by the data dir's key file, read (or created) on first use only. */
export function fileSecretBox(dataDir: string): SecretBox {
  let key: Buffer | undefined;
  return boxWith(() => {
    key ??= loadSecretKey(dataDir);
    return key;
  });
}
