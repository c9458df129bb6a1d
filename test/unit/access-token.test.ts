import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ACCESS_TOKEN_AUD,
  ACCESS_TOKEN_TYP,
  AccessTokenVerifier,
  signAccessToken,
} from "../../src/crypto/access-token.js";
import { nativePublicKey, signEd25519 } from "../../src/crypto/ed25519.js";
import { signJwt } from "../../src/crypto/jwt.js";
import { PASSPORT_TYP, PassportVerifier } from "../../src/crypto/passport.js";
import { ephemeralKeyring, type SigningKey } from "../../src/crypto/signing-keys.js";
import { newId } from "../../src/ids.js";
import type { PolicyLibrary } from "../../src/pipeline/policy-library.js";
import { FakeClock } from "../helpers/test-app.js";

const ISSUER = "https://gateway.test";
const T0 = Date.parse("2026-11-23T12:00:00Z");

function setup() {
  const clock = new FakeClock(T0);
  const keyring = ephemeralKeyring(T0);
  const verifier = new AccessTokenVerifier({ issuer: ISSUER, keyring, clock });
  const input = {
    issuer: ISSUER,
    operatorId: newId("opr"),
    sessionId: newId("ses"),
    now: T0,
    ttlS: 900,
  };
  return { clock, keyring, key: keyring.active, verifier, input };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A token with any header and payload text, signed with `key` (forgeries and oddities). */
function forge(header: unknown, payload: string, key: SigningKey): string {
  const input = `${b64(header)}.${Buffer.from(payload).toString("base64url")}`;
  const signature = signEd25519(Buffer.from(input), key.secretKey);
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

function parts(token: string) {
  const [header, payload] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header!, "base64url").toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>,
  };
}

