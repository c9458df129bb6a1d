import type { AuditContext, AuditLog } from "./audit-log.js";
import { type ChangeMark, changeMarker } from "./change-mark.js";
import type { Db } from "./db.js";
import { outboxOf } from "./webhook-outbox.js";

/** An issued passport as stored: never the token itself, only its SHA-256. */
export type NewPassport = Readonly<{
  id: string;
  agentId: string;
  kid: string;
  tokenHash: Buffer;
  operator: string;
  jurisdiction: string;
  policyId: string;
  policyHash: string;
  /** The key id (agent key or admin key) that asked for it. */
  issuedBy: string;
  issuedAt: number;
  expiresAt: number;
}>;

/**
 * What decides, on every use, whether a signature-valid passport may still be honoured: a bit
 * set (REVOKED, AGENT_QUARANTINED), read as one integer because this runs on every protect call.
 */
export const PASSPORT_REVOKED = 1;
export const PASSPORT_AGENT_QUARANTINED = 2;

export type RevokeRequest = Readonly<{
  agentId: string;
  /** One passport; when absent, every passport of the agent issued up to `at`. */
  passportId?: string;
  reason: string;
  actor: string;
  at: number;
}>;

export type RevokeResult =
  | Readonly<{ found: false }>
  | Readonly<{ found: true; revocationId: number; passportIds: readonly string[] }>;

/** One entry of the public revocation list. */
export type RevocationEntry = Readonly<{
  seq: number;
  passportId: string;
  agentId: string;
  revokedAt: number;
  expiresAt: number;
}>;

/** Issued passports and their revocations; every write is a synchronous transaction. */
export class PassportRepo {
  readonly #db: Db;
  readonly #audit: AuditLog | undefined;
  readonly #insert;
  readonly #state;
  readonly #ownedBy;
  readonly #unrevokedOf;
  readonly #unrevokedOne;
  readonly #insertRevocation;
  readonly #insertRevoked;
  readonly #markRevoked;
  readonly #list;
  readonly #kidInUse;
  readonly #changeMark: () => ChangeMark;

