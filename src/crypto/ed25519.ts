import { createHash, createPublicKey, type KeyObject, verify as nodeVerify } from "node:crypto";
import * as ed from "@noble/ed25519";

// @noble/ed25519's synchronous API needs a SHA-512; node:crypto's is native and fast.
ed.hashes.sha512 = (message: Uint8Array) =>
  new Uint8Array(createHash("sha512").update(message).digest());

/** Ed25519 signature of `message` with a 32-byte RFC 8032 seed. */
export function signEd25519(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey);
}

/** Strict (RFC 8032, not ZIP-215) verification; false on any malformed input. */
export function verifyEd25519(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A fresh 32-byte seed and its public key. */
export function generateEd25519(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = ed.utils.randomSecretKey();
  return { secretKey, publicKey: ed.getPublicKey(secretKey) };
}

/** The public key of a 32-byte seed. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return ed.getPublicKey(secretKey);
}

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const ORDER_LE = (() => {
  let l = 2n ** 252n + 27742317777372353535851937790883648493n;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    bytes[i] = Number(l & 0xffn);
    l >>= 8n;
  }
  return bytes;
})();

/** True when the S half of a 64-byte signature is below the group order (RFC 8032 §5.1.7). */
export function isCanonicalS(signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!;
    const l = ORDER_LE[i]!;
    if (s !== l) return s < l;
  }
  return false; // S == L
}

/** A node:crypto key object for a raw 32-byte Ed25519 public key, built once per key. */
export function nativePublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") },
    format: "jwk",
  });
}

/**
 * Strict verification through node:crypto (OpenSSL), about ten times faster than noble. S is
 * checked against the group order here as well, so refusing a malleated signature does not
 * depend on the OpenSSL build; the differential test keeps this in agreement with
 * verifyEd25519 (noble, zip215: false).
 */
export function verifyEd25519Native(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: KeyObject,
): boolean {
  if (!isCanonicalS(signature)) return false;
  try {
    return nodeVerify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}
