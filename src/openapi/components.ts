import { ERROR_RESPONSES, ErrorSchema } from "./error-schema.js";
import { toJsonSchema } from "./json-schema.js";

type Json = Record<string, unknown>;

/** How clients authenticate; operations list the alternatives they accept. */
export const SECURITY_SCHEMES = {
  apiKey: {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description:
      "An agent key (`ak_…`, acts as its agent), an admin key, or a scoped organization key (`ak_live_…`, only its scopes, only its organization's agents).",
  },
  bearer: {
    type: "http",
    scheme: "bearer",
    description:
      "`Authorization: Bearer …`: an operator access token (JWT, accepted only on /api/v1/auth/me and /api/v1/organizations…) or any API key, as with X-API-Key. A passport is never accepted as an access token, nor the reverse.",
  },
  agentPassport: {
    type: "apiKey",
    in: "header",
    name: "X-Agent-Passport",
    description:
      "A passport issued by /api/v1/agent/issue, sent beside the agent's key: its policy bundle judges the request.",
  },
} as const;

const header = (description: string, schema: Json = { type: "integer" }) => ({
  description,
  schema,
});

/** Headers responses carry; referred to from every response. */
export const HEADERS = {
  "X-Request-Id": header("The request's id, also in error bodies as `requestId`.", {
    type: "string",
  }),
  "X-RateLimit-Limit": header("Requests allowed in the current window of the limit that applied."),
  "X-RateLimit-Remaining": header("Requests left in that window."),
  "X-RateLimit-Reset": header("When the window resets, in epoch seconds."),
  "Retry-After": header("Seconds to wait before retrying."),
} as const;

const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

/** The headers of a success response: the request id, and the rate-limit headers where limited. */
export function successHeaders(rateLimited: boolean): Json {
  if (!rateLimited) return { "X-Request-Id": ref("X-Request-Id") };
  return {
    "X-Request-Id": ref("X-Request-Id"),
    "X-RateLimit-Limit": ref("X-RateLimit-Limit"),
    "X-RateLimit-Remaining": ref("X-RateLimit-Remaining"),
    "X-RateLimit-Reset": ref("X-RateLimit-Reset"),
  };
}

/** components.responses: one per error status, all with the one `Error` schema. */
export function errorResponses(): Json {
  const responses: Json = {};
  for (const [status, { name, description }] of Object.entries(ERROR_RESPONSES)) {
    const headers: Json =
      status === "429"
        ? { ...successHeaders(true), "Retry-After": ref("Retry-After") }
        : successHeaders(false);
    responses[name] = {
      description,
      headers,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return responses;
}

/** The `Error` component schema. */
export function errorSchema(): Json {
  return toJsonSchema(ErrorSchema, "output");
}

/** The reference to the error response of `status`. */
export function errorResponseRef(status: number): Json {
  const known = ERROR_RESPONSES[status];
  if (known === undefined) throw new TypeError(`No error response for status ${status}`);
  return { $ref: `#/components/responses/${known.name}` };
}
