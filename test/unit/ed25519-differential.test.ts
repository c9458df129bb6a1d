import assert from "node:assert/strict";
import { test } from "node:test";
import {
  generateEd25519,
  nativePublicKey,
  signEd25519,
  verifyEd25519,
  verifyEd25519Native,
} from "../../src/crypto/ed25519.js";
import { prng } from "../helpers/prng.js";

/**
 * The passport verifier uses node:crypto (OpenSSL) for speed; the project's reference is
 * @noble/ed25519 in strict mode (zip215: false). This test is the guarantee that both give the
 * same answer on valid signatures and on every kind of corruption we can think of.
 */

const CASES = 10_000;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function leToBig(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bigToLe(n: bigint, into: Uint8Array, offset: number): void {
  let rest = n;
  for (let i = 0; i < 32; i++) {
    into[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

type Corruption =
  | "none"
  | "flip-signature-bit"
  | "flip-message-bit"
  | "random-signature"
  | "s-plus-l"
  | "s-equals-l"
  | "s-zero"
  | "identity-r"
  | "other-key"
  | "other-message";

const CORRUPTIONS: readonly Corruption[] = [
  "flip-signature-bit",
  "flip-message-bit",
  "random-signature",
  "s-plus-l",
  "s-equals-l",
  "s-zero",
  "identity-r",
  "other-key",
  "other-message",
];

test(`noble (zip215: false) and node:crypto agree on ${CASES} valid and corrupted signatures`, {
  timeout: 600_000,
}, () => {
  const seed = Number(process.env.DIFF_SEED ?? Date.now() % 2 ** 31);
  const random = prng(seed);
  const bytes = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
    return out;
  };
  let keys = generateEd25519();
  let native = nativePublicKey(keys.publicKey);
  const other = generateEd25519();
  const tally = new Map<Corruption, number>();

  for (let i = 0; i < CASES; i++) {
    // A fresh key every 50 cases: many keys, without paying key generation on every case.
    if (i % 50 === 0) {
      keys = generateEd25519();
      native = nativePublicKey(keys.publicKey);
    }
    const message = bytes(Math.floor(random() * 200));
    const signature = new Uint8Array(signEd25519(message, keys.secretKey));
    let checkedMessage = message;
    let publicKey = keys.publicKey;
    let nativeKey = native;
    const kind: Corruption =
      i % 2 === 0 ? "none" : CORRUPTIONS[Math.floor(random() * CORRUPTIONS.length)]!;
    switch (kind) {
      case "none":
        break;
      case "flip-signature-bit": {
        const bit = Math.floor(random() * 512);
        signature[bit >> 3]! ^= 1 << (bit & 7);
        break;
      }
      case "flip-message-bit": {
        checkedMessage = new Uint8Array(message.length === 0 ? [1] : message);
        if (message.length > 0) {
          const bit = Math.floor(random() * message.length * 8);
          checkedMessage[bit >> 3]! ^= 1 << (bit & 7);
        }
        break;
      }
      case "random-signature":
        signature.set(bytes(64));
        break;
      case "s-plus-l":
        bigToLe(leToBig(signature.subarray(32)) + L, signature, 32);
        break;
      case "s-equals-l":
        bigToLe(L, signature, 32);
        break;
      case "s-zero":
        signature.fill(0, 32);
        break;
      case "identity-r":
        signature.fill(0, 0, 32);
        signature[0] = 1;
        break;
      case "other-key":
        publicKey = other.publicKey;
        nativeKey = nativePublicKey(other.publicKey);
        break;
      case "other-message":
        checkedMessage = bytes(message.length + 1);
        break;
    }
    tally.set(kind, (tally.get(kind) ?? 0) + 1);
    const noble = verifyEd25519(signature, checkedMessage, publicKey);
    const node = verifyEd25519Native(signature, checkedMessage, nativeKey);
    assert.equal(
      node,
      noble,
      `case ${i} (${kind}, seed ${seed}): noble ${noble}, node:crypto ${node}, signature ${Buffer.from(signature).toString("hex")}`,
    );
    assert.equal(noble, kind === "none", `case ${i} (${kind}, seed ${seed})`);
  }
  assert.equal(tally.get("none"), CASES / 2);
  for (const kind of CORRUPTIONS) assert.ok((tally.get(kind) ?? 0) > 100, `${kind} exercised`);
});
