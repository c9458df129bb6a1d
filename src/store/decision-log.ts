import { createHash } from "node:crypto";
import type { Logger } from "../logger.js";
import type { Db } from "./db.js";

/** One /api/protect decision as the route hands it over; text is digested when written. */
export type DecisionEntry = Readonly<{
  requestId: string;
  agentId: string;
  action: string;
  target: string | undefined;
  content: string | undefined;
  decision: "ALLOW" | "WARN" | "BLOCK";
  /** Layer, code, severity and confidence only: evidence can quote secrets, so it is not kept. */
  findings: readonly Readonly<{
    layer: string;
    code: string;
    severity: string;
    confidence: number;
  }>[];
  score: number;
  latencyUs: number;
  policyId: string;
  policyHash: string;
  /** The passport whose bundle judged the request; absent for the default bundle. */
  passportId?: string;
  at: number;
}>;

export type DecisionRow = {
  seq: number;
  requestId: string;
  agentId: string;
  action: string;
  targetSha256: string | null;
  contentSha256: string | null;
  decision: string;
  findings: string;
  score: number;
  latencyUs: number;
  policyId: string;
  policyHash: string;
  passportId: string | null;
  at: number;
};

export type DecisionLogOptions = Readonly<{
  /** Write at least this often while entries wait (ms). */
  flushIntervalMs?: number;
  /** Write at once when this many entries wait. */
  maxBatch?: number;
  /** Refuse to hold more than this in memory if the database keeps failing (oldest kept). */
  maxPending?: number;
}>;

const digest = (text: string | undefined) =>
  text === undefined || text === "" ? null : createHash("sha256").update(text).digest("hex");

/**
 * The decision log: every decision is queued in memory and written in batches, one
 * transaction per batch, off the response path. Hashing the request text also happens at
 * write time, so a 64 KB body costs the response nothing here. A crash loses at most the
 * entries queued since the last batch (one flush interval).
 */
export class DecisionLog {
  readonly #insert;
  readonly #writeBatch: (entries: readonly DecisionEntry[]) => void;
  readonly #byRequest;
  readonly #recent;
  readonly #logger: Logger;
  readonly #interval: number;
  readonly #maxBatch: number;
  readonly #maxPending: number;
  #queue: DecisionEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;

  constructor(db: Db, logger: Logger, options: DecisionLogOptions = {}) {
    this.#logger = logger;
    this.#interval = options.flushIntervalMs ?? 20;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#maxPending = options.maxPending ?? 100_000;
    this.#insert = db.prepare(
      `INSERT INTO decisions (request_id, agent_id, action, target_sha256, content_sha256, decision,
         findings, score, latency_us, policy_id, policy_hash, passport_id, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const batch = db.transaction((entries: readonly DecisionEntry[]) => {
      for (const e of entries) {
        this.#insert.run(
          e.requestId,
          e.agentId,
          e.action,
          digest(e.target),
          digest(e.content),
          e.decision,
          JSON.stringify(e.findings),
          e.score,
          e.latencyUs,
          e.policyId,
          e.policyHash,
          e.passportId ?? null,
          e.at,
        );
      }
    });
    // IMMEDIATE: with several worker processes, taking the write lock up front lets busy_timeout
    // wait for the others instead of failing the batch with SQLITE_BUSY.
    this.#writeBatch = (entries) => batch.immediate(entries);
    const columns = `seq, request_id AS requestId, agent_id AS agentId, action,
      target_sha256 AS targetSha256, content_sha256 AS contentSha256, decision, findings, score,
      latency_us AS latencyUs, policy_id AS policyId, policy_hash AS policyHash,
      passport_id AS passportId, at`;
    this.#byRequest = db.prepare(`SELECT ${columns} FROM decisions WHERE request_id = ?`);
    this.#recent = db.prepare(`SELECT ${columns} FROM decisions ORDER BY seq DESC LIMIT ?`);
  }

  /** Queues a decision; it is written within one flush interval. */
  record(entry: DecisionEntry): void {
    if (this.#queue.length >= this.#maxPending) {
      // The database has been failing for a long time; keep memory bounded and say so.
      this.#queue.shift();
      this.#dropped++;
    }
    this.#queue.push(entry);
    if (this.#queue.length >= this.#maxBatch) {
      setImmediate(() => this.flush());
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#interval);
      this.#timer.unref();
    }
  }

  /** Writes everything queued in one transaction; on failure keeps it for the next try. */
  flush(): number {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return 0;
    const batch = this.#queue;
    this.#queue = [];
    try {
      this.#writeBatch(batch);
      if (this.#dropped > 0) {
        this.#logger.error(
          { dropped: this.#dropped },
          "decision log dropped entries while the database failed",
        );
        this.#dropped = 0;
      }
      return batch.length;
    } catch (err) {
      this.#queue = batch.concat(this.#queue);
      this.#logger.error(
        { err, pending: this.#queue.length },
        "decision log write failed; will retry",
      );
      this.#timer = setTimeout(() => this.flush(), Math.max(this.#interval, 1_000));
      this.#timer.unref();
      return 0;
    }
  }

  get pending(): number {
    return this.#queue.length;
  }

  byRequestId(requestId: string): DecisionRow | undefined {
    return this.#byRequest.get(requestId) as DecisionRow | undefined;
  }

  recent(limit: number): DecisionRow[] {
    return this.#recent.all(limit) as DecisionRow[];
  }

  /** Flushes and stops the timer (shutdown). */
  close(): void {
    this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
