import type { AuditContext, AuditLog } from "./audit-log.js";
import type { Db } from "./db.js";
import { outboxOf } from "./webhook-outbox.js";

export type AgentStatus = "PENDING_VERIFICATION" | "ACTIVE" | "QUARANTINED";

export type AgentRecord = Readonly<{
  seq: number;
  id: string;
  name: string;
  type: string;
  description: string;
  ownerName: string;
  ownerEmail: string;
  createdAt: number;
  verifiedAt: number | null;
  quarantinedAt: number | null;
  quarantineReason: string | null;
  /** The organization that owns the agent; null for a self-registered agent. */
  orgId: string | null;
}>;

export type NewAgent = Readonly<{
  id: string;
  name: string;
  nameKey: string;
  type: string;
  description: string;
  ownerName: string;
  ownerEmail: string;
  createdAt: number;
  key: Readonly<{ id: string; hash: Buffer; prefix: string }>;
  token: Readonly<{ hash: Buffer; expiresAt: number }>;
}>;

/** An agent created inside an organization by one of its operators (or an org key). */
export type NewOrgAgent = Readonly<{
  id: string;
  orgId: string;
  orgName: string;
  name: string;
  nameKey: string;
  type: string;
  description: string;
  createdAt: number;
  key: Readonly<{ id: string; hash: Buffer; prefix: string }>;
}>;

/** Status is derived from timestamps, so it can never disagree with them. */
export function statusOf(agent: Pick<AgentRecord, "verifiedAt" | "quarantinedAt">): AgentStatus {
  if (agent.quarantinedAt !== null) return "QUARANTINED";
  return agent.verifiedAt === null ? "PENDING_VERIFICATION" : "ACTIVE";
}

export type PublicFilter = "ACTIVE" | "QUARANTINED" | "ANY_VERIFIED";

export type StatusChange = Readonly<{
  agentId: string;
  reason: string;
  actor: string;
  at: number;
  /** Recorded in the audit entry, to tie it to the request that made the change. */
  requestId?: string;
}>;

export type StatusChangeResult =
  | Readonly<{ found: false }>
  | Readonly<{ found: true; changed: boolean; agent: AgentRecord }>;

const AGENT_COLUMNS = `seq, id, name, type, description, owner_name AS ownerName,
  owner_email AS ownerEmail, created_at AS createdAt, verified_at AS verifiedAt,
  quarantined_at AS quarantinedAt, quarantine_reason AS quarantineReason, org_id AS orgId`;

/** Agents and their lifecycle: registration, verification state, quarantine. */
export class AgentRepo {
  readonly #db: Db;
  readonly #audit: AuditLog | undefined;
  readonly #insertAgent;
  readonly #insertKey;
  readonly #insertToken;
  readonly #byId;
  readonly #byOwnerAndName;
  readonly #listActive;
  readonly #listQuarantined;
  readonly #listVerified;
  readonly #setQuarantine;
  readonly #clearQuarantine;
  readonly #logChange;
  readonly #insertOrgAgent;
  readonly #listOrg;

