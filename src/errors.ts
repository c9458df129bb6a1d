import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every machine code the API can answer with. */
export type ErrorCode =
  | "VALIDATION_FAILED"
  | "MALFORMED_HTTP"
  | "MALFORMED_JSON"
  | "INVALID_UTF8"
  | "BODY_REQUIRED"
  | "BODY_INCOMPLETE"
  | "TOKEN_INVALID"
  | "TOKEN_EXPIRED"
  | "TOKEN_USED"
  | "UNAUTHENTICATED"
  | "INVALID_API_KEY"
  | "INVALID_CREDENTIALS"
  | "AMBIGUOUS_IDENTITY"
  | "INVALID_ACCESS_TOKEN"
  | "ACCESS_TOKEN_EXPIRED"
  | "INVALID_REFRESH_TOKEN"
  | "REFRESH_TOKEN_REUSED"
  | "INSUFFICIENT_SCOPE"
  | "EMAIL_UNVERIFIED"
  | "AGENT_QUARANTINED"
  | "AGENT_ID_MISMATCH"
  | "FORBIDDEN"
  | "PASSPORT_REJECTED"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "REQUEST_TIMEOUT"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "HEADERS_TOO_LARGE"
  | "INTERNAL"
  | "UNAVAILABLE";

/** The HTTP status of each code; a Record so that adding a code without a status fails to compile. */
export const CODE_TO_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_HTTP: 400,
  MALFORMED_JSON: 400,
  INVALID_UTF8: 400,
  BODY_REQUIRED: 400,
  BODY_INCOMPLETE: 400,
  TOKEN_INVALID: 400,
  TOKEN_EXPIRED: 400,
  TOKEN_USED: 400,
  UNAUTHENTICATED: 401,
  INVALID_API_KEY: 401,
  INVALID_CREDENTIALS: 401,
  AMBIGUOUS_IDENTITY: 401,
  INVALID_ACCESS_TOKEN: 401,
  ACCESS_TOKEN_EXPIRED: 401,
  INVALID_REFRESH_TOKEN: 401,
  REFRESH_TOKEN_REUSED: 401,
  INSUFFICIENT_SCOPE: 403,
  EMAIL_UNVERIFIED: 403,
  AGENT_QUARANTINED: 403,
  AGENT_ID_MISMATCH: 403,
  FORBIDDEN: 403,
  PASSPORT_REJECTED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

export type FieldIssue = Readonly<{ field: string; message: string }>;

/** Extra top-level members some errors carry, e.g. `decision` on auth denials or `limit` on 413. */
export type ErrorExtras = Readonly<Record<string, string | number | boolean>>;

/** The one error type of the gateway: a machine code, a human message, and optional details. */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly FieldIssue[],
    readonly extras?: ErrorExtras,
  ) {
    super(message);
    this.status = CODE_TO_STATUS[code];
  }
}

/** Authentication and authorisation denials carry `decision: "DENY"` like /api/protect's answers. */
export function denied(code: ErrorCode, message: string, extras?: ErrorExtras): GatewayError {
  return new GatewayError(code, message, undefined, { ...extras, decision: "DENY" });
}

export type ErrorEnvelope = {
  error: string;
  code: ErrorCode;
  request_id: string;
  details?: readonly FieldIssue[];
  [extra: string]: unknown;
};

/** Renders the one error envelope shared by every route, middleware and the rate limiter. */
export function toEnvelope(err: GatewayError, requestId: string): ErrorEnvelope {
  const body: ErrorEnvelope = {
    ...err.extras,
    error: err.message,
    code: err.code,
    request_id: requestId,
  };
  if (err.details !== undefined) body.details = err.details;
  return body;
}

/** The structured envelope of /api/v1: `code` is the HTTP status, `type` the machine code. */
export type V1ErrorEnvelope = {
  error: {
    code: number;
    type: ErrorCode;
    message: string;
    details: readonly FieldIssue[];
    requestId: string;
    timestamp: string;
    [extra: string]: unknown;
  };
};

/** Renders an error for /api/v1: the same GatewayError, the structured envelope. */
export function toV1Envelope(err: GatewayError, requestId: string, at: Date): V1ErrorEnvelope {
  // Where the legacy envelope pairs a short `error` with a longer `message` extra (429s), the
  // structured one has a single message: the longer, human one.
  const { message: long, ...extras } = err.extras ?? {};
  return {
    error: {
      ...extras,
      code: err.status,
      type: err.code,
      message: typeof long === "string" ? long : err.message,
      details: err.details ?? [],
      requestId,
      timestamp: at.toISOString(),
    },
  };
}
