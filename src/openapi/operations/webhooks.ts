import { BODY_LIMIT } from "../../body-limits.js";
import { AuthOnlyBody, CreateBody, IdParam, PageQuery } from "../../routes/webhooks.js";
import { EXAMPLE } from "../examples.js";
import type { OperationSpec } from "../operation.js";
import {
  CreatedWebhook,
  DeletedWebhook,
  DeliveryPage,
  QueuedPing,
  WebhookPage,
} from "../schemas/webhooks.js";

const webhookIdParam = {
  id: { schema: IdParam, description: "The webhook endpoint id.", example: EXAMPLE.webhookId },
};

const OWNERSHIP =
  "An agent key manages its own agent's endpoints, an organization key its organization's, an admin key any; others' endpoints are 404.";

/** Webhook endpoints, pings and deliveries. */
export const WEBHOOK_OPERATIONS: readonly OperationSpec[] = [
  {
    method: "post",
    path: "/api/v1/webhooks",
    operationId: "createWebhook",
    summary: "Register a webhook endpoint",
    description:
      "The URL must be https and resolve to public addresses (checked again at every send). The signing secret (`whsec_…`, Standard Webhooks) is shown once. An agent key's endpoint receives its own agent's events; an admin key may name an `agent_id` or none (every agent).",
    tag: "Webhooks",
    access: "owner",
    scope: "webhooks:manage",
    body: {
      schema: CreateBody,
      maxBytes: BODY_LIMIT.public,
      example: {
        url: "https://93.184.215.14/hooks/aiegis",
        events: ["protect.blocked", "agent.quarantined"],
        description: "SIEM forwarder",
      },
    },
    responses: {
      201: { description: "Registered.", name: "CreatedWebhook", schema: CreatedWebhook },
    },
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/api/v1/webhooks",
    operationId: "listWebhooks",
    summary: "The caller's webhook endpoints",
    description: OWNERSHIP,
    tag: "Webhooks",
    access: "owner",
    scope: "webhooks:manage",
    query: { schema: PageQuery, example: { limit: "50" } },
    responses: { 200: { description: "One page.", name: "WebhookPage", schema: WebhookPage } },
  },
  {
    method: "delete",
    path: "/api/v1/webhooks/{id}",
    operationId: "deleteWebhook",
    summary: "Delete a webhook endpoint",
    description: `Pending deliveries are cancelled. ${OWNERSHIP}`,
    tag: "Webhooks",
    access: "owner",
    scope: "webhooks:manage",
    params: webhookIdParam,
    responses: { 200: { description: "Deleted.", name: "DeletedWebhook", schema: DeletedWebhook } },
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/webhooks/{id}/test",
    operationId: "testWebhook",
    summary: "Queue a ping",
    description: `Queues a \`ping\` delivery, sent by the dispatcher like any event. A disabled endpoint is 409. The body is optional. ${OWNERSHIP}`,
    tag: "Webhooks",
    access: "owner",
    scope: "webhooks:manage",
    params: webhookIdParam,
    body: { schema: AuthOnlyBody, maxBytes: BODY_LIMIT.public, required: false, example: {} },
    responses: { 202: { description: "Queued.", name: "QueuedPing", schema: QueuedPing } },
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/api/v1/webhooks/{id}/deliveries",
    operationId: "listWebhookDeliveries",
    summary: "Delivery attempts of an endpoint",
    description: `Newest first, each with its attempt log. ${OWNERSHIP}`,
    tag: "Webhooks",
    access: "owner",
    scope: "webhooks:manage",
    params: webhookIdParam,
    query: { schema: PageQuery, example: { limit: "20" } },
    responses: { 200: { description: "One page.", name: "DeliveryPage", schema: DeliveryPage } },
    errors: [404],
  },
];
