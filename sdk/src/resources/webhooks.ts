import type { CallOptions } from "../transport.js";
import { type PageQuery, Resource, seg } from "./resource.js";

export type WebhookEventType =
  | "agent.registered"
  | "agent.verified"
  | "agent.quarantined"
  | "agent.unquarantined"
  | "passport.issued"
  | "passport.revoked"
  | "protect.blocked"
  | "protect.warned"
  | "score.completed"
  | "endpoint.disabled";

export type CreateWebhookRequest = Readonly<{
  /** https, at most 1024 characters, no credentials or fragment. */
  url: string;
  events: readonly WebhookEventType[];
  description?: string;
  /** Admin keys only: scope the endpoint to one agent (default: every agent). */
  agent_id?: string;
}>;

export type WebhookEndpoint = Readonly<{
  webhook_id: string;
  agent_id: string | null;
  url: string;
  events: readonly WebhookEventType[];
  description: string | null;
  status: "enabled" | "disabled";
  created_at: string;
  disabled_at: string | null;
  disabled_reason: string | null;
}>;

/** The endpoint as created: with its signing secret, shown this once. */
export type CreatedWebhook = WebhookEndpoint & Readonly<{ secret: string }>;

export type WebhookList = Readonly<{
  webhooks: readonly WebhookEndpoint[];
  next_cursor: string | null;
}>;

export type WebhookPing = Readonly<{
  webhook_id: string;
  event_id: string;
  type: "ping";
  status: "queued";
}>;

export type DeliveryAttempt = Readonly<{
  attempt: number;
  status_code: number | null;
  error: string | null;
  started_at: string;
  duration_ms: number;
}>;

export type WebhookDelivery = Readonly<{
  event_id: string;
  type: WebhookEventType | "ping";
  status: "pending" | "delivered" | "failed" | "cancelled";
  attempts: number;
  next_attempt_at: string | null;
  created_at: string;
  finished_at: string | null;
  attempt_log: readonly DeliveryAttempt[];
}>;

export type WebhookDeliveries = Readonly<{
  webhook_id: string;
  deliveries: readonly WebhookDelivery[];
  next_cursor: string | null;
}>;

/** Webhook endpoints: register, list, delete, ping, and their delivery attempts. */
export class Webhooks extends Resource {
  /** POST /webhooks: registers an endpoint; the answer holds its `whsec_…` secret, once. */
  create(body: CreateWebhookRequest, options?: CallOptions): Promise<CreatedWebhook> {
    return this.transport.request(
      { method: "POST", path: "/webhooks", body, credential: "key", retry: "unsafe" },
      options,
    );
  }

  /** GET /webhooks: the caller's endpoints, never a secret. */
  list(query: PageQuery = {}, options?: CallOptions): Promise<WebhookList> {
    return this.transport.request(
      { method: "GET", path: "/webhooks", query, credential: "key", retry: "safe" },
      options,
    );
  }

  /** DELETE /webhooks/:id: deletes the endpoint, its secret and its history. */
  delete(webhookId: string, options?: CallOptions): Promise<{ webhook_id: string; deleted: true }> {
    return this.transport.request(
      { method: "DELETE", path: `/webhooks/${seg(webhookId)}`, credential: "key", retry: "safe" },
      options,
    );
  }

  /** POST /webhooks/:id/test: queues a `ping` to the endpoint. */
  test(webhookId: string, options?: CallOptions): Promise<WebhookPing> {
    return this.transport.request(
      {
        method: "POST",
        path: `/webhooks/${seg(webhookId)}/test`,
        body: {},
        credential: "key",
        // Each call queues one more ping.
        retry: "unsafe",
      },
      options,
    );
  }

  /** GET /webhooks/:id/deliveries: deliveries, newest first, each with every attempt. */
  deliveries(
    webhookId: string,
    query: PageQuery = {},
    options?: CallOptions,
  ): Promise<WebhookDeliveries> {
    return this.transport.request(
      {
        method: "GET",
        path: `/webhooks/${seg(webhookId)}/deliveries`,
        query,
        credential: "key",
        retry: "safe",
      },
      options,
    );
  }
}
