import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { createLocalJWKSet, jwtVerify } from "jose";
import {
  isCanonicalS,
  nativePublicKey,
  signEd25519,
  verifyEd25519,
} from "../../src/crypto/ed25519.js";
import { signJwt } from "../../src/crypto/jwt.js";
import {
  PASSPORT_MAX_TTL_S,
  PASSPORT_TYP,
  type PassportClaims,
  PassportVerifier,
  signPassport,
  timeReason,
} from "../../src/crypto/passport.js";
import {
  ephemeralKeyring,
  generateSigningKey,
  publicJwk,
  type SigningKey,
} from "../../src/crypto/signing-keys.js";
import { parseStrictJson, StrictJsonError } from "../../src/crypto/strict-json.js";
import { PolicyLibrary } from "../../src/pipeline/policy-library.js";

const ISSUER = "https://gateway.test";
const NOW = Date.parse("2026-11-23T12:00:00Z");
const NOW_S = NOW / 1000;
const keyring = ephemeralKeyring(NOW);
const key = keyring.active;
const policies = new PolicyLibrary();
const defaultPolicy = policies.named("default")!;

function makeVerifier() {
  return new PassportVerifier({
    issuer: ISSUER,
    keyFor: (kid) => (kid === key.kid ? nativePublicKey(key.publicKey) : undefined),
    policies,
  });
}

function issue(overrides: Partial<Parameters<typeof signPassport>[0]> = {}) {
  return signPassport(
    {
      issuer: ISSUER,
      agentId: "agt_4Ud5Db2CWDlZNQ4gc6NevQ",
      passportId: "psp_3tYFGfYuLrTsmPfsHGhDbB",
      now: NOW,
      ttlS: 3600,
      operator: "Acme Corp",
      jurisdiction: "EU",
      policy: defaultPolicy,
      ...overrides,
    },
    key,
  );
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");

/** Signs arbitrary header and payload text with `signer`, as an attacker holding a key could. */
function craft(header: unknown, claims: unknown, signer: SigningKey = key): string {
  const h = typeof header === "string" ? header : JSON.stringify(header);
  const p = typeof claims === "string" ? claims : JSON.stringify(claims);
  const input = `${b64(h)}.${b64(p)}`;
  const signature = signEd25519(new TextEncoder().encode(input), signer.secretKey);
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

const goodHeader = { alg: "EdDSA", typ: PASSPORT_TYP, kid: key.kid };
const goodClaims = (): PassportClaims => issue().claims;

function reasonOf(token: string): string {
  const result = makeVerifier().check(token);
  return result.ok ? "ok" : result.reason;
}

describe("passport > signing and verification", () => {
  test("a signed passport verifies and carries its claims", () => {
    const { token, claims } = issue();
    const result = makeVerifier().check(token);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.passport.claims, claims);
    assert.equal(result.passport.kid, key.kid);
    assert.equal(result.passport.policy, defaultPolicy, "named bundles are not recompiled");
  });

  test("the header is exactly {alg, typ, kid}", () => {
    const { token } = issue();
    const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString());
    assert.deepEqual(header, { alg: "EdDSA", typ: "agent-passport+jwt", kid: key.kid });
  });

  test("a crafted token with the issuer's own claims verifies (the crafting helper is sound)", () => {
    assert.equal(reasonOf(craft(goodHeader, goodClaims())), "ok");
  });

  test("jose verifies a passport against the published JWKS", async () => {
    const { token, claims } = issue();
    const jwks = createLocalJWKSet({ keys: keyring.all.map(publicJwk) });
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: ISSUER,
      typ: PASSPORT_TYP,
      algorithms: ["EdDSA"],
      currentDate: new Date(NOW),
    });
    assert.equal(protectedHeader.kid, key.kid);
    assert.equal(payload.sub, claims.sub);
    assert.deepEqual(payload.policy, claims.policy);
  });

  test("verification is cached by token: a second check does not verify again", () => {
    const calls: string[] = [];
    const verifier = new PassportVerifier({
      issuer: ISSUER,
      keyFor: (kid) => {
        calls.push(kid);
        return nativePublicKey(key.publicKey);
      },
      policies,
    });
    const { token } = issue();
    assert.ok(verifier.check(token).ok);
    assert.ok(verifier.check(token).ok);
    assert.equal(calls.length, 1);
    assert.equal(verifier.cacheSize, 1);
  });

  test("failures are not cached", () => {
    const verifier = makeVerifier();
    const { token } = issue();
    assert.equal(verifier.check(`${token}x`).ok, false);
    assert.equal(verifier.cacheSize, 0);
  });

  test("the cache is bounded", () => {
    const verifier = new PassportVerifier({
      issuer: ISSUER,
      keyFor: () => nativePublicKey(key.publicKey),
      policies,
      maxEntries: 3,
    });
    for (let i = 0; i < 5; i++) assert.ok(verifier.check(issue({ ttlS: 3600 + i }).token).ok);
    assert.equal(verifier.cacheSize, 3);
  });

  test("inline bundles with the same rules compile once", () => {
    const bundle = { id: "custom", actions: { allow: ["read_*"], warn: [], deny: [] } };
    const a = policies.resolve(bundle);
    const b = policies.resolve(JSON.parse(JSON.stringify(bundle)));
    assert.equal(a, b);
    const { token } = issue({ policy: a });
    const result = makeVerifier().check(token);
    assert.ok(result.ok);
    assert.equal(result.passport.policy, a);
  });
});

