import type { KeyObject } from "node:crypto";
import { z } from "zod";
import { isId } from "../ids.js";
import { isJurisdiction } from "../jurisdiction.js";
import { bundleRules, type CompiledPolicy } from "../pipeline/policy-bundle.js";
import type { PolicyLibrary } from "../pipeline/policy-library.js";
import { decodeSegment, eddsaHeaderKid, jsonSegment } from "./compact-jws.js";
import { verifyEd25519Native } from "./ed25519.js";
import { signJwt } from "./jwt.js";
import { sha256Text } from "./sha256.js";
import type { SigningKey } from "./signing-keys.js";

export const PASSPORT_TYP = "agent-passport+jwt";
/** Clock skew tolerated on exp, nbf and iat. */
export const PASSPORT_LEEWAY_S = 60;
export const PASSPORT_MIN_TTL_S = 60;
export const PASSPORT_MAX_TTL_S = 30 * 86_400;
export const PASSPORT_DEFAULT_TTL_S = 86_400;
/** Passports travel in a header; Node's default header limit is 16 KiB in total. */
export const PASSPORT_MAX_CHARS = 8_192;
/** Year 2286 in seconds: any later timestamp is nonsense, not a long-lived passport. */
const MAX_TIME_S = 10_000_000_000;

/** Why a passport is not valid, as /api/agent/verify reports it. */
export type PassportReason =
  | "revoked"
  | "expired"
  | "not_yet_valid"
  | "bad_signature"
  | "malformed"
  | "unknown_key"
  | "agent_quarantined";

export type PassportClaims = Readonly<{
  iss: string;
  sub: string;
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
  operator: string;
  jurisdiction: string;
  policy: Readonly<{ id: string; hash: string; rules: Readonly<Record<string, unknown>> }>;
}>;

/** A passport whose header, signature and claims checked out; time and registry not yet. */
export type VerifiedPassport = Readonly<{
  claims: PassportClaims;
  kid: string;
  policy: CompiledPolicy;
}>;

export type StaticCheck =
  | Readonly<{ ok: true; passport: VerifiedPassport }>
  | Readonly<{ ok: false; reason: PassportReason }>;

const seconds = z.int().min(0).max(MAX_TIME_S);

const ClaimsSchema = z
  .strictObject({
    iss: z.string().min(1).max(512),
    sub: z.string().refine((s) => isId(s, "agt_")),
    jti: z.string().refine((s) => isId(s, "psp_")),
    iat: seconds,
    nbf: seconds,
    exp: seconds,
    operator: z.string().min(1).max(128),
    jurisdiction: z.string().refine(isJurisdiction),
    policy: z.strictObject({
      id: z.string().min(1).max(64),
      hash: z.string().regex(/^[0-9a-f]{64}$/),
      rules: z.record(z.string(), z.unknown()),
    }),
  })
  .refine((c) => c.iat <= c.nbf && c.nbf < c.exp && c.exp - c.iat <= PASSPORT_MAX_TTL_S);

export type PassportInput = Readonly<{
  issuer: string;
  agentId: string;
  passportId: string;
  /** Milliseconds; the claims carry whole seconds. */
  now: number;
  ttlS: number;
  operator: string;
  jurisdiction: string;
  policy: CompiledPolicy;
}>;

/** Signs a passport with the active key (EdDSA through @noble/ed25519). */
export function signPassport(
  input: PassportInput,
  key: SigningKey,
): { token: string; claims: PassportClaims } {
  const iat = Math.floor(input.now / 1000);
  const claims: PassportClaims = {
    iss: input.issuer,
    sub: input.agentId,
    jti: input.passportId,
    iat,
    nbf: iat,
    exp: iat + input.ttlS,
    operator: input.operator,
    jurisdiction: input.jurisdiction,
    policy: {
      id: input.policy.id,
      hash: input.policy.hash,
      rules: bundleRules(input.policy.bundle),
    },
  };
  return { token: signJwt(PASSPORT_TYP, claims, key), claims };
}

