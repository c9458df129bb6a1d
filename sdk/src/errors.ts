/** One field the gateway refused, as listed in an error's `details`. */
export type FieldIssue = Readonly<{ field: string; message: string }>;

/** What every SDK error carries; `status` is 0 when no HTTP answer was received. */
export type AiegisErrorInit = Readonly<{
  status: number;
  type: string;
  message: string;
  details?: readonly FieldIssue[];
  requestId?: string | undefined;
  retryAfter?: number | undefined;
  extras?: Readonly<Record<string, unknown>>;
  headers?: Headers | undefined;
  cause?: unknown;
}>;

/**
 * Any error the gateway answered with (or that kept it from answering). `type` is the machine
 * code (`VALIDATION_FAILED`, `ACCESS_TOKEN_EXPIRED`…), `requestId` the gateway's `req_…` id to
 * quote to its operators.
 */
export class AiegisError extends Error {
  override name = "AiegisError";
  readonly status: number;
  readonly type: string;
  readonly details: readonly FieldIssue[];
  readonly requestId: string | undefined;
  /** Seconds the gateway asked to wait (`Retry-After`), when it did. */
  readonly retryAfter: number | undefined;
  /** Other members of the envelope, e.g. `decision: "DENY"`, `reason`, `required_scope`. */
  readonly extras: Readonly<Record<string, unknown>>;
  readonly headers: Headers | undefined;

  constructor(init: AiegisErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.type = init.type;
    this.details = init.details ?? [];
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    this.extras = init.extras ?? {};
    this.headers = init.headers;
  }
}

/** 400: the request was refused as invalid; `details` names each field. */
export class ValidationError extends AiegisError {
  override name = "ValidationError";
}

/** 401: missing, invalid or expired credentials. */
export class AuthenticationError extends AiegisError {
  override name = "AuthenticationError";
}

/** 403: authenticated, but not allowed (scope, role, quarantine, unverified e-mail…). */
export class PermissionError extends AiegisError {
  override name = "PermissionError";
}

/** 404: no such resource, or one the caller may not see (the gateway does not tell them apart). */
export class NotFoundError extends AiegisError {
  override name = "NotFoundError";
}

/** 409: the request conflicts with the current state (a duplicate, the last owner…). */
export class ConflictError extends AiegisError {
  override name = "ConflictError";
}

/** 429: rate limited; `retryAfter` says how long to wait. */
export class RateLimitError extends AiegisError {
  override name = "RateLimitError";
}

/** 5xx: the gateway (or a proxy in front of it) failed. */
export class ServerError extends AiegisError {
  override name = "ServerError";
}

/** No HTTP answer at all: DNS, refused or reset connection, TLS failure. */
export class ConnectionError extends AiegisError {
  override name = "ConnectionError";
}

/** No answer within `timeoutMs`. */
export class TimeoutError extends ConnectionError {
  override name = "TimeoutError";
}

/** The error class for an HTTP status. */
export function errorClassFor(status: number): typeof AiegisError {
  if (status === 400) return ValidationError;
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionError;
  if (status === 404) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 429) return RateLimitError;
  if (status >= 500) return ServerError;
  return AiegisError;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

function issuesOf(value: unknown): FieldIssue[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((issue) => ({
    field: String(issue.field ?? ""),
    message: String(issue.message ?? ""),
  }));
}

const ENVELOPE_MEMBERS = new Set([
  "code",
  "type",
  "message",
  "details",
  "requestId",
  "request_id",
  "timestamp",
  "error",
]);

function extrasOf(source: Record<string, unknown>): Record<string, unknown> {
  const extras: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (!ENVELOPE_MEMBERS.has(key)) extras[key] = value;
  }
  return extras;
}

type Parsed = {
  type: string;
  message: string;
  details: FieldIssue[];
  requestId?: string;
  extras: Record<string, unknown>;
};

/**
 * Reads either envelope the gateway writes: /api/v1's `{error:{code,type,message,details,
 * requestId}}` or the legacy `{error:"…",code:"…",request_id}`. Anything else (an HTML page from a
 * proxy, an empty body) still yields a typed error named after the status.
 */
function parseEnvelope(status: number, statusText: string, text: string): Parsed {
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isRecord(body) && isRecord(body.error)) {
    const e = body.error;
    return {
      type: typeof e.type === "string" ? e.type : `HTTP_${status}`,
      message: typeof e.message === "string" ? e.message : statusText || `HTTP ${status}`,
      details: issuesOf(e.details),
      ...(typeof e.requestId === "string" ? { requestId: e.requestId } : {}),
      extras: extrasOf(e),
    };
  }
  if (isRecord(body) && typeof body.error === "string") {
    return {
      type: typeof body.code === "string" ? body.code : `HTTP_${status}`,
      // 429s pair a short `error` with a human `message`; prefer the human one.
      message: typeof body.message === "string" ? body.message : body.error,
      details: issuesOf(body.details),
      ...(typeof body.request_id === "string" ? { requestId: body.request_id } : {}),
      extras: extrasOf(body),
    };
  }
  const snippet = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return {
    type: `HTTP_${status}`,
    message: `HTTP ${status}${statusText ? ` ${statusText}` : ""}${snippet ? `: ${snippet}` : ""}`,
    details: [],
    extras: {},
  };
}

/** Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now) / 1000);
}

/** Builds the typed error for a non-2xx response whose body was read as `text`. */
export function errorFromResponse(response: Response, text: string): AiegisError {
  const parsed = parseEnvelope(response.status, response.statusText, text);
  const ErrorClass = errorClassFor(response.status);
  return new ErrorClass({
    status: response.status,
    type: parsed.type,
    message: parsed.message,
    details: parsed.details,
    requestId: parsed.requestId ?? response.headers.get("x-request-id") ?? undefined,
    retryAfter: parseRetryAfter(response.headers.get("retry-after")),
    extras: parsed.extras,
    headers: response.headers,
  });
}
