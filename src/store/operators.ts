import type Database from "better-sqlite3";
import { sha256Text } from "../crypto/sha256.js";
import type { AuditContext, AuditLog } from "./audit-log.js";
import type { Db } from "./db.js";
import type { MembershipView, OrganizationRepo } from "./organizations.js";

/** A prepared statement taking positional parameters. */
type Statement = Database.Statement<unknown[]>;

/** An operator account as routes see it; the password hash stays behind `credentialsOf`. */
export type OperatorRecord = Readonly<{
  id: string;
  email: string;
  name: string;
  createdAt: number;
  /** When the operator proved they own the address; null until then. */
  verifiedAt: number | null;
}>;

export type NewOperator = Readonly<{
  id: string;
  /** Stored lower-cased: one account per address, whatever its spelling. */
  email: string;
  name: string;
  /** The encoded scrypt hash (crypto/password.ts); never the password. */
  passwordHash: string;
  createdAt: number;
}>;

/** The organization a signup creates, owned by the new operator. */
export type NewSignupOrganization = Readonly<{ id: string; name: string }>;

export type SignupResult = Readonly<{ ok: true }> | Readonly<{ ok: false; reason: "EMAIL_TAKEN" }>;

/** An e-mail verification token as stored: its SHA-256 only, single use, expiring. */
export type EmailToken = Readonly<{ hash: Buffer; expiresAt: number }>;

export type VerifyEmailResult =
  | Readonly<{ ok: true; operatorId: string }>
  | Readonly<{ ok: false; reason: "UNKNOWN" | "USED" | "EXPIRED" }>;

/** A refresh token as stored: its SHA-256 only. */
export type RefreshTokenRow = Readonly<{ hash: Buffer; expiresAt: number }>;

export type NewSession = Readonly<{
  id: string;
  operatorId: string;
  refresh: RefreshTokenRow;
  createdAt: number;
}>;

/** Why a session ended, as recorded on the row and in the audit entry. */
export type SessionRevokeReason =
  | "logout"
  | "refresh_token_reused"
  | "password_changed"
  | "password_reset";

export type RotateResult =
  | Readonly<{ ok: true; sessionId: string; operatorId: string }>
  /**
   * `unknown`, `expired`, `revoked` (its session ended) or `reused`: a spent token came back,
   * so someone else holds the family; the session has been revoked (and that committed).
   */
  | Readonly<{ ok: false; reason: "unknown" | "expired" | "revoked" | "reused" }>;

export type LogoutResult =
  | Readonly<{ ok: true; sessionId: string; operatorId: string }>
  | Readonly<{ ok: false }>;

type TokenRow = {
  sessionId: string;
  expiresAt: number;
  usedAt: number | null;
  operatorId: string;
  revokedAt: number | null;
};

const OPERATOR_COLUMNS = "id, email, name, created_at AS createdAt, verified_at AS verifiedAt";

/** Operator accounts, their sessions (refresh-token families) and the refresh tokens in them. */
export class OperatorRepo {
  readonly #db: Db;
  readonly #audit: AuditLog | undefined;
  readonly #organizations: OrganizationRepo;
  readonly #insertOperator;
  readonly #byEmail;
  readonly #byId;
  readonly #credentials;
  readonly #setPasswordHash;
  readonly #insertSession;
  readonly #insertToken;
  readonly #tokenByHash;
  readonly #spendToken;
  readonly #revokeSession;
  readonly #sessionActive;
  readonly #sessionOperator;
  readonly #insertEmailToken;
  readonly #emailToken;
  readonly #spendEmailToken;
  readonly #retireEmailTokens;
  readonly #markVerified;
  readonly #insertResetToken;
  readonly #resetToken;
  readonly #spendResetToken;
  readonly #retireResetTokens;
  readonly #liveSessions;

