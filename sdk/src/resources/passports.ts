import type { CallOptions } from "../transport.js";
import { type PageQuery, Resource } from "./resource.js";

export type IssuePassportRequest = Readonly<{
  agent_id: string;
  /** Who runs the agent, 1–128 characters. */
  operator: string;
  /** A region (`EU`, `GLOBAL`…), an ISO 3166-1 alpha-2 country or a subdivision (`US-CA`). */
  jurisdiction: string;
  /** A shipped bundle's name (`default`, `read-only`, `eu-strict`) or an inline bundle. */
  policy: string | Readonly<Record<string, unknown>>;
  /** Lifetime in seconds, 60–2,592,000; default 86,400. */
  ttl_s?: number;
}>;

export type IssuedPassport = Readonly<{
  /** The compact JWS; present it as `passport` to `protect`. */
  passport: string;
  passport_id: string;
  kid: string;
  expires_at: string;
  agent_id: string;
  policy: Readonly<{ id: string; hash: string }>;
}>;

export type PassportInvalidReason =
  | "malformed"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "revoked"
  | "agent_quarantined";

export type PassportVerification =
  | Readonly<{
      valid: true;
      agent_id: string;
      passport_id: string;
      operator: string;
      jurisdiction: string;
      policy: Readonly<{ id: string; hash: string; rules: Readonly<Record<string, unknown>> }>;
      kid: string;
      issued_at: string;
      expires_at: string;
    }>
  | Readonly<{ valid: false; reason: PassportInvalidReason }>;

export type RevokePassportRequest = Readonly<{
  agent_id: string;
  /** 1–500 characters, recorded with the revocation. */
  reason: string;
  /** One passport; without it every passport of the agent issued so far is revoked. */
  passport_id?: string;
}>;

export type RevokeResult = Readonly<{
  /** 0 when everything named was already revoked. */
  revoked: number;
  agent_id: string;
  passport_ids: readonly string[];
  revocation_id: number;
  revoked_at: string;
}>;

export type Revocation = Readonly<{
  passport_id: string;
  agent_id: string;
  revoked_at: string;
  expires_at: string;
}>;

export type RevocationsPage = Readonly<{
  revocations: readonly Revocation[];
  /** Always present: poll with it to get only what was revoked since. */
  next_cursor: string;
  has_more: boolean;
  generated_at: string;
}>;

/** Agent passports: issue, verify, revoke, and the revocation list for offline verifiers. */
export class Passports extends Resource {
  /** POST /agent/issue: a signed passport for an agent the key may act on. */
  issue(body: IssuePassportRequest, options?: CallOptions): Promise<IssuedPassport> {
    return this.transport.request(
      { method: "POST", path: "/agent/issue", body, credential: "key", retry: "unsafe" },
      options,
    );
  }

  /** POST /agent/verify: whether a passport is valid now (public; invalid is data, not an error). */
  verify(passport: string, options?: CallOptions): Promise<PassportVerification> {
    return this.transport.request(
      {
        method: "POST",
        path: "/agent/verify",
        body: { passport },
        credential: "none",
        retry: "safe",
      },
      options,
    );
  }

  /** POST /registry/revoke: revokes one passport, or all of an agent's. */
  revoke(body: RevokePassportRequest, options?: CallOptions): Promise<RevokeResult> {
    return this.transport.request(
      {
        method: "POST",
        path: "/registry/revoke",
        body,
        credential: "key",
        // Converges: revoking again answers revoked: 0.
        retry: "safe",
      },
      options,
    );
  }

  /** GET /registry/revocations: revoked, unexpired passports (public). */
  revocations(query: PageQuery = {}, options?: CallOptions): Promise<RevocationsPage> {
    return this.transport.request(
      { method: "GET", path: "/registry/revocations", query, credential: "none", retry: "safe" },
      options,
    );
  }
}