describe("crypto > access token", () => {
  test("signs header {alg, typ, kid} and the contract's claims; verifies back", () => {
    const { verifier, input, key } = setup();
    const { token, claims } = signAccessToken(input, key);
    const { header, payload } = parts(token);
    assert.deepEqual(header, { alg: "EdDSA", typ: "aiegis-access+jwt", kid: key.kid });
    assert.deepEqual(Object.keys(payload).sort(), [
      "aud",
      "exp",
      "iat",
      "iss",
      "jti",
      "sid",
      "sub",
    ]);
    assert.equal(payload.aud, ACCESS_TOKEN_AUD);
    assert.equal(payload.iss, ISSUER);
    assert.equal(payload.sub, input.operatorId);
    assert.equal(payload.sid, input.sessionId);
    assert.equal(payload.exp, (payload.iat as number) + 900);
    assert.deepEqual(verifier.verify(token), { ok: true, claims });
  });

  test("each token gets its own jti", () => {
    const { input, key } = setup();
    assert.notEqual(signAccessToken(input, key).claims.jti, signAccessToken(input, key).claims.jti);
  });

  test("expired only after exp plus 30 s of leeway", () => {
    const { verifier, input, key, clock } = setup();
    const { token } = signAccessToken(input, key);
    clock.advance(929_000);
    assert.equal(verifier.verify(token).ok, true);
    clock.advance(1_000);
    assert.deepEqual(verifier.verify(token), { ok: false, reason: "expired" });
  });

  test("a token issued in the future (beyond leeway) is invalid, not expired", () => {
    const { verifier, input, key } = setup();
    const { token } = signAccessToken({ ...input, now: T0 + 31_000 }, key);
    assert.deepEqual(verifier.verify(token), { ok: false, reason: "invalid" });
    const { token: near } = signAccessToken({ ...input, now: T0 + 29_000 }, key);
    assert.equal(verifier.verify(near).ok, true);
  });

  test("a passport-typed token with access claims is refused", () => {
    const { verifier, input, key } = setup();
    const { claims } = signAccessToken(input, key);
    assert.deepEqual(verifier.verify(signJwt(PASSPORT_TYP, claims, key)), {
      ok: false,
      reason: "invalid",
    });
  });

  test("an access token never passes the passport verifier", () => {
    const { input, key } = setup();
    const { token } = signAccessToken(input, key);
    const passports = new PassportVerifier({
      issuer: ISSUER,
      // The gateway's own key: only the token's kind can make it fail.
      keyFor: () => nativePublicKey(key.publicKey),
      // The header is refused before the policy is ever looked at.
      policies: {} as PolicyLibrary,
    });
    assert.deepEqual(passports.check(token), { ok: false, reason: "malformed" });
  });

  test("header variants are refused: alg none, other alg, extra member, missing kid", () => {
    const { verifier, input, key } = setup();
    const { claims } = signAccessToken(input, key);
    const payload = JSON.stringify(claims);
    const headers = [
      { alg: "none", typ: ACCESS_TOKEN_TYP, kid: key.kid },
      { alg: "HS256", typ: ACCESS_TOKEN_TYP, kid: key.kid },
      { alg: "EdDSA", typ: ACCESS_TOKEN_TYP, kid: key.kid, jku: "https://evil.test" },
      { alg: "EdDSA", typ: ACCESS_TOKEN_TYP },
      { alg: "EdDSA", typ: "JWT", kid: key.kid },
    ];
    for (const header of headers) {
      assert.equal(verifier.verify(forge(header, payload, key)).ok, false, JSON.stringify(header));
    }
    // The same forge with the right header passes: the refusals above are the header's doing.
    const good = forge({ alg: "EdDSA", typ: ACCESS_TOKEN_TYP, kid: key.kid }, payload, key);
    assert.equal(verifier.verify(good).ok, true);
    const unsigned = `${b64({ alg: "none", typ: ACCESS_TOKEN_TYP })}.${b64(claims)}.`;
    assert.equal(verifier.verify(unsigned).ok, false);
  });

  test("claims variants are refused: audience, issuer, extra claim, ids, duplicate member", () => {
    const { verifier, input, key } = setup();
    const { claims } = signAccessToken(input, key);
    const header = { alg: "EdDSA", typ: ACCESS_TOKEN_TYP, kid: key.kid };
    const variants: Record<string, unknown>[] = [
      { ...claims, aud: "aiegis:agent" },
      { ...claims, aud: [ACCESS_TOKEN_AUD] },
      { ...claims, iss: "https://other.test" },
      { ...claims, admin: true },
      { ...claims, sub: newId("agt") },
      { ...claims, sid: newId("opr") },
      { ...claims, exp: claims.iat + 7200 },
      { ...claims, exp: claims.iat },
      { ...claims, iat: 1.5 },
    ];
    for (const variant of variants) {
      const token = forge(header, JSON.stringify(variant), key);
      assert.deepEqual(
        verifier.verify(token),
        { ok: false, reason: "invalid" },
        JSON.stringify(variant),
      );
    }
    const duplicated = `${JSON.stringify(claims).slice(0, -1)},"sub":"${newId("opr")}"}`;
    assert.equal(verifier.verify(forge(header, duplicated, key)).ok, false);
  });

  test("a wrong signature, another key, or a non-canonical encoding is refused", () => {
    const { verifier, input, key } = setup();
    const { token } = signAccessToken(input, key);
    const [h, p, s] = token.split(".") as [string, string, string];
    const other = ephemeralKeyring(T0).active;
    const foreign = signAccessToken(input, other).token;
    const tamperedPayload = Buffer.from(p, "base64url")
      .toString()
      .replace(input.operatorId, newId("opr"));
    const cases = [
      `${h}.${Buffer.from(tamperedPayload).toString("base64url")}.${s}`,
      `${h}.${p}.${s.slice(0, -2)}${s.at(-2) === "A" ? "B" : "A"}${s.at(-1)}`,
      foreign,
      `${h}.${p}.${s}=`,
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      ` ${token}`,
      "",
      "x".repeat(5000),
    ];
    for (const candidate of cases) {
      assert.deepEqual(verifier.verify(candidate), { ok: false, reason: "invalid" }, candidate);
    }
    assert.equal(verifier.verify(token).ok, true);
  });

  test("a key added to the keyring later verifies once refresh() finds it", () => {
    const clock = new FakeClock(T0);
    const first = ephemeralKeyring(T0).active;
    const second = ephemeralKeyring(T0).active;
    let all = [first];
    const keyring = {
      get active() {
        return all[0]!;
      },
      get all() {
        return all;
      },
      refresh: () => {
        all = [second, first];
        return true;
      },
    };
    const verifier = new AccessTokenVerifier({ issuer: ISSUER, keyring, clock });
    const { token } = signAccessToken(
      { issuer: ISSUER, operatorId: newId("opr"), sessionId: newId("ses"), now: T0, ttlS: 900 },
      second,
    );
    assert.equal(verifier.verify(token).ok, true);
  });
});
