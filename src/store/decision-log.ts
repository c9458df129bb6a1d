import { Worker } from "node:worker_threads";
import { auditExcerpt } from "../audit/redact.js";
import { sha256Text } from "../crypto/sha256.js";
import type { SigningKey } from "../crypto/signing-keys.js";
import type { Logger } from "../logger.js";
import { type AuditEvent, AuditLog } from "./audit-log.js";
import type { Db } from "./db.js";
import { outboxOf } from "./webhook-outbox.js";

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
  /**
   * Write batches on a worker thread with its own connection to this database file, so the
   * commit's fsync never stalls the event loop. Without it (an in-memory database), batches
   * are written on the calling thread.
   */
  writerThread?: string;
  /**
   * With a writer thread: sign due audit checkpoints there, in the batch's transaction, with
   * the signing keys of `dataDir` (re-read every few seconds, so a rotation is picked up).
   */
  checkpoints?: Readonly<{ dataDir: string; issuer: string; every: number }>;
  /**
   * Keep a redacted excerpt of the target and content in the audit log (AIEGIS_AUDIT_EXCERPTS);
   * off by default, when only digests are kept.
   */
  excerpts?: boolean;
}>;

/** Starts the writer thread: tsx first when running from source, then decision-writer. */
const WRITER_BOOT = `
const { workerData } = require("node:worker_threads");
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => { setImmediate(() => { throw err; }); });
`;

/**
 * A decision as queued: the request text already reduced to digests and the findings to JSON,
 * so a waiting entry is a few hundred bytes whatever the request's size, and holds no secret.
 */
export type QueuedDecision = Readonly<
  Omit<DecisionEntry, "target" | "content" | "findings"> & {
    targetSha256: string | null;
    contentSha256: string | null;
    findings: string;
    /** Redacted excerpts, only with the `excerpts` option. */
    targetExcerpt?: string | null;
    contentExcerpt?: string | null;
  }
>;

/** What the writer thread is started with. */
export type WriterData = Readonly<{
  path: string;
  entry: string;
  tsx: string | null;
  checkpoints: DecisionLogOptions["checkpoints"];
}>;

/** Between the log and its writer thread: a batch to write, and its outcome. */
export type WriterRequest = Readonly<{ id: number; entries: readonly QueuedDecision[] }>;
export type WriterReply = Readonly<{ id: number; error?: string }>;

const digest = (text: string | undefined) =>
  text === undefined || text === "" ? null : sha256Text(text, "hex");

/** Reduces a decision to what is kept: digests, not text (and, if asked, redacted excerpts). */
function queued(entry: DecisionEntry, excerpts: boolean): QueuedDecision {
  const { target, content, findings, ...rest } = entry;
  const reduced = {
    ...rest,
    targetSha256: digest(target),
    contentSha256: digest(content),
    findings: JSON.stringify(findings),
  };
  if (!excerpts) return reduced;
  return { ...reduced, targetExcerpt: auditExcerpt(target), contentExcerpt: auditExcerpt(content) };
}

/** The audit entry of a decision: the same digests and findings as the decisions row. */
function auditEventOf(e: QueuedDecision): AuditEvent {
  return {
    action: "protect.decision",
    at: e.at,
    agentId: e.agentId,
    actor: e.agentId,
    decision: e.decision,
    data: {
      request_id: e.requestId,
      tool: e.action,
      target_sha256: e.targetSha256,
      content_sha256: e.contentSha256,
      findings: JSON.parse(e.findings) as unknown,
      score: e.score,
      latency_us: e.latencyUs,
      policy_id: e.policyId,
      policy_hash: e.policyHash,
      passport_id: e.passportId ?? null,
      // Absent unless AIEGIS_AUDIT_EXCERPTS=on (undefined members are not serialised).
      target_excerpt: e.targetExcerpt,
      content_excerpt: e.contentExcerpt,
    },
  };
}

/**
 * Prepares the batch insert on `db`: writes every entry in one IMMEDIATE transaction (with
 * several worker processes, taking the write lock up front lets busy_timeout wait for the
 * others instead of failing the batch with SQLITE_BUSY), and appends each newly stored
 * decision to the audit chain in that same transaction.
 */
