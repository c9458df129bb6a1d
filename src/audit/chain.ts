import { sha256Text } from "../crypto/sha256.js";

/** The `prev_hash` of the first entry ever written. */
export const GENESIS_HASH = "0".repeat(64);

/** The JWS `typ` of a signed checkpoint; distinct from tags, passports and assessments. */
export const CHECKPOINT_TYP = "aiegis-audit-checkpoint+jwt";

/** What the audit log records: one /api/protect decision, or one operator action. */
export type AuditAction =
  | "protect.decision"
  | "agent.registered"
  | "agent.verified"
  | "agent.login_failed"
  | "agent.key_rotated"
  | "agent.quarantined"
  | "agent.unquarantined"
  | "admin_key.created"
  | "admin_key.revoked"
  | "passport.issued"
  | "passport.revoked"
  | "webhook.created"
  | "webhook.deleted"
  | "audit.pruned"
  | "operator.signed_up"
  | "operator.verified"
  | "operator.password_changed"
  | "operator.password_reset"
  | "operator.login_failed"
  | "operator.session_revoked"
  | "organization.created"
  | "member.added"
  | "member.removed"
  | "member.role_changed"
  | "api_key.created"
  | "api_key.revoked"
  | "api_key.rotated";

/** Every action, for query validation. */
export const AUDIT_ACTIONS = [
  "protect.decision",
  "agent.registered",
  "agent.verified",
  "agent.login_failed",
  "agent.key_rotated",
  "agent.quarantined",
  "agent.unquarantined",
  "admin_key.created",
  "admin_key.revoked",
  "passport.issued",
  "passport.revoked",
  "webhook.created",
  "webhook.deleted",
  "audit.pruned",
  "operator.signed_up",
  "operator.verified",
  "operator.password_changed",
  "operator.password_reset",
  "operator.login_failed",
  "operator.session_revoked",
  "organization.created",
  "member.added",
  "member.removed",
  "member.role_changed",
  "api_key.created",
  "api_key.revoked",
  "api_key.rotated",
] as const satisfies readonly AuditAction[];

export type AuditDecision = "ALLOW" | "WARN" | "BLOCK";

/** The hashed part of an entry: everything but its own hash and the previous one. */
export type AuditBody = Readonly<{
  seq: number;
  at: number;
  action: AuditAction;
  agent_id: string | null;
  actor: string | null;
  decision: AuditDecision | null;
  data: Readonly<Record<string, unknown>>;
}>;

/** An entry as stored: the body plus the chain links. */
export type AuditEntry = AuditBody & Readonly<{ prev_hash: string; hash: string }>;

/** A signed checkpoint as stored: the JWS is the truth, the columns are for queries. */
export type AuditCheckpoint = Readonly<{
  size: number;
  head_hash: string;
  at: number;
  kid: string;
  token: string;
}>;

/** The claims a checkpoint JWS carries. */
export type CheckpointClaims = Readonly<{
  iss: string;
  iat: number;
  /** Number of entries covered: the chain up to and including seq `size`. */
  size: number;
  /** The hash of entry `size`. */
  head_hash: string;
  /** When the checkpoint was made, epoch ms. */
  time: number;
}>;

/**
 * Canonical JSON (RFC 8785 style): object members sorted by code point at every level, no
 * whitespace, strings and numbers as JSON.stringify writes them. Audit data holds only strings,
 * finite numbers, booleans, null, arrays and plain objects; anything else is refused rather
 * than hashed in a form a verifier elsewhere could not reproduce.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("canonicalJson: non-finite number");
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
      const keys = Object.keys(value).sort();
      const members: string[] = [];
      for (const key of keys) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
      }
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}

/** SHA-256 (hex) of the body's canonical JSON followed by the previous entry's hash. */
export function entryHash(body: AuditBody, prevHash: string): string {
  return entryHashOfData(body, canonicalJson(body.data), prevHash);
}

/**
 * entryHash with the data already in canonical JSON (the appender has that text anyway): the
 * members are written out in their sorted order, which is what canonicalJson would give.
 */
export function entryHashOfData(
  body: Omit<AuditBody, "data">,
  dataJson: string,
  prevHash: string,
): string {
  const text =
    `{"action":${JSON.stringify(body.action)},"actor":${JSON.stringify(body.actor)},` +
    `"agent_id":${JSON.stringify(body.agent_id)},"at":${canonicalJson(body.at)},"data":${dataJson},` +
    `"decision":${JSON.stringify(body.decision)},"seq":${canonicalJson(body.seq)}}`;
  return sha256Text(text + prevHash, "hex");
}
