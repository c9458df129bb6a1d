import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { isV1 } from "../api-version.js";
import type { AppEnv } from "../app-env.js";
import { type ErrorCode, GatewayError, toEnvelope, toV1Envelope } from "../errors.js";
import { newRequestId } from "../ids.js";
import { accessLogger, type Logger } from "../logger.js";

/** Told of every answered request and its latency (metrics); runs after the response is built. */
export type RequestObserver = (c: Context<AppEnv>, seconds: number) => void;

/**
 * Gives every request an id (echoed as X-Request-Id), API-wide response headers, and one
 * access-log line: method, path without the query (a verification token lives there), status.
 * `observe` shares this middleware's clock reads rather than adding a middleware of its own.
 */
export function requestContext(
  logger: Logger,
  observe?: RequestObserver,
): MiddlewareHandler<AppEnv> {
  const access = accessLogger(logger);
  return async (c, next) => {
    const started = performance.now();
    const requestId = newRequestId();
    c.set("requestId", requestId);
    c.set("startedAt", started);
    c.header("X-Request-Id", requestId);
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
    await next();
    const elapsed = performance.now() - started;
    observe?.(c, elapsed / 1000);
    access.info(
      {
        req_id: requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(elapsed * 1000) / 1000,
      },
      "request",
    );
  };
}

const HTTP_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: "VALIDATION_FAILED",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
};

/** Turns any thrown value into the error envelope; unknown errors become a 500 that leaks nothing. */
export function renderError(err: unknown, c: Context<AppEnv>, logger: Logger): Response {
  let gatewayError: GatewayError;
  if (err instanceof GatewayError) {
    gatewayError = err;
  } else if (err instanceof HTTPException && HTTP_STATUS_CODES[err.status] !== undefined) {
    gatewayError = new GatewayError(HTTP_STATUS_CODES[err.status]!, err.message || "Bad request");
  } else {
    logger.error({ req_id: c.get("requestId"), err }, "unhandled error");
    gatewayError = new GatewayError("INTERNAL", "Internal error");
  }
  const requestId = c.get("requestId") ?? newRequestId();
  if (gatewayError.code === "METHOD_NOT_ALLOWED" && gatewayError.extras?.allow !== undefined) {
    c.header("Allow", String(gatewayError.extras.allow));
  }
  return c.json(
    isV1(c)
      ? toV1Envelope(gatewayError, requestId, new Date())
      : toEnvelope(gatewayError, requestId),
    gatewayError.status,
  );
}
