export { Aiegis, type AiegisOptions } from "./client.js";
export {
  AiegisError,
  type AiegisErrorInit,
  AuthenticationError,
  ConflictError,
  ConnectionError,
  type FieldIssue,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from "./errors.js";
export { BlockedError, type GuardOptions, guard, type Protector } from "./guard.js";
export type * from "./resources/agents.js";
export type * from "./resources/audit.js";
export type * from "./resources/auth.js";
export type * from "./resources/organizations.js";
export type * from "./resources/passports.js";
export type * from "./resources/protect.js";
export type { PageQuery } from "./resources/resource.js";
export type * from "./resources/score.js";
export type * from "./resources/webhooks.js";
export type { RetryMode, RetryPolicy } from "./retry.js";
export type { CallOptions, TokenSet } from "./transport.js";
export {
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookEvent,
  type WebhookEventData,
  type WebhookHeaders,
  WebhookVerificationError,
} from "./webhook-verify.js";
