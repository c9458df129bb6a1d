import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../clock.js";
import { isId } from "../ids.js";
import { decodeSegment, eddsaHeaderKid, jsonSegment, splitCompact } from "./compact-jws.js";
import { verifyEd25519Native } from "./ed25519.js";
import { signJwt } from "./jwt.js";
import type { Keyring, SigningKey } from "./signing-keys.js";
import { VerificationKeys } from "./verification-keys.js";

/** The JWS `typ` of an operator access token; passports (`agent-passport+jwt`) never match it. */
export const ACCESS_TOKEN_TYP = "aiegis-access+jwt";
/** The audience of an operator access token: the management API, nothing else. */
export const ACCESS_TOKEN_AUD = "aiegis:operator-api";
/** Clock skew tolerated on exp and iat. */
export const ACCESS_TOKEN_LEEWAY_S = 30;
/** The longest lifetime a token may claim (the config allows at most one hour). */
const MAX_TTL_S = 3_600;
/** Our tokens are about 450 characters; anything much longer is not one. */
const MAX_TOKEN_CHARS = 2_048;
/** Year 2286 in seconds: any later timestamp is nonsense. */
const MAX_TIME_S = 10_000_000_000;
/** An unknown kid re-reads the keys directory at most this often (another worker may have rotated). */

export type AccessTokenClaims = Readonly<{
  iss: string;
  aud: typeof ACCESS_TOKEN_AUD;
  /** The operator, `opr_…`. */
  sub: string;
  /** The session (refresh-token family), `ses_…`: revoking it ends the token at once. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}>;

/** Why a token is refused: `expired` (ask for a new one with the refresh token) or anything else. */
export type AccessTokenReason = "expired" | "invalid";

export type AccessTokenCheck =
  | Readonly<{ ok: true; claims: AccessTokenClaims }>
  | Readonly<{ ok: false; reason: AccessTokenReason }>;

const seconds = z.int().min(0).max(MAX_TIME_S);

const ClaimsSchema = z
  .strictObject({
    iss: z.string().min(1).max(512),
    aud: z.literal(ACCESS_TOKEN_AUD),
    sub: z.string().refine((s) => isId(s, "opr_")),
    sid: z.string().refine((s) => isId(s, "ses_")),
    jti: z.string().refine((s) => s.length === 22 && decodeSegment(s)?.length === 16),
    iat: seconds,
    exp: seconds,
  })
  .refine((c) => c.iat < c.exp && c.exp - c.iat <= MAX_TTL_S);

export type AccessTokenInput = Readonly<{
  issuer: string;
  operatorId: string;
  sessionId: string;
  /** Milliseconds; the claims carry whole seconds. */
  now: number;
  ttlS: number;
}>;

/** Signs an operator access token (EdDSA, typ aiegis-access+jwt) with `key`. */
export function signAccessToken(
  input: AccessTokenInput,
  key: SigningKey,
): { token: string; claims: AccessTokenClaims } {
  const iat = Math.floor(input.now / 1000);
  const claims: AccessTokenClaims = {
    iss: input.issuer,
    aud: ACCESS_TOKEN_AUD,
    sub: input.operatorId,
    sid: input.sessionId,
    jti: randomBytes(16).toString("base64url"),
    iat,
    exp: iat + input.ttlS,
  };
  return { token: signJwt(ACCESS_TOKEN_TYP, claims, key), claims };
}

/**
 * Verifies access tokens as strictly as passports: exactly {alg:"EdDSA", typ, kid} in the
 * header, a kid of the keyring, a canonical signature, strict JSON claims with nothing extra,
 * the gateway as issuer and the operator API as audience, then time. Session state (logout,
 * reuse) is the caller's to check: it changes, a signature does not.
 */
export class AccessTokenVerifier {
  readonly #issuer: string;
  readonly #clock: Clock;
  readonly #keys: VerificationKeys;

  constructor(options: Readonly<{ issuer: string; keyring: Keyring; clock: Clock }>) {
    this.#issuer = options.issuer;
    this.#clock = options.clock;
    this.#keys = new VerificationKeys(options.keyring, options.clock);
  }

  /** Checks `token` at the clock's current time. */
  verify(token: string): AccessTokenCheck {
    const invalid: AccessTokenCheck = { ok: false, reason: "invalid" };
    if (token.length === 0 || token.length > MAX_TOKEN_CHARS) return invalid;
    const parts = splitCompact(token);
    if (parts === null) return invalid;
    const kid = eddsaHeaderKid(jsonSegment(parts.header), ACCESS_TOKEN_TYP);
    if (kid === null) return invalid;
    const signature = decodeSegment(parts.signature);
    if (signature === null || signature.length !== 64) return invalid;
    const key = this.#keys.keyFor(kid);
    if (key === undefined) return invalid;
    if (!verifyEd25519Native(signature, Buffer.from(parts.signingInput, "latin1"), key)) {
      return invalid;
    }
    const parsed = ClaimsSchema.safeParse(jsonSegment(parts.payload));
    if (!parsed.success || parsed.data.iss !== this.#issuer) return invalid;
    const claims = parsed.data as AccessTokenClaims;
    const now = this.#clock.now();
    const leewayMs = ACCESS_TOKEN_LEEWAY_S * 1000;
    // A token from the future was not made by this gateway's clock: refused, not "expired".
    if (claims.iat * 1000 > now + leewayMs) return invalid;
    if (now >= claims.exp * 1000 + leewayMs) return { ok: false, reason: "expired" };
    return { ok: true, claims };
  }
}