describe("passport > time window (60 s leeway)", () => {
  const claims = goodClaims();
  test("valid from nbf to exp", () => {
    assert.equal(timeReason(claims, NOW), null);
    assert.equal(timeReason(claims, claims.exp * 1000), null);
  });
  test("exp within the leeway is still accepted; past it, expired", () => {
    assert.equal(timeReason(claims, claims.exp * 1000 + 59_000), null);
    assert.equal(timeReason(claims, claims.exp * 1000 + 60_000), "expired");
    assert.equal(timeReason(claims, claims.exp * 1000 + 3_600_000), "expired");
  });
  test("nbf in the future beyond the leeway is not_yet_valid", () => {
    const future = { ...claims, nbf: NOW_S + 120, exp: NOW_S + 3600 };
    assert.equal(timeReason(future, NOW), "not_yet_valid");
    assert.equal(timeReason({ ...claims, nbf: NOW_S + 30 }, NOW), null);
  });
  test("iat in the future beyond the leeway is not_yet_valid", () => {
    const future = { ...claims, iat: NOW_S + 600, nbf: NOW_S + 600, exp: NOW_S + 3600 };
    assert.equal(timeReason(future, NOW), "not_yet_valid");
  });
});

describe("passport > crafted tokens are refused", () => {
  test('alg "none", with and without a signature', () => {
    const claims = b64(JSON.stringify(goodClaims()));
    const none = b64(JSON.stringify({ alg: "none", typ: PASSPORT_TYP, kid: key.kid }));
    assert.equal(reasonOf(`${none}.${claims}.`), "malformed");
    assert.equal(reasonOf(`${none}.${claims}`), "malformed");
    assert.equal(reasonOf(craft({ ...goodHeader, alg: "none" }, goodClaims())), "malformed");
  });

  test("HS256 keyed with the public key", () => {
    const header = b64(JSON.stringify({ alg: "HS256", typ: PASSPORT_TYP, kid: key.kid }));
    const input = `${header}.${b64(JSON.stringify(goodClaims()))}`;
    for (const secret of [Buffer.from(key.publicKey), publicJwk(key).x]) {
      const mac = createHmac("sha256", secret).update(input).digest("base64url");
      assert.equal(reasonOf(`${input}.${mac}`), "malformed");
    }
  });

  test("unknown kid: a key the gateway does not have", () => {
    const stranger = generateSigningKey(NOW);
    const token = craft({ ...goodHeader, kid: stranger.kid }, goodClaims(), stranger);
    assert.equal(reasonOf(token), "unknown_key");
  });

  test("our kid with a signature from another key", () => {
    const stranger = generateSigningKey(NOW);
    assert.equal(reasonOf(craft(goodHeader, goodClaims(), stranger)), "bad_signature");
  });

  test("wrong or missing typ", () => {
    for (const typ of ["JWT", "agent-tag+jwt", "AGENT-PASSPORT+JWT", "", null]) {
      assert.equal(reasonOf(craft({ ...goodHeader, typ }, goodClaims())), "malformed", `${typ}`);
    }
    const { typ: _typ, ...missing } = goodHeader;
    assert.equal(reasonOf(craft(missing, goodClaims())), "malformed");
  });

  test("header members beyond alg, typ and kid (jku, jwk, crit)", () => {
    for (const extra of [
      { jku: "https://evil.test/jwks" },
      { jwk: publicJwk(key) },
      { crit: [] },
    ]) {
      assert.equal(reasonOf(craft({ ...goodHeader, ...extra }, goodClaims())), "malformed");
    }
  });

  test("the registration tag presented as a passport", () => {
    const tag = signJwt(
      "agent-tag+jwt",
      {
        iss: ISSUER,
        sub: "agt_4Ud5Db2CWDlZNQ4gc6NevQ",
        iat: NOW_S,
        agent_name: "x",
        agent_type: "y",
      },
      key,
    );
    assert.equal(reasonOf(tag), "malformed");
  });

  test("exp past the leeway (signed, so only the clock refuses it)", () => {
    const claims = { ...goodClaims(), iat: NOW_S - 7200, nbf: NOW_S - 7200, exp: NOW_S - 61 };
    const result = makeVerifier().check(craft(goodHeader, claims));
    assert.ok(result.ok);
    assert.equal(timeReason(result.passport.claims, NOW), "expired");
  });

  test("nbf in the future", () => {
    const claims = { ...goodClaims(), iat: NOW_S, nbf: NOW_S + 3600, exp: NOW_S + 7200 };
    const result = makeVerifier().check(craft(goodHeader, claims));
    assert.ok(result.ok);
    assert.equal(timeReason(result.passport.claims, NOW), "not_yet_valid");
  });

  test("non-numeric, NaN, fractional, negative or huge exp", () => {
    const base = goodClaims();
    for (const exp of ["1795438800", null, true, 1.5e9 + 0.5, -1, 1e308, 2 ** 53, 2 ** 60]) {
      assert.equal(reasonOf(craft(goodHeader, { ...base, exp })), "malformed", `exp=${exp}`);
    }
    // NaN and Infinity are not JSON; a token spelling them is malformed JSON.
    const text = JSON.stringify(base);
    for (const literal of ["NaN", "Infinity", "-Infinity", "1e999"]) {
      const bad = text.replace(`"exp":${base.exp}`, `"exp":${literal}`);
      assert.notEqual(bad, text);
      assert.equal(reasonOf(craft(goodHeader, bad)), "malformed", literal);
    }
  });

  test("a lifetime longer than the maximum, or exp before nbf", () => {
    const base = goodClaims();
    const long = { ...base, exp: base.iat + PASSPORT_MAX_TTL_S + 1 };
    assert.equal(reasonOf(craft(goodHeader, long)), "malformed");
    assert.equal(reasonOf(craft(goodHeader, { ...base, exp: base.nbf })), "malformed");
  });

  test("a flipped bit anywhere in the signature", () => {
    const { token } = issue();
    const [h, p, s] = token.split(".") as [string, string, string];
    const signature = Buffer.from(s, "base64url");
    for (let bit = 0; bit < 512; bit += 7) {
      const flipped = Buffer.from(signature);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(
        reasonOf(`${h}.${p}.${flipped.toString("base64url")}`),
        "bad_signature",
        `bit ${bit}`,
      );
    }
  });

  test("a flipped bit in the payload", () => {
    const { token } = issue();
    const [h, p, s] = token.split(".") as [string, string, string];
    const payload = Buffer.from(p, "base64url");
    payload[20]! ^= 1;
    assert.equal(reasonOf(`${h}.${payload.toString("base64url")}.${s}`), "bad_signature");
  });

  test("a non-canonical signature (S + L) is refused, as noble's strict mode does", () => {
    const { token } = issue();
    const [h, p, s] = token.split(".") as [string, string, string];
    const sig = Buffer.from(s, "base64url");
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let S = 0n;
    for (let i = 31; i >= 0; i--) S = (S << 8n) | BigInt(sig[32 + i]!);
    const malleated = Buffer.from(sig);
    let sPlusL = S + L;
    for (let i = 0; i < 32; i++) {
      malleated[32 + i] = Number(sPlusL & 0xffn);
      sPlusL >>= 8n;
    }
    assert.equal(isCanonicalS(malleated), false);
    const message = new TextEncoder().encode(`${h}.${p}`);
    assert.equal(verifyEd25519(malleated, message, key.publicKey), false);
    assert.equal(reasonOf(`${h}.${p}.${malleated.toString("base64url")}`), "bad_signature");
  });

  test("duplicate claims and duplicate header members", () => {
    const claims = JSON.stringify(goodClaims());
    const dupSub = claims.replace("{", '{"sub":"agt_0000000000000000000000",');
    assert.equal(reasonOf(craft(goodHeader, dupSub)), "malformed");
    const dupEscaped = claims.replace("{", '{"\\u0073ub":"agt_0000000000000000000000",');
    assert.equal(reasonOf(craft(goodHeader, dupEscaped)), "malformed");
    const dupPolicy = claims.replace('"policy":{', '"policy":{"id":"read-only",');
    assert.equal(reasonOf(craft(goodHeader, dupPolicy)), "malformed");
    const header = JSON.stringify(goodHeader).replace("{", '{"alg":"none",');
    assert.equal(reasonOf(craft(header, goodClaims())), "malformed");
  });

  test("trailing garbage after the token or inside a segment", () => {
    const { token } = issue();
    for (const bad of [
      `${token}x`,
      `${token}.`,
      `${token}.e30`,
      `${token} `,
      `${token}=`,
      ` ${token}`,
    ]) {
      assert.equal(reasonOf(bad), "malformed", JSON.stringify(bad.slice(-6)));
    }
    const trailingJson = `${JSON.stringify(goodClaims())}xyz`;
    assert.equal(reasonOf(craft(goodHeader, trailingJson)), "malformed");
    const twoValues = `${JSON.stringify(goodClaims())}{}`;
    assert.equal(reasonOf(craft(goodHeader, twoValues)), "malformed");
  });

  test("non-canonical base64url (padding, other alphabets, spare bits)", () => {
    const { token } = issue();
    const [h, p, s] = token.split(".") as [string, string, string];
    assert.equal(reasonOf(`${h}.${p}.${s}==`), "malformed");
    // Standard base64's "+" and "/" are not base64url, wherever they appear.
    for (const ch of ["+", "/"]) {
      assert.equal(reasonOf(`${h}.${p}.${ch}${s.slice(1)}`), "malformed", ch);
      assert.equal(reasonOf(`${ch}${h.slice(1)}.${p}.${s}`), "malformed", ch);
    }
    // The signature's last character carries 4 spare bits; setting one is another spelling.
    const last = s.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const other = alphabet[alphabet.indexOf(last) ^ 1]!;
    assert.equal(reasonOf(`${h}.${p}.${s.slice(0, -1)}${other}`), "malformed");
  });

  test("claims that are not exactly ours: other issuer, extra or missing claim, bad ids", () => {
    const base = goodClaims();
    const { operator: _op, ...missing } = base;
    const cases: unknown[] = [
      { ...base, iss: "https://evil.test" },
      { ...base, admin: true },
      missing,
      { ...base, sub: "agt_short" },
      { ...base, jti: "x" },
      { ...base, jurisdiction: "Atlantis" },
      { ...base, operator: "" },
      [base],
      "a string",
    ];
    for (const claims of cases) assert.equal(reasonOf(craft(goodHeader, claims)), "malformed");
  });

  test("a policy whose hash or id does not match its rules", () => {
    const base = goodClaims();
    const wrongHash = { ...base, policy: { ...base.policy, hash: "0".repeat(64) } };
    assert.equal(reasonOf(craft(goodHeader, wrongHash)), "malformed");
    const wrongId = { ...base, policy: { ...base.policy, id: "eu-strict" } };
    assert.equal(reasonOf(craft(goodHeader, wrongId)), "malformed");
    const rules = { ...base.policy.rules, layers: { policy: { mode: "off" } } };
    const tampered = { ...base, policy: { ...base.policy, rules } };
    assert.equal(reasonOf(craft(goodHeader, tampered)), "malformed");
    const invalid = { ...base, policy: { ...base.policy, rules: { id: "x", bogus: 1 } } };
    assert.equal(reasonOf(craft(goodHeader, invalid)), "malformed");
    const text = JSON.stringify(base).replace('"rules":{', '"rules":{"__proto__":{"x":1},');
    assert.equal(reasonOf(craft(goodHeader, text)), "malformed");
  });

  test("empty, oversized and non-ASCII tokens", () => {
    const { token } = issue();
    assert.equal(reasonOf(""), "malformed");
    assert.equal(reasonOf("a".repeat(9000)), "malformed");
    assert.equal(reasonOf(token.replace(/.$/, "é")), "malformed");
    assert.equal(reasonOf("a.b"), "malformed");
    assert.equal(reasonOf("..."), "malformed");
  });
});

describe("strict JSON", () => {
  test("parses what JSON.parse parses", () => {
    const samples = ['{"a":[1,2.5,-3e2,true,false,null,"x\\u00e9\\n"]}', " [ ] ", '"s"', "0", "{}"];
    for (const text of samples) assert.deepEqual(parseStrictJson(text), JSON.parse(text));
  });
  test("refuses duplicates, trailing text, bad numbers and deep nesting", () => {
    const bad = [
      '{"a":1,"a":2}',
      '{"a":{"b":1,"b":1}}',
      "{} x",
      "01",
      "1.",
      "-",
      "[1,]",
      '{"a":1,}',
      "'x'",
      '"\u0001"',
      `${"[".repeat(40)}${"]".repeat(40)}`,
    ];
    for (const text of bad) assert.throws(() => parseStrictJson(text), StrictJsonError, text);
  });
  test('"__proto__" is an own member, not a prototype', () => {
    const value = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
