import type { EventData } from "../webhooks/events.js";
import type { SecretBox } from "../webhooks/secret-box.js";
import type { AuditContext, AuditLog } from "./audit-log.js";
import type { Db } from "./db.js";
import { outboxOf } from "./webhook-outbox.js";

/** How many endpoints one agent (or the admin scope, agent_id null) may register. */
export const MAX_ENDPOINTS_PER_SCOPE = 20;

export type WebhookEndpoint = Readonly<{
  seq: number;
  id: string;
  /**
   * The agent whose events it receives; null: every agent's (registered with an admin key) or,
   * with `orgId`, every agent's of that organization.
   */
  agentId: string | null;
  /** The organization that registered it (with an organization key); null otherwise. */
  orgId: string | null;
  createdBy: string;
  url: string;
  description: string | null;
  eventMask: number;
  createdAt: number;
  lastSuccessAt: number | null;
  /** First failure since the last success; null while healthy. */
  failingSince: number | null;
  disabledAt: number | null;
  disabledReason: string | null;
}>;

export type NewEndpoint = Readonly<{
  id: string;
  agentId: string | null;
  orgId: string | null;
  createdBy: string;
  url: string;
  description: string | null;
  eventMask: number;
  /** The `whsec_…` secret; sealed before it reaches the database. */
  secret: string;
  createdAt: number;
}>;

export type DeliveryStatus = "pending" | "delivered" | "failed" | "cancelled";

/** A delivery leased to one dispatcher, with what it needs to send it. */
export type ClaimedDelivery = Readonly<{
  seq: number;
  endpointId: string;
  url: string;
  /** Null when the sealed secret cannot be opened (the key file was replaced or lost). */
  secret: string | null;
  eventId: string;
  type: string;
  payload: string;
  /** Attempts made before this one. */
  attempts: number;
  createdAt: number;
}>;

export type AttemptRecord = Readonly<{
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  startedAt: number;
  durationMs: number;
  /** When to try again after a failure; null when every attempt is used up. */
  retryAt: number | null;
}>;

export type AttemptResult = Readonly<{
  /** False when the delivery was gone (endpoint deleted meanwhile) or no longer pending. */
  recorded: boolean;
  /** Set when this failure disabled the endpoint. */
  disabled?: Readonly<{ reason: string; agentId: string | null }>;
}>;

export type DeliveryView = Readonly<{
  seq: number;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  finishedAt: number | null;
  log: readonly AttemptView[];
}>;

export type AttemptView = Readonly<{
  attempt: number;
  statusCode: number | null;
  error: string | null;
  startedAt: number;
  durationMs: number;
}>;

/** Whose endpoints a listing shows. */
export type EndpointScope =
  | Readonly<{ kind: "all" }>
  | Readonly<{ kind: "agent"; agentId: string }>
  | Readonly<{ kind: "org"; orgId: string }>;

const ENDPOINT_COLUMNS = `seq, id, agent_id AS agentId, org_id AS orgId, created_by AS createdBy, url, description,
  event_mask AS eventMask, created_at AS createdAt, last_success_at AS lastSuccessAt,
  failing_since AS failingSince, disabled_at AS disabledAt, disabled_reason AS disabledReason`;

type DeliveryRow = {
  status: DeliveryStatus;
  attempts: number;
  createdAt: number;
  endpointId: string;
};

/** Webhook endpoints, their deliveries and attempts: the read side and the dispatcher's writes. */
export class WebhookRepo {
  readonly #db: Db;
  readonly #box: SecretBox;
  readonly #insert;
  readonly #countInScope;
  readonly #byId;
  readonly #listAll;
  readonly #listForAgent;
  readonly #listForOrg;
  readonly #delete;
  readonly #secretOf;
  readonly #due;
  readonly #claim;
  readonly #claimedDetails;
  readonly #delivery;
  readonly #insertAttempt;
  readonly #delivered;
  readonly #retry;
  readonly #failed;
  readonly #endpointOk;
  readonly #endpointFailed;
  readonly #disable;
  readonly #cancelPending;
  readonly #backlog;
  readonly #deliveries;
  readonly #attemptsOf;
  readonly #pruneDeliveries;
  readonly #pruneEvents;

  readonly #audit: AuditLog | undefined;

