import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  hashesEqual,
  hashSecret,
  issueApiKey,
  isWellFormedApiKey,
} from "../../src/crypto/api-key.js";
import { base62, base62Bytes } from "../../src/crypto/base62.js";

describe("api keys", () => {
  test("ak_ + 43 base62 digits of 32 random bytes + a 6-digit checksum", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { key, hash, prefix } = issueApiKey();
      assert.match(key, /^ak_[0-9A-Za-z]{49}$/);
      assert.ok(isWellFormedApiKey(key));
      assert.deepEqual(hash, hashSecret(key));
      assert.equal(prefix, key.slice(0, 11));
      seen.add(key);
    }
    assert.equal(seen.size, 200);
  });

  test("the checksum catches every single-character typo", () => {
    const { key } = issueApiKey();
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (let i = 3; i < key.length; i++) {
      for (const ch of alphabet) {
        if (ch === key[i]) continue;
        const typo = key.slice(0, i) + ch + key.slice(i + 1);
        assert.equal(isWellFormedApiKey(typo), false, typo);
      }
    }
  });

  test("rejects other shapes", () => {
    const { key } = issueApiKey();
    for (const bad of [
      "",
      "ak_",
      key.slice(0, -1),
      `${key}0`,
      `AK_${key.slice(3)}`,
      key.replace("ak_", "sk_"),
      `${key.slice(0, 20)}-${key.slice(21)}`,
    ]) {
      assert.equal(isWellFormedApiKey(bad), false, bad);
    }
  });

  test("hashesEqual is false for different lengths instead of throwing", () => {
    assert.equal(hashesEqual(Buffer.alloc(32), Buffer.alloc(31)), false);
    assert.equal(hashesEqual(hashSecret("a"), hashSecret("a")), true);
    assert.equal(hashesEqual(hashSecret("a"), hashSecret("b")), false);
  });

  test("base62 round-trips through BigInt and pads to width", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (n) => {
        const digits = base62(n, 22);
        assert.equal(digits.length, 22);
        let back = 0n;
        for (const ch of digits) {
          back =
            back * 62n +
            BigInt("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".indexOf(ch));
        }
        assert.equal(back, n);
      }),
    );
    assert.equal(base62Bytes(new Uint8Array(32).fill(255)).length, 43);
    assert.equal(base62Bytes(new Uint8Array(16)).length, 22);
  });
});