/** What the writer needs to sign audit checkpoints as it appends (see CheckpointOptions). */
export type CheckpointSigner = Readonly<{ key: () => SigningKey; issuer: string; every: number }>;

export function decisionWriter(
  db: Db,
  checkpoints?: CheckpointSigner,
): (entries: readonly QueuedDecision[]) => void {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO decisions (request_id, agent_id, action, target_sha256, content_sha256, decision,
       findings, score, latency_us, policy_id, policy_hash, passport_id, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const audit = new AuditLog(db);
  const webhookOutbox = outboxOf(db);
  const batch = db.transaction((entries: readonly QueuedDecision[]) => {
    const audited: AuditEvent[] = [];
    for (const e of entries) {
      const { changes } = insert.run(
        e.requestId,
        e.agentId,
        e.action,
        e.targetSha256,
        e.contentSha256,
        e.decision,
        e.findings,
        e.score,
        e.latencyUs,
        e.policyId,
        e.policyHash,
        e.passportId ?? null,
        e.at,
      );
      // A replayed batch (committed, then retried) stores nothing new and chains nothing twice.
      if (changes > 0) audited.push(auditEventOf(e));

      // Webhooks: protect.blocked / protect.warned outbox rows, in this same batch transaction
      // (a replayed entry, changes = 0, queues nothing twice).
      if (changes > 0) webhookOutbox.recordDecision(e);
    }
    audit.append(...audited);
    // Due checkpoints go into this same commit: no extra fsync, and no write on the main
    // thread (which would wait for this thread's lock) however fast decisions arrive.
    if (checkpoints !== undefined && audited.length > 0) {
      audit.checkpoint({
        key: checkpoints.key(),
        issuer: checkpoints.issuer,
        now: Date.now(),
        every: checkpoints.every,
      });
    }
  });
  return (entries) => batch.immediate(entries);
}

/**
 * The decision log: every decision is queued in memory and written in batches, one
 * transaction per batch, off the response path. The request text is digested when queued
 * (about 2 µs for a typical action, 0.1 ms for 64 KB): holding raw bodies until the writer
 * caught up kept hundreds of megabytes alive under a 64 KB load, and the garbage collector's
 * pause over them stalled the gateway for a second. A crash loses at most the entries queued
 * since the last batch (one flush interval).
 */
export class DecisionLog {
  readonly #writeBatch: (entries: readonly QueuedDecision[]) => void;
  readonly #byRequest;
  readonly #recent;
  readonly #logger: Logger;
  readonly #interval: number;
  readonly #maxBatch: number;
  readonly #maxPending: number;
  readonly #excerpts: boolean;
  #queue: QueuedDecision[] = [];
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;
  #writer: Worker | undefined;
  /** Batches handed to the writer thread and not yet confirmed, by id. */
  readonly #inFlight = new Map<number, readonly QueuedDecision[]>();
  #inFlightCount = 0;
  #nextBatch = 0;
  #drained: (() => void) | undefined;
  #fellBack = false;

  constructor(db: Db, logger: Logger, options: DecisionLogOptions = {}) {
    this.#logger = logger;
    this.#interval = options.flushIntervalMs ?? 20;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#maxPending = options.maxPending ?? 100_000;
    this.#excerpts = options.excerpts === true;
    this.#writeBatch = decisionWriter(db);
    if (options.writerThread !== undefined) {
      this.#writer = this.#startWriter(options.writerThread, options.checkpoints);
    }
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
    this.#queue.push(queued(entry, this.#excerpts));
    if (this.#queue.length >= this.#maxBatch) {
      setImmediate(() => this.flush());
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#interval);
      this.#timer.unref();
    }
  }

  /**
   * Writes everything queued in one transaction (or hands it to the writer thread); on failure
   * keeps it for the next try. Returns how many entries left the queue.
   */
  flush(): number {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return 0;
    const batch = this.#queue;
    this.#queue = [];
    if (this.#writer !== undefined) {
      const id = ++this.#nextBatch;
      this.#inFlight.set(id, batch);
      this.#inFlightCount += batch.length;
      this.#writer.postMessage({ id, entries: batch } satisfies WriterRequest);
      return batch.length;
    }
    try {
      this.#writeBatch(batch);
      this.#written();
      return batch.length;
    } catch (err) {
      this.#failed(batch, err);
      return 0;
    }
  }

  #written(): void {
    if (this.#dropped > 0) {
      this.#logger.error(
        { dropped: this.#dropped },
        "decision log dropped entries while the database failed",
      );
      this.#dropped = 0;
    }
  }

  #failed(batch: readonly QueuedDecision[], err: unknown): void {
    this.#queue = batch.concat(this.#queue);
    this.#logger.error(
      { err, pending: this.#queue.length },
      "decision log write failed; will retry",
    );
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush(), Math.max(this.#interval, 1_000));
    this.#timer.unref();
  }

  #settle(id: number): readonly QueuedDecision[] | undefined {
    const batch = this.#inFlight.get(id);
    if (batch === undefined) return undefined;
    this.#inFlight.delete(id);
    this.#inFlightCount -= batch.length;
    if (this.#inFlight.size === 0) this.#drained?.();
    return batch;
  }

  /** Puts every batch the writer thread has not confirmed back at the head of the queue. */
  #reclaimInFlight(): void {
    const pending = [...this.#inFlight.keys()].flatMap((id) => this.#settle(id) ?? []);
    this.#queue = pending.concat(this.#queue);
  }

  #startWriter(path: string, checkpoints: DecisionLogOptions["checkpoints"]): Worker {
    const fromSource = import.meta.url.endsWith(".ts");
    const entry = new URL(`./decision-writer${fromSource ? ".ts" : ".js"}`, import.meta.url);
    // Node 20 does not pass tsx's loader on to worker threads: from source, the thread
    // registers it before importing the writer.
    const tsx = fromSource ? import.meta.resolve("tsx/esm/api") : null;
    const writer = new Worker(WRITER_BOOT, {
      eval: true,
      workerData: { path, entry: entry.href, tsx, checkpoints } satisfies WriterData,
    });
    writer.unref();
    writer.on("message", (reply: WriterReply) => {
      const batch = this.#settle(reply.id);
      if (batch === undefined) return;
      if (reply.error === undefined) this.#written();
      else this.#failed(batch, new Error(reply.error));
    });
    const lost = (err: unknown) => {
      if (this.#writer !== writer) return;
      // Unconfirmed batches go back to the queue and from now on are written on this thread;
      // a batch the writer did commit is ignored the second time (unique request ids).
      this.#writer = undefined;
      this.#fellBack = true;
      this.#logger.error({ err }, "decision log writer thread stopped; writing on the main thread");
      this.#reclaimInFlight();
      if (this.#queue.length > 0) setImmediate(() => this.flush());
    };
    writer.on("error", lost);
    writer.on("exit", (code) => lost(new Error(`exit code ${code}`)));
    return writer;
  }

  /** True when a writer thread was asked for and stopped unexpectedly (writes moved here). */
  get fellBack(): boolean {
    return this.#fellBack;
  }

  /** Entries not yet confirmed written. */
  get pending(): number {
    return this.#queue.length + this.#inFlightCount;
  }

  byRequestId(requestId: string): DecisionRow | undefined {
    return this.#byRequest.get(requestId) as DecisionRow | undefined;
  }

  recent(limit: number): DecisionRow[] {
    return this.#recent.all(limit) as DecisionRow[];
  }

  /**
   * Writes everything still queued and stops (shutdown). With a writer thread, waits up to
   * `timeoutMs` for its confirmations, then writes whatever it did not confirm on this thread.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const writer = this.#writer;
    if (writer === undefined) return;
    if (this.#inFlight.size > 0) {
      await new Promise<void>((done) => {
        const timer = setTimeout(done, timeoutMs);
        this.#drained = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
    this.#writer = undefined;
    await writer.terminate();
    this.#reclaimInFlight();
    this.flush();
  }
}
