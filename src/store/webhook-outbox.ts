import { newId } from "../ids.js";
import {
  type EventData,
  eventBit,
  eventPayload,
  type WebhookEventType,
  type WebhookMessageType,
} from "../webhooks/events.js";
import type { Db } from "./db.js";

/** The part of a stored decision that becomes a protect.blocked / protect.warned event. */
export type DecisionEvent = Readonly<{
  requestId: string;
  agentId: string;
  decision: "ALLOW" | "WARN" | "BLOCK";
  policyId: string;
  passportId?: string;
  at: number;
}>;

/**
 * The webhook outbox's write side. Every method is meant to run inside the transaction of the
 * change it reports (registration, verification, quarantine, passport issue or revocation,
 * decision batch, assessment), so an event exists exactly when its change was committed.
 *
 * Fan-out happens here, at write time: one delivery row per endpoint that is enabled, is
 * subscribed to the type and sees the agent (its own agent's endpoints, and admin endpoints,
 * which see every agent). Each delivery then has its own attempts, backoff and lease, and an
 * endpoint added later does not receive events from before it existed. An event no endpoint
 * wants is not stored at all: when nobody listens, the outbox costs one SELECT over the
 * (small) endpoints table.
 */
export class WebhookOutbox {
  readonly #matching;
  readonly #insertEvent;
  readonly #insertDelivery;

  constructor(db: Db) {
    this.#matching = db
      .prepare(
        `SELECT id FROM webhook_endpoints
          WHERE disabled_at IS NULL AND (event_mask & @bit) != 0
            AND (agent_id = @agent OR (agent_id IS NULL AND
                 (org_id IS NULL OR org_id = (SELECT org_id FROM agents WHERE id = @agent))))
          ORDER BY seq`,
      )
      .pluck();
    this.#insertEvent = db.prepare(
      `INSERT INTO webhook_events (id, type, agent_id, payload, created_at) VALUES (?, ?, ?, ?, ?)`,
    );
    this.#insertDelivery = db.prepare(
      `INSERT INTO webhook_deliveries (event_seq, endpoint_id, status, next_attempt_at, created_at)
       VALUES (?, ?, 'pending', ?, ?)`,
    );
  }

  /**
   * Queues `type` for every endpoint that wants it; returns the event id, or null when no
   * endpoint does (nothing is stored then, unless `record` asks to keep the event anyway).
   */
  emit(
    type: WebhookEventType,
    agentId: string | null,
    data: EventData,
    at: number,
    options: Readonly<{ record?: boolean }> = {},
  ): string | null {
    // An organization's catch-all endpoint hears its own agents only; an admin's hears everyone.
    const endpoints = this.#matching.all({ bit: eventBit(type), agent: agentId }) as string[];
    if (endpoints.length === 0 && options.record !== true) return null;
    return this.#write(type, agentId, data, at, endpoints);
  }

  /** Queues a message for one endpoint whatever it subscribes to (the `ping` of /test). */
  emitTo(
    endpointId: string,
    type: WebhookMessageType,
    agentId: string | null,
    data: EventData,
    at: number,
  ): string {
    return this.#write(type, agentId, data, at, [endpointId]);
  }

  /** protect.blocked / protect.warned for a decision just stored; nothing for an ALLOW. */
  recordDecision(entry: DecisionEvent): void {
    if (entry.decision === "ALLOW") return;
    this.emit(
      entry.decision === "BLOCK" ? "protect.blocked" : "protect.warned",
      entry.agentId,
      {
        agent_id: entry.agentId,
        request_id: entry.requestId,
        decision: entry.decision,
        policy_id: entry.policyId,
        passport_id: entry.passportId ?? null,
      },
      entry.at,
    );
  }

  #write(
    type: WebhookMessageType,
    agentId: string | null,
    data: EventData,
    at: number,
    endpoints: readonly string[],
  ): string {
    const id = newId("msg");
    const eventSeq = this.#insertEvent.run(
      id,
      type,
      agentId,
      eventPayload(type, at, data),
      at,
    ).lastInsertRowid;
    for (const endpointId of endpoints) this.#insertDelivery.run(eventSeq, endpointId, at, at);
    return id;
  }
}

/**
 * Queues `score.completed` for a stored assessment. Call it inside the transaction that
 * inserts the assessment, e.g.
 * `store.db.transaction(() => { store.assessments.insert(record); emitScoreCompleted(store.db, …); })()`.
 */
export function emitScoreCompleted(
  db: Db,
  assessment: Readonly<{ id: string; agentId: string; createdAt: number }>,
): string | null {
  return outboxOf(db).emit(
    "score.completed",
    assessment.agentId,
    { agent_id: assessment.agentId, assessment_id: assessment.id },
    assessment.createdAt,
  );
}

const outboxes = new WeakMap<Db, WebhookOutbox>();

/** The outbox of a connection, its statements prepared once. */
export function outboxOf(db: Db): WebhookOutbox {
  let outbox = outboxes.get(db);
  if (outbox === undefined) {
    outbox = new WebhookOutbox(db);
    outboxes.set(db, outbox);
  }
  return outbox;
}
