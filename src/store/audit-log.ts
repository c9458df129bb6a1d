import {
  type AuditAction,
  type AuditCheckpoint,
  type AuditDecision,
  type AuditEntry,
  CHECKPOINT_TYP,
  type CheckpointClaims,
  canonicalJson,
  entryHashOfData,
  GENESIS_HASH,
} from "../audit/chain.js";
import { signJwt } from "../crypto/jwt.js";
import type { SigningKey } from "../crypto/signing-keys.js";
import type { Db } from "./db.js";

/** One thing to record; `seq`, `prev_hash` and `hash` are assigned when it is appended. */
export type AuditEvent = Readonly<{
  action: AuditAction;
  at: number;
  agentId?: string | null;
  actor?: string | null;
  decision?: AuditDecision | null;
  data?: Readonly<Record<string, unknown>>;
}>;

/** Who asked for an operator action, passed down by routes (and the CLI) to the repos. */
export type AuditContext = Readonly<{ actor?: string; requestId?: string }>;

/** An entry as the database holds it: `data` is the canonical JSON text. */
export type StoredAuditRow = Readonly<{
  seq: number;
  at: number;
  action: string;
  agent_id: string | null;
  actor: string | null;
  decision: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}>;

export type AuditFilter = Readonly<{
  agentId?: string;
  /** Only entries about the agents of this owner (an agent key's scope). */
  ownerEmail?: string;
  decision?: AuditDecision;
  action?: AuditAction;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
}>;

export type PruneResult = Readonly<{
  /** Entries deleted; 0 when nothing old enough lies before a checkpoint. */
  deleted: number;
  /** The checkpoint size that now anchors the oldest entry (entries 1…through are gone). */
  through: number | null;
}>;

const ROW_COLUMNS = "seq, at, action, agent_id, actor, decision, data, prev_hash, hash";

