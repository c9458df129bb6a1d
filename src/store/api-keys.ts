import type { AgentRecord } from "./agents.js";
import type { AuditContext, AuditLog } from "./audit-log.js";
import { MarkedCache } from "./change-mark.js";
import type { Db } from "./db.js";

export type KeyKind = "agent" | "admin";

/** A live (unrevoked) key found by its hash, with its agent when it is an agent key. */
export type KeyMatch = Readonly<{
  keyId: string;
  kind: KeyKind;
  hash: Buffer;
  agent: AgentRecord | null;
}>;

export type AdminKeyInfo = Readonly<{
  id: string;
  name: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}>;

type KeyRow = {
  keyId: string;
  kind: KeyKind;
  hash: Buffer;
} & { [K in keyof AgentRecord]: AgentRecord[K] | null };

/** API keys: stored only as SHA-256 hashes with a short display prefix. */
export class ApiKeyRepo {
  readonly #db: Db;
  readonly #audit: AuditLog | undefined;
  readonly #byHash;
  readonly #revokeAgentKeys;
  readonly #insertAgentKey;
  readonly #insertAdmin;
  readonly #listAdmin;
  readonly #revokeAdmin;
  readonly #agentKeyPrefix;
  /** Live keys by hex hash. */
  readonly #cache: MarkedCache<KeyMatch>;

  constructor(db: Db, audit?: AuditLog) {
    this.#db = db;
    this.#audit = audit;
    this.#cache = new MarkedCache(db);
    this.#byHash = db.prepare(
      `SELECT k.id AS keyId, k.kind, k.hash, a.seq, a.id, a.name, a.type, a.description,
              a.owner_name AS ownerName, a.owner_email AS ownerEmail, a.created_at AS createdAt,
              a.verified_at AS verifiedAt, a.quarantined_at AS quarantinedAt,
              a.quarantine_reason AS quarantineReason, a.org_id AS orgId
         FROM api_keys k LEFT JOIN agents a ON a.id = k.agent_id
        WHERE k.hash = ? AND k.revoked_at IS NULL`,
    );
    this.#revokeAgentKeys = db.prepare(
      `UPDATE api_keys SET revoked_at = ? WHERE agent_id = ? AND revoked_at IS NULL`,
    );
    this.#insertAgentKey = db.prepare(
      `INSERT INTO api_keys (id, kind, agent_id, hash, prefix, created_at) VALUES (?, 'agent', ?, ?, ?, ?)`,
    );
    this.#insertAdmin = db.prepare(
      `INSERT INTO api_keys (id, kind, name, hash, prefix, created_at) VALUES (?, 'admin', ?, ?, ?, ?)`,
    );
    this.#listAdmin = db.prepare(
      `SELECT id, name, prefix, created_at AS createdAt, revoked_at AS revokedAt
         FROM api_keys WHERE kind = 'admin' ORDER BY created_at`,
    );
    this.#revokeAdmin = db.prepare(
      `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND kind = 'admin' AND revoked_at IS NULL`,
    );
    this.#agentKeyPrefix = db
      .prepare(
        `SELECT prefix FROM api_keys WHERE agent_id = ? AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1`,
      )
      .pluck();
  }

  /** The live key with this hash, or undefined. The caller still compares hashes in constant time. */
  findByHash(hash: Buffer): KeyMatch | undefined {
    // Under load the lookup was a measured tenth of a request; the cache never outlives a write.
    return this.#cache.get(hash.toString("hex"), () => this.#lookup(hash));
  }

  #lookup(hash: Buffer): KeyMatch | undefined {
    const row = this.#byHash.get(hash) as KeyRow | undefined;
    if (row === undefined) return undefined;
    const agent =
      row.kind === "agent"
        ? ({
            seq: row.seq,
            id: row.id,
            name: row.name,
            type: row.type,
            description: row.description,
            ownerName: row.ownerName,
            ownerEmail: row.ownerEmail,
            createdAt: row.createdAt,
            verifiedAt: row.verifiedAt,
            quarantinedAt: row.quarantinedAt,
            quarantineReason: row.quarantineReason,
            orgId: row.orgId,
          } as AgentRecord)
        : null;
    // Shared by every request that presents the key while it is cached: nobody may change it.
    if (agent !== null) Object.freeze(agent);
    return Object.freeze({ keyId: row.keyId, kind: row.kind, hash: row.hash, agent });
  }

  /** Replaces an agent's key: the old one stops working in the same transaction. */
  rotateAgentKey(
    agentId: string,
    key: Readonly<{ id: string; hash: Buffer; prefix: string }>,
    at: number,
    context: AuditContext = {},
  ): void {
    // IMMEDIATE: the audit append reads the chain's head, which must not move before commit.
    this.#db
      .transaction(() => {
        this.#revokeAgentKeys.run(at, agentId);
        this.#insertAgentKey.run(key.id, agentId, key.hash, key.prefix, at);
        this.#audit?.append({
          action: "agent.key_rotated",
          at,
          agentId,
          actor: context.actor ?? null,
          data: { key_id: key.id, key_prefix: key.prefix, request_id: context.requestId },
        });
      })
      .immediate();
  }

  agentKeyPrefix(agentId: string): string | undefined {
    return this.#agentKeyPrefix.get(agentId) as string | undefined;
  }

  createAdmin(
    key: Readonly<{ id: string; name: string; hash: Buffer; prefix: string }>,
    at: number,
    context: AuditContext = {},
  ): void {
    this.#db
      .transaction(() => {
        this.#insertAdmin.run(key.id, key.name, key.hash, key.prefix, at);
        this.#audit?.append({
          action: "admin_key.created",
          at,
          actor: context.actor ?? null,
          data: { key_id: key.id, name: key.name, key_prefix: key.prefix },
        });
      })
      .immediate();
  }

  listAdmin(): AdminKeyInfo[] {
    return this.#listAdmin.all() as AdminKeyInfo[];
  }

  /** Revokes an admin key; false when there is no live admin key with that id. */
  revokeAdmin(id: string, at: number, context: AuditContext = {}): boolean {
    return this.#db
      .transaction(() => {
        const revoked = this.#revokeAdmin.run(at, id).changes > 0;
        if (revoked) {
          this.#audit?.append({
            action: "admin_key.revoked",
            at,
            actor: context.actor ?? null,
            data: { key_id: id },
          });
        }
        return revoked;
      })
      .immediate();
  }
}
