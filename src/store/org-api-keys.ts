import type { Scope } from "../scopes.js";
import type { AuditContext, AuditLog } from "./audit-log.js";
import { MarkedCache } from "./change-mark.js";
import type { Db } from "./db.js";

/** An organization key as listed to its operators: never the key, never its hash. */
export type OrgApiKeyInfo = Readonly<{
  id: string;
  orgId: string;
  name: string;
  prefix: string;
  scopes: readonly Scope[];
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
  rotatedFrom: string | null;
}>;

/** An unrevoked key found by its hash; the caller checks `expiresAt` against its clock. */
export type OrgKeyMatch = Readonly<{
  keyId: string;
  orgId: string;
  hash: Buffer;
  scopes: ReadonlySet<Scope>;
  expiresAt: number | null;
}>;

export type NewOrgApiKey = Readonly<{
  id: string;
  orgId: string;
  name: string;
  hash: Buffer;
  prefix: string;
  scopes: readonly Scope[];
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
}>;

type InfoRow = Omit<OrgApiKeyInfo, "scopes"> & { scopes: string };

const INFO_COLUMNS = `id, org_id AS orgId, name, prefix, scopes, created_by AS createdBy,
  created_at AS createdAt, expires_at AS expiresAt, last_used_at AS lastUsedAt,
  revoked_at AS revokedAt, rotated_from AS rotatedFrom`;

function infoOf(row: InfoRow): OrgApiKeyInfo {
  return { ...row, scopes: JSON.parse(row.scopes) as Scope[] };
}

/** Scoped organization API keys (`ak_live_…`): stored only as SHA-256 hashes. */
export class OrgApiKeyRepo {
  readonly #db: Db;
  readonly #audit: AuditLog | undefined;
  readonly #insert;
  readonly #byHash;
  readonly #byId;
  readonly #list;
  readonly #revoke;
  readonly #shorten;
  readonly #touch;
  readonly #cache: MarkedCache<OrgKeyMatch>;
  /** Last use per key id not yet written. */
  readonly #usage = new Map<string, number>();