/** Null when the passport is within its validity window (60 s leeway), else why not. */
export function timeReason(
  claims: PassportClaims,
  nowMs: number,
): "expired" | "not_yet_valid" | null {
  const leewayMs = PASSPORT_LEEWAY_S * 1000;
  if (nowMs >= claims.exp * 1000 + leewayMs) return "expired";
  if (nowMs + leewayMs < claims.nbf * 1000 || nowMs + leewayMs < claims.iat * 1000) {
    return "not_yet_valid";
  }
  return null;
}

/** SHA-256 of a token (base64): the cache key, so the cache never holds bearer tokens. */
function tokenDigest(token: string): string {
  return sha256Text(token, "base64");
}

export type PassportVerifierOptions = Readonly<{
  issuer: string;
  /** The public key with this kid, or undefined when the gateway does not know it. */
  keyFor: (kid: string) => KeyObject | undefined;
  policies: PolicyLibrary;
  /** Verified passports kept in memory; the oldest is forgotten first. */
  maxEntries?: number;
}>;

/**
 * Checks a passport's form, header, signature and claims. That result is a pure function of
 * the token (keys are never removed from a running gateway), so it is cached by the token's
 * SHA-256: a passport is verified once per process. Time, revocation and quarantine are never
 * cached; callers check them on every use (timeReason, the passport registry).
 */
export class PassportVerifier {
  readonly #options: PassportVerifierOptions;
  readonly #cache = new Map<string, VerifiedPassport>();
  readonly #max: number;

  constructor(options: PassportVerifierOptions) {
    this.#options = options;
    this.#max = options.maxEntries ?? 10_000;
  }

  /** Form, header, key, signature and claims; cached when they check out. */
  check(token: string): StaticCheck {
    if (token.length === 0 || token.length > PASSPORT_MAX_CHARS) {
      return { ok: false, reason: "malformed" };
    }
    const cacheKey = tokenDigest(token);
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) return { ok: true, passport: cached };
    const result = this.#verifyUncached(token);
    if (result.ok) {
      if (this.#cache.size >= this.#max) {
        const oldest = this.#cache.keys().next();
        if (!oldest.done) this.#cache.delete(oldest.value);
      }
      this.#cache.set(cacheKey, result.passport);
    }
    return result;
  }

  /** How many verified passports are cached. */
  get cacheSize(): number {
    return this.#cache.size;
  }

  #verifyUncached(token: string): StaticCheck {
    const malformed: StaticCheck = { ok: false, reason: "malformed" };
    for (let i = 0; i < token.length; i++) if (token.charCodeAt(i) > 0x7e) return malformed;
    const first = token.indexOf(".");
    const second = token.indexOf(".", first + 1);
    if (first <= 0 || second <= first + 1 || token.indexOf(".", second + 1) !== -1) {
      return malformed;
    }
    const kid = eddsaHeaderKid(jsonSegment(token.slice(0, first)), PASSPORT_TYP);
    if (kid === null) return malformed;
    const signature = decodeSegment(token.slice(second + 1));
    if (signature === null || signature.length !== 64) return malformed;
    const key = this.#options.keyFor(kid);
    if (key === undefined) return { ok: false, reason: "unknown_key" };
    const signingInput = Buffer.from(token.slice(0, second), "latin1");
    if (!verifyEd25519Native(signature, signingInput, key)) {
      return { ok: false, reason: "bad_signature" };
    }
    const raw = jsonSegment(token.slice(first + 1, second));
    const parsed = ClaimsSchema.safeParse(raw);
    if (!parsed.success || parsed.data.iss !== this.#options.issuer) return malformed;
    const claims = parsed.data;
    let policy: CompiledPolicy;
    try {
      // The bundle is validated as signed, not zod's copy (which would drop a "__proto__" member).
      policy = this.#options.policies.resolve((raw as { policy: { rules: unknown } }).policy.rules);
    } catch {
      return malformed;
    }
    if (policy.hash !== claims.policy.hash || policy.id !== claims.policy.id) return malformed;
    return { ok: true, passport: Object.freeze({ claims, kid, policy }) };
  }
}
