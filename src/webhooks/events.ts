/**
 * Webhook event types. The position in this list is the type's bit in an endpoint's
 * subscription mask (webhook_endpoints.event_mask), so the list is append-only.
 */
export const WEBHOOK_EVENT_TYPES = [
  "agent.registered",
  "agent.verified",
  "agent.quarantined",
  "agent.unquarantined",
  "passport.issued",
  "passport.revoked",
  "protect.blocked",
  "protect.warned",
  "score.completed",
  "endpoint.disabled",
] as const;

/** A type an endpoint can subscribe to. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a delivery can carry: a subscribed event, or the `ping` sent by POST /api/webhooks/:id/test. */
export type WebhookMessageType = WebhookEventType | "ping";

/** Ids and timestamps only: payloads never carry secrets, request text or personal data. */
export type EventData = Readonly<Record<string, string | number | boolean | null>>;

/** The subscription bit of one event type. */
export function eventBit(type: WebhookEventType): number {
  return 1 << WEBHOOK_EVENT_TYPES.indexOf(type);
}

/** The subscription mask of a list of event types. */
export function maskOf(types: readonly WebhookEventType[]): number {
  let mask = 0;
  for (const type of types) mask |= eventBit(type);
  return mask;
}

/** The event types a subscription mask selects, in list order. */
export function typesOf(mask: number): WebhookEventType[] {
  return WEBHOOK_EVENT_TYPES.filter((type) => (mask & eventBit(type)) !== 0);
}

/**
 * The body of a message, Standard Webhooks style: `{type, timestamp, data}`. It is built once,
 * when the event is written, and every attempt sends (and signs) exactly these bytes.
 */
export function eventPayload(type: WebhookMessageType, at: number, data: EventData): string {
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data });
}