  constructor(db: Db, audit?: AuditLog) {
    this.#db = db;
    this.#audit = audit;
    this.#cache = new MarkedCache(db);
    this.#insert = db.prepare(
      `INSERT INTO org_api_keys
         (id, org_id, name, hash, prefix, scopes, created_by, created_at, expires_at, rotated_from)
       VALUES (@id, @orgId, @name, @hash, @prefix, @scopes, @createdBy, @createdAt, @expiresAt, @rotatedFrom)`,
    );
    this.#byHash = db.prepare(
      `SELECT id AS keyId, org_id AS orgId, hash, scopes, expires_at AS expiresAt
         FROM org_api_keys WHERE hash = ? AND revoked_at IS NULL`,
    );
    this.#byId = db.prepare(`SELECT ${INFO_COLUMNS} FROM org_api_keys WHERE org_id = ? AND id = ?`);
    this.#list = db.prepare(
      `SELECT ${INFO_COLUMNS} FROM org_api_keys WHERE org_id = ? ORDER BY seq`,
    );
    this.#revoke = db.prepare(
      `UPDATE org_api_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL`,
    );
    this.#shorten = db.prepare(
      `UPDATE org_api_keys SET expires_at = ? WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)`,
    );
    // Only ever moves forward, so two processes touching one key cannot move it back.
    this.#touch = db.prepare(
      `UPDATE org_api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
    );
  }

  /** The unrevoked key with this hash, or undefined. The caller compares hashes in constant time. */
  findByHash(hash: Buffer): OrgKeyMatch | undefined {
    // As for agent keys: a revocation (or a rotation's shortened expiry) holds from the next request.
    return this.#cache.get(hash.toString("hex"), () => this.#lookup(hash));
  }

  #lookup(hash: Buffer): OrgKeyMatch | undefined {
    const row = this.#byHash.get(hash) as
      | { keyId: string; orgId: string; hash: Buffer; scopes: string; expiresAt: number | null }
      | undefined;
    if (row === undefined) return undefined;
    return Object.freeze({
      keyId: row.keyId,
      orgId: row.orgId,
      hash: row.hash,
      scopes: new Set(JSON.parse(row.scopes) as Scope[]),
      expiresAt: row.expiresAt,
    });
  }

  /** Stores a new key and records it in the audit log, in one transaction. */
  create(key: NewOrgApiKey, context: AuditContext = {}): void {
    this.#db
      .transaction(() => {
        this.#insertRow(key, null);
        this.#audit?.append({
          action: "api_key.created",
          at: key.createdAt,
          actor: context.actor ?? null,
          data: {
            org_id: key.orgId,
            key_id: key.id,
            key_prefix: key.prefix,
            scopes: [...key.scopes],
            expires_at: key.expiresAt,
            request_id: context.requestId,
          },
        });
      })
      .immediate();
  }

  #insertRow(key: NewOrgApiKey, rotatedFrom: string | null): void {
    this.#insert.run({
      id: key.id,
      orgId: key.orgId,
      name: key.name,
      hash: key.hash,
      prefix: key.prefix,
      scopes: JSON.stringify(key.scopes),
      createdBy: key.createdBy,
      createdAt: key.createdAt,
      expiresAt: key.expiresAt,
      rotatedFrom,
    });
  }

  byId(orgId: string, id: string): OrgApiKeyInfo | undefined {
    const row = this.#byId.get(orgId, id) as InfoRow | undefined;
    return row === undefined ? undefined : infoOf(row);
  }

  list(orgId: string): OrgApiKeyInfo[] {
    this.flushUsage();
    return (this.#list.all(orgId) as InfoRow[]).map(infoOf);
  }

  /** Revokes a key at once; false when it is unknown in this organization or already revoked. */
  revoke(orgId: string, id: string, at: number, context: AuditContext = {}): boolean {
    return this.#db
      .transaction(() => {
        if (this.#revoke.run(at, orgId, id).changes === 0) return false;
        this.#audit?.append({
          action: "api_key.revoked",
          at,
          actor: context.actor ?? null,
          data: { org_id: orgId, key_id: id, request_id: context.requestId },
        });
        return true;
      })
      .immediate();
  }

  /**
   * Issues `next` with the old key's name, scopes and expiry, and cuts the old key's life to
   * `graceUntil` (never lengthens it), in one transaction.
   */
  rotate(
    old: OrgApiKeyInfo,
    next: NewOrgApiKey,
    graceUntil: number,
    context: AuditContext = {},
  ): number {
    return this.#db
      .transaction(() => {
        this.#insertRow(next, old.id);
        this.#shorten.run(graceUntil, old.id, graceUntil);
        const previousExpiresAt =
          old.expiresAt === null ? graceUntil : Math.min(old.expiresAt, graceUntil);
        this.#audit?.append({
          action: "api_key.rotated",
          at: next.createdAt,
          actor: context.actor ?? null,
          data: {
            org_id: old.orgId,
            key_id: next.id,
            key_prefix: next.prefix,
            rotated_from: old.id,
            previous_key_expires_at: previousExpiresAt,
            request_id: context.requestId,
          },
        });
        return previousExpiresAt;
      })
      .immediate();
  }

  /**
   * Notes that a key was used at `at`, in memory: a write per request would queue behind the
   * decision writer's lock on the request path. `flushUsage` writes the notes (every 30 s from
   * main.ts, before each listing, and when the store closes).
   */
  noteUse(id: string, at: number): void {
    const known = this.#usage.get(id);
    if (known === undefined || known < at) this.#usage.set(id, at);
  }

  /** Writes the noted last-use times in one transaction; never throws (it is bookkeeping). */
  flushUsage(): void {
    if (this.#usage.size === 0 || !this.#db.open) return;
    const notes = [...this.#usage];
    this.#usage.clear();
    try {
      this.#db.transaction(() => {
        for (const [id, at] of notes) this.#touch.run(at, id, at);
      })();
    } catch {
      // Put them back: the next flush tries again.
      for (const [id, at] of notes) this.noteUse(id, at);
    }
  }
}