  constructor(db: Db, organizations: OrganizationRepo, audit?: AuditLog) {
    this.#db = db;
    this.#audit = audit;
    this.#organizations = organizations;
    this.#insertOperator = db.prepare(
      `INSERT INTO operators (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
    );
    this.#byEmail = db.prepare(`SELECT ${OPERATOR_COLUMNS} FROM operators WHERE email = ?`);
    this.#byId = db.prepare(`SELECT ${OPERATOR_COLUMNS} FROM operators WHERE id = ?`);
    this.#credentials = db.prepare(
      `SELECT id, password_hash AS passwordHash FROM operators WHERE email = ?`,
    );
    this.#setPasswordHash = db.prepare(`UPDATE operators SET password_hash = ? WHERE id = ?`);
    this.#insertEmailToken = db.prepare(
      `INSERT INTO operator_email_tokens (hash, operator_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
    );
    this.#emailToken = db.prepare(
      `SELECT operator_id AS operatorId, expires_at AS expiresAt, used_at AS usedAt
         FROM operator_email_tokens WHERE hash = ?`,
    );
    this.#spendEmailToken = db.prepare(
      `UPDATE operator_email_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
    );
    this.#retireEmailTokens = db.prepare(
      `UPDATE operator_email_tokens SET used_at = ? WHERE operator_id = ? AND used_at IS NULL`,
    );
    this.#markVerified = db.prepare(
      `UPDATE operators SET verified_at = ? WHERE id = ? AND verified_at IS NULL`,
    );
    this.#insertResetToken = db.prepare(
      `INSERT INTO operator_password_tokens (hash, operator_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
    );
    this.#resetToken = db.prepare(
      `SELECT operator_id AS operatorId, expires_at AS expiresAt, used_at AS usedAt
         FROM operator_password_tokens WHERE hash = ?`,
    );
    this.#spendResetToken = db.prepare(
      `UPDATE operator_password_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
    );
    this.#retireResetTokens = db.prepare(
      `UPDATE operator_password_tokens SET used_at = ? WHERE operator_id = ? AND used_at IS NULL`,
    );
    this.#liveSessions = db
      .prepare(`SELECT id FROM operator_sessions WHERE operator_id = ? AND revoked_at IS NULL`)
      .pluck();
    this.#insertSession = db.prepare(
      `INSERT INTO operator_sessions (id, operator_id, created_at) VALUES (?, ?, ?)`,
    );
    this.#insertToken = db.prepare(
      `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
    );
    this.#tokenByHash = db.prepare(
      `SELECT t.session_id AS sessionId, t.expires_at AS expiresAt, t.used_at AS usedAt,
              s.operator_id AS operatorId, s.revoked_at AS revokedAt
         FROM refresh_tokens t JOIN operator_sessions s ON s.id = t.session_id
        WHERE t.hash = ?`,
    );
    this.#spendToken = db.prepare(
      `UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
    );
    this.#revokeSession = db.prepare(
      `UPDATE operator_sessions SET revoked_at = ?, revoked_reason = ?
        WHERE id = ? AND revoked_at IS NULL RETURNING operator_id AS operatorId`,
    );
    this.#sessionActive = db
      .prepare(`SELECT 1 FROM operator_sessions WHERE id = ? AND revoked_at IS NULL`)
      .pluck();
    this.#sessionOperator = db.prepare(
      `SELECT o.id, o.email, o.name, o.created_at AS createdAt, o.verified_at AS verifiedAt
         FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
        WHERE s.id = ? AND s.operator_id = ? AND s.revoked_at IS NULL`,
    );
  }

  /**
   * Creates the operator, their organization and their owner membership, with the audit
   * entries `operator.signed_up` and `organization.created`, in one transaction.
   */
  signup(
    operator: NewOperator,
    organization: NewSignupOrganization,
    verification: EmailToken,
    context: AuditContext = {},
  ): SignupResult {
    const email = operator.email.toLowerCase();
    try {
      // IMMEDIATE: the audit appends read the chain's head, which must not move before commit.
      this.#db
        .transaction(() => {
          this.#insertOperator.run(
            operator.id,
            email,
            operator.name,
            operator.passwordHash,
            operator.createdAt,
          );
          this.#insertEmailToken.run(
            verification.hash,
            operator.id,
            operator.createdAt,
            verification.expiresAt,
          );
          this.#audit?.append({
            action: "operator.signed_up",
            at: operator.createdAt,
            actor: operator.id,
            // No name or e-mail: the log is kept for months and holds no personal data.
            data: { operator_id: operator.id, request_id: context.requestId },
          });
          // Nested: a savepoint of this transaction, so all of it commits or none does.
          this.#organizations.create(
            {
              id: organization.id,
              name: organization.name,
              createdBy: operator.id,
              createdAt: operator.createdAt,
            },
            { actor: operator.id, requestId: context.requestId },
          );
        })
        .immediate();
      return { ok: true };
    } catch (err) {
      // Ids are random: only the e-mail can collide.
      if (
        (err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE" &&
        this.#byEmail.get(email) !== undefined
      ) {
        return { ok: false, reason: "EMAIL_TAKEN" };
      }
      throw err;
    }
  }

  /** The operator with this e-mail (compared lower-cased). */
  byEmail(email: string): OperatorRecord | undefined {
    return this.#byEmail.get(email.toLowerCase()) as OperatorRecord | undefined;
  }

  byId(id: string): OperatorRecord | undefined {
    return this.#byId.get(id) as OperatorRecord | undefined;
  }

  /** The id and encoded password hash for a login; nothing else reads the hash. */
  credentialsOf(email: string): Readonly<{ id: string; passwordHash: string }> | undefined {
    return this.#credentials.get(email.toLowerCase()) as
      | { id: string; passwordHash: string }
      | undefined;
  }

  /** Replaces a password hash (a rehash with stronger parameters after a successful login). */
  updatePasswordHash(operatorId: string, passwordHash: string): void {
    this.#setPasswordHash.run(passwordHash, operatorId);
  }

  /** Every organization the operator belongs to, with their role, oldest first. */
  organizationsOf(operatorId: string): MembershipView[] {
    return this.#organizations.forOperator(operatorId);
  }

  /**
   * Records a failed login. Never the password, never the address: the operator id when the
   * account exists, else the address's SHA-256 (enough to see one address being tried).
   */
  loginFailed(
    failure: Readonly<{ operatorId: string | null; email: string; at: number }>,
    context: AuditContext = {},
  ): void {
    this.#audit?.append({
      action: "operator.login_failed",
      at: failure.at,
      actor: failure.operatorId,
      data:
        failure.operatorId === null
          ? {
              email_sha256: sha256Text(failure.email.toLowerCase(), "hex"),
              request_id: context.requestId,
            }
          : { operator_id: failure.operatorId, request_id: context.requestId },
    });
  }

  /** Starts a session (a refresh-token family) with its first refresh token. */
  createSession(session: NewSession): void {
    this.#db
      .transaction(() => {
        this.#insertSession.run(session.id, session.operatorId, session.createdAt);
        this.#insertToken.run(
          session.refresh.hash,
          session.id,
          session.createdAt,
          session.refresh.expiresAt,
        );
      })
      .immediate();
  }

  /**
   * Spends the refresh token with hash `presented` and adds `next` to its session. A token
   * already spent is a replay (the legitimate client got a successor, so one of the two holders
   * is not legitimate): the whole session is revoked, which also ends its access tokens.
   */
  rotateRefresh(
    presented: Buffer,
    next: RefreshTokenRow,
    at: number,
    context: AuditContext = {},
  ): RotateResult {
    // IMMEDIATE: two concurrent refreshes with one token must not both see it unspent.
    return this.#db
      .transaction((): RotateResult => {
        const row = this.#tokenByHash.get(presented) as TokenRow | undefined;
        if (row === undefined) return { ok: false, reason: "unknown" };
        if (row.revokedAt !== null) return { ok: false, reason: "revoked" };
        if (row.usedAt !== null) {
          this.#revoke(row.sessionId, "refresh_token_reused", at, context);
          return { ok: false, reason: "reused" };
        }
        if (at >= row.expiresAt) return { ok: false, reason: "expired" };
        this.#spendToken.run(at, presented);
        this.#insertToken.run(next.hash, row.sessionId, at, next.expiresAt);
        return { ok: true, sessionId: row.sessionId, operatorId: row.operatorId };
      })
      .immediate();
  }

  /**
   * Ends the session the refresh token belongs to (logout). Any token of a live session will
   * do, spent or expired: ending a session is never a risk.
   */
  logout(presented: Buffer, at: number, context: AuditContext = {}): LogoutResult {
    return this.#db
      .transaction((): LogoutResult => {
        const row = this.#tokenByHash.get(presented) as TokenRow | undefined;
        if (row === undefined || row.revokedAt !== null) return { ok: false };
        this.#revoke(row.sessionId, "logout", at, context);
        return { ok: true, sessionId: row.sessionId, operatorId: row.operatorId };
      })
      .immediate();
  }

  /** Revokes a session, audited; false when it does not exist or had already ended. */
  revokeSession(
    sessionId: string,
    reason: SessionRevokeReason,
    at: number,
    context: AuditContext = {},
  ): boolean {
    return this.#db.transaction(() => this.#revoke(sessionId, reason, at, context)).immediate();
  }

  #revoke(
    sessionId: string,
    reason: SessionRevokeReason,
    at: number,
    context: AuditContext,
  ): boolean {
    const ended = this.#revokeSession.get(at, reason, sessionId) as
      | { operatorId: string }
      | undefined;
    if (ended === undefined) return false;
    this.#audit?.append({
      action: "operator.session_revoked",
      at,
      actor: context.actor ?? ended.operatorId,
      data: {
        operator_id: ended.operatorId,
        session_id: sessionId,
        reason,
        request_id: context.requestId,
      },
    });
    return true;
  }

  /** True while the session has not been revoked; one indexed lookup. */
  isSessionActive(sessionId: string): boolean {
    return this.#sessionActive.get(sessionId) === 1;
  }

  /**
   * The operator of a live session, in one indexed lookup (checked on every operator request):
   * undefined when the session was revoked, is another operator's, or either does not exist.
   */
  sessionOperator(sessionId: string, operatorId: string): OperatorRecord | undefined {
    return this.#sessionOperator.get(sessionId, operatorId) as OperatorRecord | undefined;
  }

  /** Spends an e-mail token and marks its operator verified, audited, atomically; it works once. */
  verifyEmail(hash: Buffer, now: number, context: AuditContext = {}): VerifyEmailResult {
    return this.#db
      .transaction((): VerifyEmailResult => {
        const spent = this.#spend(this.#emailToken, this.#spendEmailToken, hash, now);
        if (spent.ok) this.#verified(spent.operatorId, now, context);
        return spent;
      })
      .immediate();
  }

  /** Retires an operator's outstanding e-mail tokens and stores a new one (a resent mail). */
  reissueEmailToken(operatorId: string, token: EmailToken, now: number): void {
    this.#reissue(this.#retireEmailTokens, this.#insertEmailToken, operatorId, token, now);
  }

  /**
   * Sets a new password hash and ends every live session of the operator but `keepSessionId`
   * (the one that asked, when changing a known password), audited, in one transaction.
   */
  changePassword(
    operatorId: string,
    passwordHash: string,
    keepSessionId: string | null,
    at: number,
    context: AuditContext = {},
  ): void {
    this.#db
      .transaction(() => {
        this.#setPasswordHash.run(passwordHash, operatorId);
        this.#endSessions(operatorId, keepSessionId, "password_changed", at, context);
        this.#audit?.append({
          action: "operator.password_changed",
          at,
          actor: context.actor ?? operatorId,
          data: { operator_id: operatorId, request_id: context.requestId },
        });
      })
      .immediate();
  }

  /** Retires an operator's outstanding reset tokens and stores a new one (a mailed reset link). */
  issuePasswordReset(operatorId: string, token: EmailToken, now: number): void {
    this.#reissue(this.#retireResetTokens, this.#insertResetToken, operatorId, token, now);
  }

  /**
   * Spends a reset token: the new password hash, the address verified (the link reached its
   * mailbox), every session ended, audited, all in one transaction; a token works once.
   */
  resetPassword(
    hash: Buffer,
    passwordHash: string,
    now: number,
    context: AuditContext = {},
  ): VerifyEmailResult {
    return this.#db
      .transaction((): VerifyEmailResult => {
        const spent = this.#spend(this.#resetToken, this.#spendResetToken, hash, now);
        if (!spent.ok) return spent;
        const { operatorId } = spent;
        this.#setPasswordHash.run(passwordHash, operatorId);
        this.#endSessions(operatorId, null, "password_reset", now, context);
        this.#audit?.append({
          action: "operator.password_reset",
          at: now,
          actor: operatorId,
          data: { operator_id: operatorId, request_id: context.requestId },
        });
        this.#verified(operatorId, now, context);
        return spent;
      })
      .immediate();
  }

  /** Retires an operator's outstanding tokens of one kind and stores a new one, atomically. */
  #reissue(
    retire: Statement,
    insert: Statement,
    operatorId: string,
    token: EmailToken,
    now: number,
  ): void {
    this.#db
      .transaction(() => {
        retire.run(now, operatorId);
        insert.run(token.hash, operatorId, now, token.expiresAt);
      })
      .immediate();
  }

  /** Inside a transaction: spends a mailed single-use token (its row read by `lookup`). */
  #spend(lookup: Statement, spend: Statement, hash: Buffer, now: number): VerifyEmailResult {
    const row = lookup.get(hash) as
      | { operatorId: string; expiresAt: number; usedAt: number | null }
      | undefined;
    if (row === undefined) return { ok: false, reason: "UNKNOWN" };
    if (row.usedAt !== null) return { ok: false, reason: "USED" };
    if (now >= row.expiresAt) return { ok: false, reason: "EXPIRED" };
    spend.run(now, hash);
    return { ok: true, operatorId: row.operatorId };
  }

  /** Inside a transaction: marks the address verified, audited the first time only. */
  #verified(operatorId: string, now: number, context: AuditContext): void {
    if (this.#markVerified.run(now, operatorId).changes === 0) return;
    this.#audit?.append({
      action: "operator.verified",
      at: now,
      actor: operatorId,
      data: { operator_id: operatorId, request_id: context.requestId },
    });
  }

  #endSessions(
    operatorId: string,
    keepSessionId: string | null,
    reason: SessionRevokeReason,
    at: number,
    context: AuditContext,
  ): void {
    for (const sessionId of this.#liveSessions.all(operatorId) as string[]) {
      if (sessionId !== keepSessionId) this.#revoke(sessionId, reason, at, context);
    }
  }

  /** True while a reset token is unspent and unexpired (a cheap check before hashing a password). */
  passwordResetUsable(hash: Buffer, now: number): boolean {
    const row = this.#resetToken.get(hash) as
      | { expiresAt: number; usedAt: number | null }
      | undefined;
    return row !== undefined && row.usedAt === null && now < row.expiresAt;
  }
}
