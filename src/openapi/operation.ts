import type { ZodType } from "zod";
import type { Scope } from "../scopes.js";

/** The tags the operations are grouped under, in the order the docs show them. */
export const TAGS = [
  { name: "Protect", description: "Ask the gateway before an agent acts." },
  {
    name: "Agents",
    description: "Self-registration, e-mail verification, the calling agent, quarantine.",
  },
  { name: "Passports", description: "Signed, short-lived statements about an agent; revocation." },
  { name: "Scoring", description: "EU AI Act risk tier, grade and obligations of an agent." },
  { name: "Audit", description: "The hash-chained audit log and its signed checkpoints." },
  { name: "Webhooks", description: "Signed event deliveries to your endpoints." },
  { name: "Auth", description: "Operator accounts: sign-up, login, refresh and logout." },
  { name: "Organizations", description: "Organizations, their members and their agents." },
  { name: "API keys", description: "Scoped organization API keys (`ak_live_…`)." },
  { name: "System", description: "Health, signing keys, metrics and this document." },
] as const;

export type Tag = (typeof TAGS)[number]["name"];

/**
 * Who may call an operation:
 * - `public`: no credential;
 * - `agent`: an agent key (acting as its agent), or an organization key where a scope is named;
 * - `owner`: an agent key of the same owner as the target agent, or an admin key;
 * - `admin`: an admin key;
 * - `operator`: an operator access token (JWT);
 * - `operatorOrKey`: an operator access token, or an organization key with the operation's scope;
 * - `optionalOperator`: a secret in the body (a refresh token), or else an operator access token.
 */
export type Access =
  | "public"
  | "agent"
  | "owner"
  | "admin"
  | "operator"
  | "operatorOrKey"
  | "optionalOperator";

/**
 * A success response. JSON by default: `schema` is registered once as `components.schemas[name]`
 * and referred to. `jsonLines`: the body is JSON lines, each line a `name` document. Without a
 * schema the body is text.
 */
export type ResponseSpec = Readonly<{
  description: string;
  contentType?: string;
  name?: string;
  schema?: ZodType;
  jsonLines?: boolean;
}>;

export type ParamSpec = Readonly<{ schema: ZodType; description: string; example: string }>;

/** One operation of the document; the builder adds the shared headers, errors and prose. */
export type OperationSpec = Readonly<{
  method: "get" | "post" | "patch" | "delete";
  /** The OpenAPI path, `{param}` style. */
  path: string;
  operationId: string;
  summary: string;
  description: string;
  tag: Tag;
  access: Access;
  /** The scope an organization API key needs here; absent: organization keys are refused. */
  scope?: Scope;
  /** Also accepts X-Agent-Passport (the passport's policy bundle then judges the request). */
  passport?: boolean;
  /** A JSON body, validated by `schema` (the route's own zod schema); `example` is sent by the test. */
  body?: Readonly<{ schema: ZodType; example: unknown; required?: boolean; maxBytes: number }>;
  /** Query parameters: the route's own strict zod object; `example` values are sent by the test. */
  query?: Readonly<{ schema: ZodType; example: Readonly<Record<string, string>> }>;
  params?: Readonly<Record<string, ParamSpec>>;
  /** Success responses by status. */
  responses: Readonly<Record<number, ResponseSpec>>;
  /** Error statuses beyond the ones every such operation has (400 with input, 401/403 with a credential, 429). */
  errors?: readonly number[];
}>;