  constructor(db: Db, box: SecretBox, audit?: AuditLog) {
    this.#db = db;
    this.#box = box;
    this.#audit = audit;
    this.#insert = db.prepare(
      `INSERT INTO webhook_endpoints (id, agent_id, org_id, created_by, url, description, event_mask,
         secret_sealed, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#countInScope = db
      .prepare(`SELECT count(*) FROM webhook_endpoints WHERE agent_id IS ? AND org_id IS ?`)
      .pluck();
    this.#byId = db.prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?`);
    this.#listAll = db.prepare(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE seq > ? ORDER BY seq LIMIT ?`,
    );
    this.#listForAgent = db.prepare(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE agent_id = ? AND seq > ?
        ORDER BY seq LIMIT ?`,
    );
    this.#listForOrg = db.prepare(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ? AND seq > ?
        ORDER BY seq LIMIT ?`,
    );
    this.#delete = db.prepare(`DELETE FROM webhook_endpoints WHERE id = ?`);
    this.#secretOf = db.prepare(`SELECT secret_sealed FROM webhook_endpoints WHERE id = ?`).pluck();
    const dueWhere = `d.status = 'pending' AND d.next_attempt_at <= @now AND d.lease_until <= @now
      AND e.disabled_at IS NULL`;
    this.#due = db
      .prepare(
        `SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
          WHERE ${dueWhere} LIMIT 1`,
      )
      .pluck();
    // The lease: only rows whose lease has run out can be taken, and taking one moves its lease
    // forward, inside an IMMEDIATE transaction, so two dispatchers never hold the same row.
    this.#claim = db
      .prepare(
        `UPDATE webhook_deliveries SET lease_until = @leaseUntil
          WHERE seq IN (SELECT d.seq FROM webhook_deliveries d
                          JOIN webhook_endpoints e ON e.id = d.endpoint_id
                         WHERE ${dueWhere} ORDER BY d.next_attempt_at, d.seq LIMIT @limit)
            AND lease_until <= @now
        RETURNING seq`,
      )
      .pluck();
    this.#claimedDetails = db.prepare(
      `SELECT d.seq, d.endpoint_id AS endpointId, e.url, e.secret_sealed AS sealed, v.id AS eventId,
              v.type, v.payload, d.attempts, d.created_at AS createdAt
         FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id
         JOIN webhook_events v ON v.seq = d.event_seq
        WHERE d.seq = ?`,
    );
    this.#delivery = db.prepare(
      `SELECT status, attempts, created_at AS createdAt, endpoint_id AS endpointId
         FROM webhook_deliveries WHERE seq = ?`,
    );
    this.#insertAttempt = db.prepare(
      `INSERT INTO webhook_attempts (delivery_seq, attempt, status_code, error, started_at, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#delivered = db.prepare(
      `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1,
         lease_until = 0, finished_at = ? WHERE seq = ?`,
    );
    this.#retry = db.prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, lease_until = 0
        WHERE seq = ?`,
    );
    this.#failed = db.prepare(
      `UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, lease_until = 0,
         finished_at = ? WHERE seq = ?`,
    );
    this.#endpointOk = db.prepare(
      `UPDATE webhook_endpoints SET last_success_at = ?, failing_since = NULL WHERE id = ?`,
    );
    this.#endpointFailed = db.prepare(
      `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?) WHERE id = ?`,
    );
    this.#disable = db.prepare(
      `UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ?
        WHERE id = ? AND disabled_at IS NULL`,
    );
    this.#cancelPending = db.prepare(
      `UPDATE webhook_deliveries SET status = 'cancelled', lease_until = 0, finished_at = ?
        WHERE endpoint_id = ? AND status = 'pending'`,
    );
    this.#backlog = db
      .prepare(`SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'`)
      .pluck();
    this.#deliveries = db.prepare(
      `SELECT d.seq, v.id AS eventId, v.type, d.status, d.attempts,
              d.next_attempt_at AS nextAttemptAt, d.created_at AS createdAt,
              d.finished_at AS finishedAt
         FROM webhook_deliveries d JOIN webhook_events v ON v.seq = d.event_seq
        WHERE d.endpoint_id = ? AND d.seq < ? ORDER BY d.seq DESC LIMIT ?`,
    );
    this.#attemptsOf = db.prepare(
      `SELECT delivery_seq AS deliverySeq, attempt, status_code AS statusCode, error,
              started_at AS startedAt, duration_ms AS durationMs
         FROM webhook_attempts
        WHERE delivery_seq IN (SELECT value FROM json_each(?)) ORDER BY delivery_seq, attempt`,
    );
    this.#pruneDeliveries = db.prepare(
      `DELETE FROM webhook_deliveries WHERE status != 'pending' AND finished_at < ?`,
    );
    this.#pruneEvents = db.prepare(
      `DELETE FROM webhook_events WHERE created_at < ?
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = webhook_events.seq)`,
    );
  }

  /**
   * Stores an endpoint with its secret sealed, and its audit entry in the same transaction;
   * false when its scope already has the maximum.
   */
  create(endpoint: NewEndpoint, context: AuditContext = {}): boolean {
    const sealed = this.#box.seal(endpoint.secret, endpoint.id);
    return this.#db
      .transaction(() => {
        const inScope = this.#countInScope.get(endpoint.agentId, endpoint.orgId) as number;
        if (inScope >= MAX_ENDPOINTS_PER_SCOPE) return false;
        this.#insert.run(
          endpoint.id,
          endpoint.agentId,
          endpoint.orgId,
          endpoint.createdBy,
          endpoint.url,
          endpoint.description,
          endpoint.eventMask,
          sealed,
          endpoint.createdAt,
        );
        // The URL's origin only: a path or query may carry the receiver's own token.
        this.#audit?.append({
          action: "webhook.created",
          at: endpoint.createdAt,
          agentId: endpoint.agentId,
          actor: context.actor ?? endpoint.createdBy,
          data: {
            webhook_id: endpoint.id,
            origin: new URL(endpoint.url).origin,
            event_mask: endpoint.eventMask,
            ...(context.requestId === undefined ? {} : { request_id: context.requestId }),
          },
        });
        return true;
      })
      .immediate();
  }

  byId(id: string): WebhookEndpoint | undefined {
    return this.#byId.get(id) as WebhookEndpoint | undefined;
  }

  /** One page of endpoints after `afterSeq`: one agent's, one organization's, or every one. */
  list(scope: EndpointScope, afterSeq: number, limit: number): WebhookEndpoint[] {
    switch (scope.kind) {
      case "all":
        return this.#listAll.all(afterSeq, limit) as WebhookEndpoint[];
      case "agent":
        return this.#listForAgent.all(scope.agentId, afterSeq, limit) as WebhookEndpoint[];
      case "org":
        return this.#listForOrg.all(scope.orgId, afterSeq, limit) as WebhookEndpoint[];
    }
  }

  /**
   * Deletes an endpoint, its sealed secret, deliveries and attempts, with its audit entry in the
   * same transaction; false when unknown.
   */
  delete(
    id: string,
    at: number,
    context: AuditContext & { agentId?: string | null } = {},
  ): boolean {
    return this.#db
      .transaction(() => {
        if (this.#delete.run(id).changes === 0) return false;
        this.#audit?.append({
          action: "webhook.deleted",
          at,
          agentId: context.agentId ?? null,
          actor: context.actor ?? null,
          data: {
            webhook_id: id,
            ...(context.requestId === undefined ? {} : { request_id: context.requestId }),
          },
        });
        return true;
      })
      .immediate();
  }

  /** The endpoint's secret, unsealed (signing and tests only; never returned by the API after creation). */
  secretOf(id: string): string | undefined {
    const sealed = this.#secretOf.get(id) as Buffer | undefined;
    return sealed === undefined ? undefined : this.#box.open(sealed, id);
  }

  /** Queues a `ping` for one endpoint; its event id. */
  ping(endpoint: WebhookEndpoint, at: number): string {
    return this.#db.transaction(() =>
      outboxOf(this.#db).emitTo(
        endpoint.id,
        "ping",
        endpoint.agentId,
        { webhook_id: endpoint.id },
        at,
      ),
    )();
  }

  /** Deliveries waiting to be sent (retries included): the outbox backlog. */
  backlog(): number {
    return this.#backlog.get() as number;
  }

  /** True when a delivery is due and unleased: a cheap read before taking the write lock. */
  hasDue(now: number): boolean {
    return this.#due.get({ now }) !== undefined;
  }

  /** Leases up to `limit` due deliveries until `leaseUntil` and returns them, secrets unsealed. */
  claim(now: number, leaseUntil: number, limit: number): ClaimedDelivery[] {
    const rows = this.#db
      .transaction(() => {
        const seqs = this.#claim.all({ now, leaseUntil, limit }) as number[];
        return seqs.map(
          (seq) =>
            this.#claimedDetails.get(seq) as Omit<ClaimedDelivery, "secret"> & { sealed: Buffer },
        );
      })
      .immediate();
    return rows.map(({ sealed, ...row }) => {
      let secret: string | null = null;
      try {
        secret = this.#box.open(sealed, row.endpointId);
      } catch {
        // Recorded as a failed attempt by the dispatcher; one bad row must not stall the rest.
      }
      return { ...row, secret };
    });
  }

  /**
   * Records one attempt and its consequence in one transaction: delivered; retried at
   * `retryAt`; or failed for good. An endpoint is disabled (its pending deliveries cancelled
   * and an `endpoint.disabled` event recorded) when a delivery used up every attempt with no
   * delivery to it succeeding since that one was queued, or when it has been failing without
   * a success for `failingLimitMs`.
   */
  recordAttempt(
    seq: number,
    attempt: AttemptRecord,
    now: number,
    failingLimitMs: number,
  ): AttemptResult {
    return this.#db
      .transaction((): AttemptResult => {
        const row = this.#delivery.get(seq) as DeliveryRow | undefined;
        if (row === undefined || row.status !== "pending") return { recorded: false };
        this.#insertAttempt.run(
          seq,
          row.attempts + 1,
          attempt.statusCode,
          attempt.error,
          attempt.startedAt,
          attempt.durationMs,
        );
        if (attempt.ok) {
          this.#delivered.run(now, seq);
          this.#endpointOk.run(now, row.endpointId);
          return { recorded: true };
        }
        if (attempt.retryAt === null) this.#failed.run(now, seq);
        else this.#retry.run(attempt.retryAt, seq);
        this.#endpointFailed.run(attempt.startedAt, row.endpointId);
        const endpoint = this.byId(row.endpointId)!;
        let reason: string | null = null;
        if (
          attempt.retryAt === null &&
          (endpoint.lastSuccessAt === null || endpoint.lastSuccessAt < row.createdAt)
        ) {
          reason = `every attempt of event delivery ${seq} failed`;
        } else if (
          endpoint.failingSince !== null &&
          now - endpoint.failingSince >= failingLimitMs
        ) {
          reason = `failing without a success since ${new Date(endpoint.failingSince).toISOString()}`;
        }
        if (reason === null || endpoint.disabledAt !== null) return { recorded: true };
        this.#disable.run(now, reason, endpoint.id);
        this.#cancelPending.run(now, endpoint.id);
        const data: EventData = {
          webhook_id: endpoint.id,
          agent_id: endpoint.agentId,
          disabled_at: new Date(now).toISOString(),
        };
        // Recorded even when no other endpoint listens: it is the trace of the disabling.
        outboxOf(this.#db).emit("endpoint.disabled", endpoint.agentId, data, now, { record: true });
        return { recorded: true, disabled: { reason, agentId: endpoint.agentId } };
      })
      .immediate();
  }

  /** One page of an endpoint's deliveries, newest first, each with its attempts. */
  deliveries(endpointId: string, beforeSeq: number, limit: number): DeliveryView[] {
    const rows = this.#deliveries.all(endpointId, beforeSeq, limit) as Omit<DeliveryView, "log">[];
    if (rows.length === 0) return [];
    const attempts = this.#attemptsOf.all(
      JSON.stringify(rows.map((r) => r.seq)),
    ) as (AttemptView & {
      deliverySeq: number;
    })[];
    const bySeq = new Map<number, AttemptView[]>();
    for (const { deliverySeq, ...attempt } of attempts) {
      const list = bySeq.get(deliverySeq) ?? [];
      list.push(attempt);
      bySeq.set(deliverySeq, list);
    }
    return rows.map((row) => ({ ...row, log: bySeq.get(row.seq) ?? [] }));
  }

  /** Deletes finished deliveries (and events left without any) older than `before`. */
  prune(before: number): number {
    return this.#db.transaction(() => {
      const deliveries = this.#pruneDeliveries.run(before).changes;
      this.#pruneEvents.run(before);
      return deliveries;
    })();
  }
}