  constructor(db: Db, audit?: AuditLog) {
    this.#db = db;
    this.#audit = audit;
    this.#insertAgent = db.prepare(
      `INSERT INTO agents (id, name, name_key, type, description, owner_name, owner_email, created_at)
       VALUES (@id, @name, @nameKey, @type, @description, @ownerName, @ownerEmail, @createdAt)`,
    );
    this.#insertKey = db.prepare(
      `INSERT INTO api_keys (id, kind, agent_id, hash, prefix, created_at)
       VALUES (?, 'agent', ?, ?, ?, ?)`,
    );
    this.#insertToken = db.prepare(
      `INSERT INTO verification_tokens (hash, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
    );
    this.#byId = db.prepare(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = ?`);
    this.#byOwnerAndName = db.prepare(
      `SELECT ${AGENT_COLUMNS} FROM agents WHERE owner_email = ? AND name_key = ?`,
    );
    const page = (where: string) =>
      db.prepare(
        `SELECT ${AGENT_COLUMNS} FROM agents WHERE seq > ? AND ${where} ORDER BY seq LIMIT ?`,
      );
    this.#listActive = page("verified_at IS NOT NULL AND quarantined_at IS NULL");
    this.#listQuarantined = page("quarantined_at IS NOT NULL");
    this.#listVerified = page("(verified_at IS NOT NULL OR quarantined_at IS NOT NULL)");
    this.#setQuarantine = db.prepare(
      `UPDATE agents SET quarantined_at = ?, quarantine_reason = ? WHERE id = ? AND quarantined_at IS NULL`,
    );
    this.#clearQuarantine = db.prepare(
      `UPDATE agents SET quarantined_at = NULL, quarantine_reason = NULL
       WHERE id = ? AND quarantined_at IS NOT NULL`,
    );
    // The organization is the owner: `owner_email` holds its id (never an address, so no mail
    // goes out and no self-registered owner can collide), and names are unique per organization.
    this.#insertOrgAgent = db.prepare(
      `INSERT INTO agents (id, name, name_key, type, description, owner_name, owner_email, created_at,
                           verified_at, org_id)
       VALUES (@id, @name, @nameKey, @type, @description, @orgName, @orgId, @createdAt, @createdAt, @orgId)`,
    );
    this.#listOrg = db.prepare(
      `SELECT ${AGENT_COLUMNS} FROM agents WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.#logChange = db.prepare(
      `INSERT INTO agent_status_changes (agent_id, status, reason, actor, at) VALUES (?, ?, ?, ?, ?)`,
    );
  }

  /**
   * Inserts the agent, its first key and its verification token, and records it in the audit
   * log, in one transaction.
   */
  register(
    agent: NewAgent,
    context: AuditContext = {},
  ): { ok: true } | { ok: false; reason: "DUPLICATE_NAME" } {
    try {
      // IMMEDIATE: the audit append reads the chain's head, which must not move before commit.
      this.#db
        .transaction(() => {
          this.#insertAgent.run(agent);
          this.#insertToken.run(agent.token.hash, agent.id, agent.createdAt, agent.token.expiresAt);
          this.#recordRegistration(agent, null, context);
        })
        .immediate();
      return { ok: true };
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        // Only the (owner_email, name_key) constraint can collide: ids and hashes are random.
        if (this.#byOwnerAndName.get(agent.ownerEmail, agent.nameKey) !== undefined) {
          return { ok: false, reason: "DUPLICATE_NAME" };
        }
      }
      throw err;
    }
  }

  /**
   * Inserts an organization's agent, active at once (its operator is authenticated: there is no
   * e-mail to verify), with its first key, the registered and verified events and the audit entry,
   * in one transaction.
   */
  createInOrg(
    agent: NewOrgAgent,
    context: AuditContext = {},
  ): { ok: true } | { ok: false; reason: "DUPLICATE_NAME" } {
    try {
      this.#db
        .transaction(() => {
          this.#insertOrgAgent.run({
            id: agent.id,
            name: agent.name,
            nameKey: agent.nameKey,
            type: agent.type,
            description: agent.description,
            orgName: agent.orgName,
            orgId: agent.orgId,
            createdAt: agent.createdAt,
          });
          this.#recordRegistration(agent, agent.orgId, context);
          outboxOf(this.#db).emit(
            "agent.verified",
            agent.id,
            { agent_id: agent.id },
            agent.createdAt,
          );
        })
        .immediate();
      return { ok: true };
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        if (this.#byOwnerAndName.get(agent.orgId, agent.nameKey) !== undefined) {
          return { ok: false, reason: "DUPLICATE_NAME" };
        }
      }
      throw err;
    }
  }

  /**
   * Inside a registration's transaction: the agent's first key, its `agent.registered` event (so
   * the event exists exactly if the agent does) and its audit entry.
   */
  #recordRegistration(
    agent: Pick<NewAgent, "id" | "name" | "type" | "createdAt" | "key">,
    orgId: string | null,
    context: AuditContext,
  ): void {
    this.#insertKey.run(agent.key.id, agent.id, agent.key.hash, agent.key.prefix, agent.createdAt);
    outboxOf(this.#db).emit("agent.registered", agent.id, { agent_id: agent.id }, agent.createdAt);
    this.#audit?.append({
      action: "agent.registered",
      at: agent.createdAt,
      agentId: agent.id,
      actor: context.actor ?? null,
      // No owner name or e-mail: the log is kept for months and holds no personal data.
      data: {
        agent_name: agent.name,
        agent_type: agent.type,
        key_prefix: agent.key.prefix,
        ...(orgId === null ? {} : { org_id: orgId }),
        request_id: context.requestId,
      },
    });
  }

  /** One page of an organization's agents after `afterSeq`, in creation order. */
  listInOrg(orgId: string, afterSeq: number, limit: number): AgentRecord[] {
    return this.#listOrg.all(orgId, afterSeq, limit) as AgentRecord[];
  }

  byId(id: string): AgentRecord | undefined {
    return this.#byId.get(id) as AgentRecord | undefined;
  }

  byOwnerAndName(ownerEmail: string, nameKey: string): AgentRecord | undefined {
    return this.#byOwnerAndName.get(ownerEmail, nameKey) as AgentRecord | undefined;
  }

  /** One page of agents after `afterSeq`, in registration order. */
  listPublic(filter: PublicFilter, afterSeq: number, limit: number): AgentRecord[] {
    const stmt =
      filter === "ACTIVE"
        ? this.#listActive
        : filter === "QUARANTINED"
          ? this.#listQuarantined
          : this.#listVerified;
    return stmt.all(afterSeq, limit) as AgentRecord[];
  }

  /** Quarantines an agent; idempotent (a second call changes nothing and says so). */
  quarantine(change: StatusChange): StatusChangeResult {
    return this.#changeStatus(change, "QUARANTINED", () =>
      this.#setQuarantine.run(change.at, change.reason, change.agentId),
    );
  }

  /** Lifts a quarantine; idempotent. */
  unquarantine(change: StatusChange): StatusChangeResult {
    return this.#changeStatus(change, "UNQUARANTINED", () =>
      this.#clearQuarantine.run(change.agentId),
    );
  }

  #changeStatus(
    change: StatusChange,
    status: string,
    apply: () => { changes: number },
  ): StatusChangeResult {
    // IMMEDIATE: a read-then-write transaction that starts deferred cannot wait for another
    // process's write lock (SQLITE_BUSY at once); taking the lock first lets busy_timeout work.
    return this.#db
      .transaction((): StatusChangeResult => {
        if (this.byId(change.agentId) === undefined) return { found: false };
        const changed = apply().changes > 0;
        if (changed) {
          this.#logChange.run(change.agentId, status, change.reason, change.actor, change.at);
          // Webhook outbox, same transaction. No reason in the payload: it is free text.
          outboxOf(this.#db).emit(
            status === "QUARANTINED" ? "agent.quarantined" : "agent.unquarantined",
            change.agentId,
            { agent_id: change.agentId, automatic: change.actor === "auto-quarantine" },
            change.at,
          );
          this.#audit?.append({
            action: status === "QUARANTINED" ? "agent.quarantined" : "agent.unquarantined",
            at: change.at,
            agentId: change.agentId,
            actor: change.actor,
            data: { reason: change.reason, request_id: change.requestId },
          });
        }
        return { found: true, changed, agent: this.byId(change.agentId)! };
      })
      .immediate();
  }
}