  constructor(db: Db, audit?: AuditLog) {
    this.#db = db;
    this.#audit = audit;
    this.#insert = db.prepare(
      `INSERT INTO passports (id, agent_id, kid, token_sha256, operator, jurisdiction, policy_id,
         policy_hash, issued_by, issued_at, expires_at)
       VALUES (@id, @agentId, @kid, @tokenHash, @operator, @jurisdiction, @policyId,
         @policyHash, @issuedBy, @issuedAt, @expiresAt)`,
    );
    this.#state = db
      .prepare(
        `SELECT (p.revoked_at IS NOT NULL) | ((a.quarantined_at IS NOT NULL) << 1)
           FROM passports p JOIN agents a ON a.id = p.agent_id
          WHERE p.id = ? AND p.agent_id = ?`,
      )
      .pluck();
    this.#ownedBy = db.prepare(`SELECT 1 FROM passports WHERE id = ? AND agent_id = ?`).pluck();
    this.#unrevokedOf = db
      .prepare(
        `SELECT id FROM passports WHERE agent_id = ? AND revoked_at IS NULL AND issued_at <= ?
          ORDER BY issued_at, id`,
      )
      .pluck();
    this.#unrevokedOne = db
      .prepare(`SELECT id FROM passports WHERE id = ? AND revoked_at IS NULL`)
      .pluck();
    this.#insertRevocation = db.prepare(
      `INSERT INTO revocations (agent_id, passport_id, reason, actor, revoked, at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#insertRevoked = db.prepare(
      `INSERT INTO revoked_passports (passport_id, revocation_seq) VALUES (?, ?)`,
    );
    this.#markRevoked = db.prepare(
      `UPDATE passports SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
    );
    this.#list = db.prepare(
      `SELECT r.seq, r.passport_id AS passportId, p.agent_id AS agentId,
              p.revoked_at AS revokedAt, p.expires_at AS expiresAt
         FROM revoked_passports r JOIN passports p ON p.id = r.passport_id
        WHERE r.seq > ? AND p.expires_at > ?
        ORDER BY r.seq LIMIT ?`,
    );
    this.#changeMark = changeMarker(db);
    this.#kidInUse = db
      .prepare(`SELECT 1 FROM passports WHERE kid = ? AND expires_at > ? LIMIT 1`)
      .pluck();
  }

  /** The database's change mark (see ChangeMark): equal marks, nothing written in between. */
  changeMark(): ChangeMark {
    return this.#changeMark();
  }

  /** Records an issued passport and its audit entry (durable before the token is handed out). */
  insert(passport: NewPassport, context: AuditContext = {}): void {
    this.#db
      .transaction(() => {
        this.#insert.run(passport);
        // Webhook outbox, same transaction. Never the token: ids and times only.
        outboxOf(this.#db).emit(
          "passport.issued",
          passport.agentId,
          {
            agent_id: passport.agentId,
            passport_id: passport.id,
            expires_at: new Date(passport.expiresAt).toISOString(),
          },
          passport.issuedAt,
        );
        this.#audit?.append({
          action: "passport.issued",
          at: passport.issuedAt,
          agentId: passport.agentId,
          actor: passport.issuedBy,
          data: {
            passport_id: passport.id,
            kid: passport.kid,
            operator: passport.operator,
            jurisdiction: passport.jurisdiction,
            policy_id: passport.policyId,
            policy_hash: passport.policyHash,
            expires_at: new Date(passport.expiresAt).toISOString(),
            request_id: context.requestId,
          },
        });
      })
      .immediate();
  }

  /**
   * PASSPORT_REVOKED and PASSPORT_AGENT_QUARANTINED bits of the agent's passport (0: neither);
   * undefined when this gateway never issued that passport to that agent.
   */
  state(passportId: string, agentId: string): number | undefined {
    return this.#state.get(passportId, agentId) as number | undefined;
  }

  /**
   * Revokes one passport of the agent, or all it holds up to `at`, in one transaction that also
   * records who did it and why. `found: false` when the named passport is not the agent's.
   */
  revoke(request: RevokeRequest, context: AuditContext = {}): RevokeResult {
    // IMMEDIATE: a read-then-write transaction started deferred fails at once with SQLITE_BUSY
    // when another process wrote meanwhile; taking the write lock first lets busy_timeout wait.
    return this.#db
      .transaction((): RevokeResult => {
        const { agentId, passportId, reason, actor, at } = request;
        let ids: string[];
        if (passportId !== undefined) {
          if (this.#ownedBy.get(passportId, agentId) === undefined) return { found: false };
          ids = this.#unrevokedOne.all(passportId) as string[];
        } else {
          ids = this.#unrevokedOf.all(agentId, at) as string[];
        }
        const revocationId = Number(
          this.#insertRevocation.run(agentId, passportId ?? null, reason, actor, ids.length, at)
            .lastInsertRowid,
        );
        for (const id of ids) {
          this.#markRevoked.run(at, id);
          this.#insertRevoked.run(id, revocationId);
          // Webhook outbox, same transaction: one event per passport revoked.
          outboxOf(this.#db).emit(
            "passport.revoked",
            agentId,
            { agent_id: agentId, passport_id: id, revocation_id: revocationId },
            at,
          );
        }
        this.#audit?.append({
          action: "passport.revoked",
          at,
          agentId,
          actor,
          data: {
            passport_id: passportId,
            passport_ids: ids,
            revocation_id: revocationId,
            reason,
            request_id: context.requestId,
          },
        });
        return { found: true, revocationId, passportIds: ids };
      })
      .immediate();
  }

  /** Revoked passports not yet expired at `now`, in revocation order, after `afterSeq`. */
  revocations(afterSeq: number, now: number, limit: number): RevocationEntry[] {
    return this.#list.all(afterSeq, now, limit) as RevocationEntry[];
  }

  /** True when key `kid` signed a passport still valid at `at`: its public key must stay published. */
  kidInUse(kid: string, at: number): boolean {
    return this.#kidInUse.get(kid, at) !== undefined;
  }
}
