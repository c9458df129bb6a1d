import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "../../webhooks/events.js";
import { idOf, isoTime, nextCursor } from "./common.js";

const EndpointFields = {
  webhook_id: idOf("whk"),
  agent_id: z
    .string()
    .nullable()
    .meta({ description: "The agent whose events it receives; null: every agent in its scope." }),
  org_id: z.string().nullable().meta({
    description: "Set for an organization's endpoint (created with an organization key).",
  }),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  description: z.string().nullable(),
  status: z.enum(["enabled", "disabled"]),
  created_at: isoTime(),
  disabled_at: isoTime().nullable(),
  disabled_reason: z.string().nullable(),
};

export const WebhookEndpoint = z.strictObject(EndpointFields);

export const CreatedWebhook = z.strictObject({
  ...EndpointFields,
  secret: z.string().startsWith("whsec_").meta({ description: "Signing secret, shown once." }),
});

export const WebhookPage = z.strictObject({
  webhooks: z.array(WebhookEndpoint),
  next_cursor: nextCursor(),
});

export const DeletedWebhook = z.strictObject({ webhook_id: idOf("whk"), deleted: z.literal(true) });

export const QueuedPing = z.strictObject({
  webhook_id: idOf("whk"),
  event_id: z.string(),
  type: z.literal("ping"),
  status: z.literal("queued"),
});

export const DeliveryPage = z.strictObject({
  webhook_id: idOf("whk"),
  deliveries: z.array(
    z.strictObject({
      event_id: z.string(),
      type: z.enum([...WEBHOOK_EVENT_TYPES, "ping"]),
      status: z.enum(["pending", "delivered", "failed", "cancelled"]),
      attempts: z.int().min(0),
      next_attempt_at: isoTime().nullable(),
      created_at: isoTime(),
      finished_at: isoTime().nullable(),
      attempt_log: z.array(
        z.strictObject({
          attempt: z.int(),
          status_code: z.int().nullable(),
          error: z.string().nullable(),
          started_at: isoTime(),
          duration_ms: z.number(),
        }),
      ),
    }),
  ),
  next_cursor: nextCursor(),
});
