import type { AuditContext, AuditLog } from "./audit-log.js";
import type { Db } from "./db.js";
import { outboxOf } from "./webhook-outbox.js";

export type ConsumeResult =
  | Readonly<{ ok: true; agentId: string }>
  | Readonly<{ ok: false; reason: "UNKNOWN" | "USED" | "EXPIRED" }>;

type TokenRow = { agentId: string; expiresAt: number; usedAt: number | null };

/** E-mail verification tokens: hashed, single use, expiring. */
export class VerificationTokenRepo {
  readonly #db: Db;
  readonly #audit: AuditLog | undefined;
  readonly #byHash;
  readonly #markUsed;
  readonly #verifyAgent;
  readonly #retireForAgent;
  readonly #insert;

  constructor(db: Db, audit?: AuditLog) {
    this.#db = db;
    this.#audit = audit;
    this.#byHash = db.prepare(
      `SELECT agent_id AS agentId, expires_at AS expiresAt, used_at AS usedAt
         FROM verification_tokens WHERE hash = ?`,
    );
    this.#markUsed = db.prepare(
      `UPDATE verification_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
    );
    this.#verifyAgent = db.prepare(
      `UPDATE agents SET verified_at = ? WHERE id = ? AND verified_at IS NULL`,
    );
    this.#retireForAgent = db.prepare(
      `UPDATE verification_tokens SET used_at = ? WHERE agent_id = ? AND used_at IS NULL`,
    );
    this.#insert = db.prepare(
      `INSERT INTO verification_tokens (hash, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
    );
  }

  /** Spends a token and marks its agent verified, atomically; a token works once. */
  consume(hash: Buffer, now: number, context: AuditContext = {}): ConsumeResult {
    // IMMEDIATE: read-then-write; see AgentRepo#changeStatus.
    return this.#db
      .transaction((): ConsumeResult => {
        const row = this.#byHash.get(hash) as TokenRow | undefined;
        if (row === undefined) return { ok: false, reason: "UNKNOWN" };
        if (row.usedAt !== null) return { ok: false, reason: "USED" };
        if (now >= row.expiresAt) return { ok: false, reason: "EXPIRED" };
        this.#markUsed.run(now, hash);
        const verified = this.#verifyAgent.run(now, row.agentId).changes > 0;
        // Webhook outbox, same transaction.
        if (verified) {
          outboxOf(this.#db).emit("agent.verified", row.agentId, { agent_id: row.agentId }, now);
        }
        this.#audit?.append({
          action: "agent.verified",
          at: now,
          agentId: row.agentId,
          actor: context.actor ?? null,
          data: { request_id: context.requestId },
        });
        return { ok: true, agentId: row.agentId };
      })
      .immediate();
  }

  /** Retires an agent's outstanding tokens and stores a new one (resending the e-mail). */
  reissue(agentId: string, hash: Buffer, now: number, expiresAt: number): void {
    this.#db.transaction(() => {
      this.#retireForAgent.run(now, agentId);
      this.#insert.run(hash, agentId, now, expiresAt);
    })();
  }
}
