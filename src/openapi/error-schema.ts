import { z } from "zod";
import { CODE_TO_STATUS, type ErrorCode } from "../errors.js";
import { SCOPES } from "../scopes.js";

const ERROR_CODES = Object.keys(CODE_TO_STATUS) as [ErrorCode, ...ErrorCode[]];

/**
 * The structured error envelope of /api/v1 (`toV1Envelope`): one shape for every error of every
 * operation. Members beyond the fixed ones are the error's extras, e.g. `decision` on denials.
 */
export const ErrorSchema = z
  .strictObject({
    error: z.looseObject({
      code: z.int().min(400).max(599).meta({ description: "The HTTP status." }),
      type: z.enum(ERROR_CODES).meta({ description: "The machine-readable error code." }),
      message: z.string(),
      details: z
        .array(z.strictObject({ field: z.string(), message: z.string() }))
        .meta({ description: "One entry per invalid field; empty when not a validation error." }),
      requestId: z.string().startsWith("req_").meta({ description: "Also sent as X-Request-Id." }),
      timestamp: z.iso.datetime(),
      decision: z
        .literal("DENY")
        .optional()
        .meta({ description: "On authentication and authorisation denials." }),
      reason: z.string().optional().meta({ description: "Why a passport was rejected." }),
      required_scope: z
        .enum(SCOPES)
        .optional()
        .meta({ description: "The scope an organization key lacked (INSUFFICIENT_SCOPE)." }),
      retry_after_s: z.int().optional().meta({ description: "On 429: seconds to wait." }),
      limit: z.int().optional().meta({ description: "On 413: the body limit in bytes." }),
      allow: z.string().optional().meta({ description: "On 405: the methods the path serves." }),
    }),
  })
  .meta({
    description:
      "The /api/v1 error envelope. Under the legacy /api/ paths the same errors are rendered as " +
      '`{"error":"<message>","code":"<type>","request_id":"req_…","details"?:[…]}`.',
  });

/** The error responses operations refer to, by status. */
export const ERROR_RESPONSES: Readonly<Record<number, { name: string; description: string }>> = {
  400: {
    name: "BadRequest",
    description:
      "The input is invalid (VALIDATION_FAILED, with one `details` entry per field), or the body is not well-formed JSON.",
  },
  401: {
    name: "Unauthorized",
    description: "No credential, an invalid or expired one, or two different ones (DENY).",
  },
  403: {
    name: "Forbidden",
    description:
      "The credential may not do this: wrong role, missing scope (INSUFFICIENT_SCOPE), unverified or quarantined agent (DENY).",
  },
  404: { name: "NotFound", description: "No such resource, or not one the caller may see." },
  409: { name: "Conflict", description: "The request conflicts with the current state." },
  413: { name: "PayloadTooLarge", description: "The body exceeds this operation's size limit." },
  415: { name: "UnsupportedMediaType", description: "The body is not `application/json`." },
  429: {
    name: "TooManyRequests",
    description: "A rate limit was reached; retry after `Retry-After` seconds.",
  },
  503: { name: "ServiceUnavailable", description: "A dependency could not answer." },
};
