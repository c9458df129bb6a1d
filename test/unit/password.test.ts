import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  PASSWORD_MAX_BYTES,
  PRODUCTION_SCRYPT,
  scryptPasswordHasher,
} from "../../src/crypto/password.js";

const cheap = scryptPasswordHasher({ logN: 10, r: 8, p: 1 });

describe("crypto > password", () => {
  test("hash is a self-describing scrypt string with a 16-byte salt and a 32-byte key", async () => {
    const encoded = await cheap.hash("correct horse battery staple");
    const match = /^scrypt\$10\$8\$1\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/.exec(encoded);
    assert.ok(match, encoded);
    assert.equal(Buffer.from(match[1]!, "base64").length, 16);
    assert.equal(Buffer.from(match[2]!, "base64").length, 32);
    assert.ok(!encoded.includes("correct horse"));
  });

  test("the right password verifies, a wrong one does not", async () => {
    const encoded = await cheap.hash("correct horse battery staple");
    assert.equal(await cheap.verify("correct horse battery staple", encoded), true);
    assert.equal(await cheap.verify("correct horse battery stapl", encoded), false);
    assert.equal(await cheap.verify("Correct horse battery staple", encoded), false);
    assert.equal(await cheap.verify("", encoded), false);
  });

  test("each hash of one password gets its own salt", async () => {
    const a = await cheap.hash("same password");
    const b = await cheap.hash("same password");
    assert.notEqual(a, b);
    assert.equal(await cheap.verify("same password", a), true);
    assert.equal(await cheap.verify("same password", b), true);
  });

  test("no stored hash (unknown account) is never a match, not even for the dummy's password", async () => {
    assert.equal(await cheap.verify("dummy password, never matches anything", null), false);
    assert.equal(await cheap.verify("anything at all", null), false);
  });

  test("parameters are read from the stored string, so they can be raised later", async () => {
    const stronger = scryptPasswordHasher({ logN: 11, r: 8, p: 2 });
    const old = await cheap.hash("long-lived password");
    assert.equal(await stronger.verify("long-lived password", old), true);
    assert.equal(stronger.needsRehash(old), true);
    assert.equal(cheap.needsRehash(old), false);
    const renewed = await stronger.hash("long-lived password");
    assert.match(renewed, /^scrypt\$11\$8\$2\$/);
    assert.equal(stronger.needsRehash(renewed), false);
    assert.equal(await cheap.verify("long-lived password", renewed), true);
  });

  test("a corrupt or hostile stored string verifies as false without throwing", async () => {
    const good = await cheap.hash("pw-12345678");
    const parts = good.split("$");
    const variants = [
      "",
      "plain-text-password",
      good.replace("scrypt$", "bcrypt$"),
      [...parts.slice(0, 5), `${parts[5]!}A`].join("$"),
      [parts[0], "30", ...parts.slice(2)].join("$"),
      [parts[0], "010", ...parts.slice(2)].join("$"),
      [parts[0], parts[1], "0", ...parts.slice(3)].join("$"),
      [...parts.slice(0, 4), "AAAA", parts[5]].join("$"),
      `${good}$extra`,
    ];
    for (const stored of variants) {
      assert.equal(await cheap.verify("pw-12345678", stored), false, stored);
      assert.equal(cheap.needsRehash(stored), true, stored);
    }
    const key = Buffer.from(parts[5]!, "base64");
    key[0]! ^= 1;
    const flipped = [...parts.slice(0, 5), key.toString("base64")].join("$");
    assert.equal(await cheap.verify("pw-12345678", flipped), false);
    assert.equal(await cheap.verify("pw-12345678", good), true);
  });

  test("passwords are NFKC-normalised: one password typed two ways matches", async () => {
    const encoded = await cheap.hash("\ufb01le-Ｐassword");
    assert.equal(await cheap.verify("file-Password", encoded), true);
  });

  test("a password over the byte cap is refused by hash and never matches", async () => {
    const long = "é".repeat(PASSWORD_MAX_BYTES);
    await assert.rejects(cheap.hash(long), RangeError);
    assert.equal(await cheap.verify(long, await cheap.hash("short one")), false);
  });

  test("parameters out of bounds are refused at construction", () => {
    assert.throws(() => scryptPasswordHasher({ logN: 9, r: 8, p: 1 }), RangeError);
    assert.throws(() => scryptPasswordHasher({ logN: 21, r: 8, p: 1 }), RangeError);
    assert.throws(() => scryptPasswordHasher({ logN: 15, r: 0, p: 1 }), RangeError);
    assert.throws(() => scryptPasswordHasher({ logN: 15, r: 8, p: 1.5 }), RangeError);
  });

  test("production parameters (N=2^15, r=8, p=3) fit the memory limit and round-trip", async () => {
    const production = scryptPasswordHasher();
    const encoded = await production.hash("production password");
    assert.match(encoded, /^scrypt\$15\$8\$3\$/);
    assert.deepEqual(PRODUCTION_SCRYPT, { logN: 15, r: 8, p: 3 });
    assert.equal(await production.verify("production password", encoded), true);
  });
});
