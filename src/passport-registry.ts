import type { Clock } from "./clock.js";
import { hashSecret } from "./crypto/api-key.js";
import {
  PASSPORT_LEEWAY_S,
  PASSPORT_MAX_CHARS,
  type PassportClaims,
  type PassportReason,
  PassportVerifier,
  signPassport,
  timeReason,
  type VerifiedPassport,
} from "./crypto/passport.js";
import type { Keyring, SigningKey } from "./crypto/signing-keys.js";
import { VerificationKeys } from "./crypto/verification-keys.js";
import { GatewayError } from "./errors.js";
import { newId } from "./ids.js";
import type { CompiledPolicy } from "./pipeline/policy-bundle.js";
import type { PolicyLibrary } from "./pipeline/policy-library.js";
import { PASSPORT_AGENT_QUARANTINED, PASSPORT_REVOKED } from "./store/passports.js";
import type { Store } from "./store/store.js";

export type PassportVerdict =
  | Readonly<{ valid: true; passport: VerifiedPassport }>
  | Readonly<{ valid: false; reason: PassportReason }>;

export type IssueRequest = Readonly<{
  agentId: string;
  operator: string;
  jurisdiction: string;
  policy: CompiledPolicy;
  ttlS: number;
  issuedBy: string;
  /** Recorded in the audit entry of the issue. */
  requestId?: string;
}>;

export type IssuedPassport = Readonly<{ token: string; claims: PassportClaims; kid: string }>;

/** Passports whose registry state is remembered between writes. */
const MAX_REMEMBERED_STATES = 10_000;

/**
 * Issues passports and decides whether one may be honoured now. The signature and claims are
 * checked once per process (PassportVerifier's cache); expiry is checked against the clock and
 * revocation and quarantine against the database on every call, so no cache can outlive them,
 * in this process or any other sharing the database.
 */
export class PassportRegistry {
  readonly #store: Store;
  readonly #keyring: Keyring;
  readonly #clock: Clock;
  readonly #issuer: string;
  readonly #verifier: PassportVerifier;
  readonly #keys: VerificationKeys;
  /** Revocation/quarantine bits per passport, each valid only under the change mark it was read at. */
  readonly #states = new Map<string, { others: number; own: number; state: number | undefined }>();

  constructor(
    options: Readonly<{
      store: Store;
      keyring: Keyring;
      clock: Clock;
      issuer: string;
      policies: PolicyLibrary;
    }>,
  ) {
    this.#store = options.store;
    this.#keyring = options.keyring;
    this.#clock = options.clock;
    this.#issuer = options.issuer;
    this.#keys = new VerificationKeys(options.keyring, options.clock);
    this.#verifier = new PassportVerifier({
      issuer: options.issuer,
      keyFor: (kid) => this.#keys.keyFor(kid),
      policies: options.policies,
    });
  }

  /** Signs a passport with the active key and records it (durably) before returning it. */
  issue(request: IssueRequest): IssuedPassport {
    const now = this.#clock.now();
    // A key added by `admin rotate-signing-key` signs from the next passport on, in every worker.
    this.#keys.refresh();
    const key = this.#keyring.active;
    const { token, claims } = signPassport(
      {
        issuer: this.#issuer,
        agentId: request.agentId,
        passportId: newId("psp"),
        now,
        ttlS: request.ttlS,
        operator: request.operator,
        jurisdiction: request.jurisdiction,
        policy: request.policy,
      },
      key,
    );
    if (token.length > PASSPORT_MAX_CHARS) {
      throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
        { field: "policy", message: `the passport would exceed ${PASSPORT_MAX_CHARS} characters` },
      ]);
    }
    this.#store.passports.insert(
      {
        id: claims.jti,
        agentId: claims.sub,
        kid: key.kid,
        tokenHash: hashSecret(token),
        operator: claims.operator,
        jurisdiction: claims.jurisdiction,
        policyId: claims.policy.id,
        policyHash: claims.policy.hash,
        issuedBy: request.issuedBy,
        issuedAt: now,
        expiresAt: claims.exp * 1000,
      },
      { requestId: request.requestId },
    );
    return { token, claims, kid: key.kid };
  }

  /** Whether `token` may be honoured at this moment, and why not. */
  verify(token: string): PassportVerdict {
    const checked = this.#verifier.check(token);
    if (!checked.ok) return { valid: false, reason: checked.reason };
    const { passport } = checked;
    const late = timeReason(passport.claims, this.#clock.now());
    if (late !== null) return { valid: false, reason: late };
    const state = this.#stateOf(passport.claims.jti, passport.claims.sub);
    // Signed by us but not in the registry (a restored or foreign database): not honoured.
    if (state === undefined || (state & PASSPORT_REVOKED) !== 0) {
      return { valid: false, reason: "revoked" };
    }
    if ((state & PASSPORT_AGENT_QUARANTINED) !== 0) {
      return { valid: false, reason: "agent_quarantined" };
    }
    return { valid: true, passport };
  }

  /** Keys /.well-known/jwks.json publishes: the active one, those of live passports, assessments and audit checkpoints. */
  publishedKeys(): SigningKey[] {
    this.#keys.refresh();
    const active = this.#keyring.active;
    const cutoff = this.#clock.now() - PASSPORT_LEEWAY_S * 1000;
    // A key that signed an assessment stays published: an assessment has no expiry.
    return this.#keyring.all.filter(
      (key) =>
        key === active ||
        this.#store.passports.kidInUse(key.kid, cutoff) ||
        this.#store.assessments.kidUsed(key.kid) ||
        // A checkpoint is verified against the JWKS for as long as the log is kept.
        this.#store.audit.kidUsed(key.kid),
    );
  }

  /**
   * The passport's revocation and quarantine bits as the database holds them now. Reading the
   * change mark (two tiny statements) is cheaper than the join, so the join runs only when a
   * write happened anywhere since the last read; otherwise the remembered bits are exact.
   */
  #stateOf(passportId: string, agentId: string): number | undefined {
    const mark = this.#store.passports.changeMark();
    const known = this.#states.get(passportId);
    if (known !== undefined && known.others === mark.others && known.own === mark.own) {
      return known.state;
    }
    const state = this.#store.passports.state(passportId, agentId);
    if (known === undefined && this.#states.size >= MAX_REMEMBERED_STATES) {
      const oldest = this.#states.keys().next();
      if (!oldest.done) this.#states.delete(oldest.value);
    }
    this.#states.set(passportId, { ...mark, state });
    return state;
  }
}