/** A stored row with its data parsed, as the query API returns it. */
export function entryOf(row: StoredAuditRow): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    action: row.action as AuditAction,
    agent_id: row.agent_id,
    actor: row.actor,
    decision: row.decision as AuditDecision | null,
    data: JSON.parse(row.data) as Record<string, unknown>,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * The tamper-evident audit log: an append-only hash chain in `audit_log` and Ed25519-signed
 * checkpoints in `audit_checkpoints`. Every append reads the head and inserts inside one
 * IMMEDIATE transaction (or inside the caller's, which then holds the write lock), so appends
 * from any connection, thread or process form one chain.
 */
export class AuditLog {
  readonly #db: Db;
  readonly #head;
  readonly #insert;
  readonly #hashAt;
  readonly #firstSeq;
  readonly #page;
  readonly #insertCheckpoint;
  readonly #checkpoints;
  readonly #latestCheckpoint;
  readonly #kidUsed;
  readonly #firstAtOrAfter;
  readonly #anchorBefore;
  readonly #deleteThrough;
  readonly #queries = new Map<string, ReturnType<Db["prepare"]>>();

  constructor(db: Db) {
    this.#db = db;
    this.#head = db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    this.#insert = db.prepare(
      `INSERT INTO audit_log (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#hashAt = db.prepare("SELECT hash FROM audit_log WHERE seq = ?").pluck();
    this.#firstSeq = db.prepare("SELECT min(seq) FROM audit_log").pluck();
    this.#page = db.prepare(
      `SELECT ${ROW_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`,
    );
    this.#insertCheckpoint = db.prepare(
      `INSERT OR IGNORE INTO audit_checkpoints (size, head_hash, at, kid, token) VALUES (?, ?, ?, ?, ?)`,
    );
    this.#checkpoints = db.prepare(
      "SELECT size, head_hash, at, kid, token FROM audit_checkpoints ORDER BY size",
    );
    this.#latestCheckpoint = db.prepare(
      "SELECT size, head_hash, at, kid, token FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
    );
    this.#kidUsed = db.prepare("SELECT 1 FROM audit_checkpoints WHERE kid = ? LIMIT 1").pluck();
    this.#firstAtOrAfter = db.prepare("SELECT min(seq) FROM audit_log WHERE at >= ?").pluck();
    this.#anchorBefore = db
      .prepare("SELECT max(size) FROM audit_checkpoints WHERE size < ? AND size >= ?")
      .pluck();
    this.#deleteThrough = db.prepare("DELETE FROM audit_log WHERE seq <= ?");
  }

  /** Appends events as consecutive entries, atomically; returns the entries written. */
  append(...events: AuditEvent[]): AuditEntry[] {
    if (events.length === 0) return [];
    // Inside a caller's transaction the entries commit (or roll back) with the change they record.
    if (this.#db.inTransaction) return this.#appendNow(events);
    return this.#db.transaction(() => this.#appendNow(events)).immediate();
  }

  #appendNow(
    events: readonly AuditEvent[],
    head: { size: number; hash: string } = this.head(),
  ): AuditEntry[] {
    let seq = head.size;
    let prev = head.hash;
    const written: AuditEntry[] = [];
    for (const event of events) {
      seq++;
      const body = {
        seq,
        at: event.at,
        action: event.action,
        agent_id: event.agentId ?? null,
        actor: event.actor ?? null,
        decision: event.decision ?? null,
      };
      // Serialised once: the stored text is exactly what was hashed.
      const data = event.data ?? {};
      const dataJson = canonicalJson(data);
      const hash = entryHashOfData(body, dataJson, prev);
      this.#insert.run(
        seq,
        body.at,
        body.action,
        body.agent_id,
        body.actor,
        body.decision,
        dataJson,
        prev,
        hash,
      );
      written.push({ ...body, data, prev_hash: prev, hash });
      prev = hash;
    }
    return written;
  }

  /** The number of the last entry (0 when empty) and its hash (genesis when empty). */
  head(): { size: number; hash: string } {
    const row = this.#head.get() as { seq: number; hash: string } | undefined;
    return row === undefined ? { size: 0, hash: GENESIS_HASH } : { size: row.seq, hash: row.hash };
  }

  /** Every stored row in seq order, read lazily (verification of a large log stays bounded). */
  *rows(pageSize = 1_000): Generator<StoredAuditRow> {
    let after = 0;
    for (;;) {
      const page = this.#page.all(after, pageSize) as StoredAuditRow[];
      yield* page;
      const last = page.at(-1);
      if (last === undefined || page.length < pageSize) return;
      after = last.seq;
    }
  }

  /** One page of entries matching `filter`, after `afterSeq`, in seq order. */
  query(filter: AuditFilter, afterSeq: number, limit: number): AuditEntry[] {
    const where = ["seq > ?"];
    const args: (string | number)[] = [afterSeq];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add("agent_id = ?", filter.agentId);
    add("agent_id IN (SELECT id FROM agents WHERE owner_email = ?)", filter.ownerEmail);
    add("decision = ?", filter.decision);
    add("action = ?", filter.action);
    add("at >= ?", filter.since);
    add("at < ?", filter.until);
    const sql = `SELECT ${ROW_COLUMNS} FROM audit_log WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`;
    // At most 2^6 shapes: each is prepared once.
    let stmt = this.#queries.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      this.#queries.set(sql, stmt);
    }
    return (stmt.all([...args, limit]) as StoredAuditRow[]).map(entryOf);
  }

  checkpoints(): AuditCheckpoint[] {
    return this.#checkpoints.all() as AuditCheckpoint[];
  }

  latestCheckpoint(): AuditCheckpoint | undefined {
    return this.#latestCheckpoint.get() as AuditCheckpoint | undefined;
  }

  /** True when key `kid` signed a checkpoint: its public key must stay in the JWKS. */
  kidUsed(kid: string): boolean {
    return this.#kidUsed.get(kid) !== undefined;
  }

  /**
   * Signs the checkpoints that are due: one at every multiple of `every` entries not yet
   * covered, and with `final` (shutdown) one at the current head as well. Several processes
   * may do this at once: a checkpoint is keyed by its size, and the second insert is ignored.
   */
  checkpoint(
    options: Readonly<{
      key: SigningKey;
      issuer: string;
      now: number;
      every: number;
      final?: boolean;
    }>,
  ): AuditCheckpoint[] {
    const { key, issuer, now, every } = options;
    const run = () => {
      const sizes = this.#dueSizes(every, options.final === true);
      return sizes.length === 0 ? [] : this.#sign(sizes, key, issuer, now);
    };
    // Inside the caller's transaction (the decision writer's batch) the checkpoints commit with
    // it; otherwise all due ones share one transaction and one fsync.
    if (this.#db.inTransaction) return run();
    return this.#db.transaction(run).immediate();
  }

  /**
   * True when `checkpoint` would sign something. A plain read, no write lock: the main
   * thread asks this before taking the lock, which the decision writer holds much of the time.
   */
  checkpointDue(every: number, final = false): boolean {
    return this.#dueSizes(every, final).length > 0;
  }

  #dueSizes(every: number, final: boolean): number[] {
    const last = this.latestCheckpoint()?.size ?? 0;
    const head = this.head();
    const sizes: number[] = [];
    for (let size = (Math.floor(last / every) + 1) * every; size <= head.size; size += every) {
      sizes.push(size);
    }
    if (final && head.size > last && sizes.at(-1) !== head.size) sizes.push(head.size);
    return sizes;
  }

  #sign(sizes: readonly number[], key: SigningKey, issuer: string, now: number): AuditCheckpoint[] {
    const made: AuditCheckpoint[] = [];
    for (const size of sizes) {
      const headHash = this.#hashAt.get(size) as string | undefined;
      if (headHash === undefined) continue;
      const claims: CheckpointClaims = {
        iss: issuer,
        iat: Math.floor(now / 1000),
        size,
        head_hash: headHash,
        time: now,
      };
      const token = signJwt(CHECKPOINT_TYP, claims, key);
      this.#insertCheckpoint.run(size, headHash, now, key.kid, token);
      made.push({ size, head_hash: headHash, at: now, kid: key.kid, token });
    }
    return made;
  }

  /**
   * Deletes entries older than `now - retentionMs`, but only up to the newest checkpoint they
   * reach: the oldest remaining entry's prev_hash is then the head hash of a signed checkpoint,
   * so the shortened chain still verifies. The pruning itself is recorded as an entry.
   */
  prune(now: number, retentionMs: number): PruneResult {
    return this.#db
      .transaction((): PruneResult => {
        const cutoff = now - retentionMs;
        const first = this.#firstSeq.get() as number | null;
        if (first === null) return { deleted: 0, through: null };
        // Every entry before the first one at or after the cutoff is older than the cutoff.
        const keepFrom =
          (this.#firstAtOrAfter.get(cutoff) as number | null) ?? this.head().size + 1;
        const through = this.#anchorBefore.get(keepFrom, first) as number | null;
        if (through === null) return { deleted: 0, through: null };
        const checkpoint = this.checkpoints().find((c) => c.size === through);
        // A checkpoint that no longer matches its entry means tampering: keep the evidence.
        if (checkpoint === undefined || this.#hashAt.get(through) !== checkpoint.head_hash) {
          return { deleted: 0, through: null };
        }
        // The head is read first: pruning may take every entry, and the chain goes on from it.
        const head = this.head();
        const deleted = this.#deleteThrough.run(through).changes;
        this.#appendNow(
          [
            {
              action: "audit.pruned",
              at: now,
              actor: "retention",
              data: { through_seq: through, deleted, cutoff: new Date(cutoff).toISOString() },
            },
          ],
          head,
        );
        return { deleted, through };
      })
      .immediate();
  }
}
