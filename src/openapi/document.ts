import type { ZodType } from "zod";
import {
  errorResponseRef,
  errorResponses,
  errorSchema,
  HEADERS,
  SECURITY_SCHEMES,
  successHeaders,
} from "./components.js";
import { objectMembers, toJsonSchema } from "./json-schema.js";
import { type Access, type OperationSpec, TAGS } from "./operation.js";
import { AGENT_OPERATIONS } from "./operations/agents.js";
import { AUDIT_OPERATIONS } from "./operations/audit.js";
import { AUTH_OPERATIONS } from "./operations/auth.js";
import { ORGANIZATION_OPERATIONS } from "./operations/organizations.js";
import { PASSPORT_OPERATIONS } from "./operations/passports.js";
import { PROTECT_OPERATIONS } from "./operations/protect.js";
import { SCORE_OPERATIONS } from "./operations/score.js";
import { SYSTEM_OPERATIONS } from "./operations/system.js";
import { WEBHOOK_OPERATIONS } from "./operations/webhooks.js";

type Json = Record<string, unknown>;

/** Every documented operation, in the order the docs list them. */
export const OPERATIONS: readonly OperationSpec[] = [
  ...PROTECT_OPERATIONS,
  ...AGENT_OPERATIONS,
  ...PASSPORT_OPERATIONS,
  ...SCORE_OPERATIONS,
  ...AUDIT_OPERATIONS,
  ...WEBHOOK_OPERATIONS,
  ...AUTH_OPERATIONS,
  ...ORGANIZATION_OPERATIONS,
  ...SYSTEM_OPERATIONS,
];

const CREDENTIALS: Readonly<Record<Access, string>> = {
  public: "none.",
  agent: "an agent key (the request acts as its agent).",
  owner: "an agent key (on the agents of its own owner) or an admin key.",
  admin: "an admin key.",
  operator: "an operator access token (`Authorization: Bearer <JWT>`).",
  operatorOrKey: "an operator access token, or an organization API key of this organization.",
  optionalOperator: "the refresh token in the body, or else an operator access token.",
};

const KEY_SECURITY = [{ apiKey: [] }, { bearer: [] }];

function securityOf(spec: OperationSpec): Json[] {
  switch (spec.access) {
    case "public":
      return [];
    case "operator":
      return [{ bearer: [] }];
    case "operatorOrKey":
      return [{ bearer: [] }, { apiKey: [] }];
    case "optionalOperator":
      // `{}`: no scheme at all is one of the alternatives.
      return [{}, { bearer: [] }];
    default:
      // The passport travels beside the key, never instead of it.
      return spec.passport === true
        ? [...KEY_SECURITY, { apiKey: [], agentPassport: [] }, { bearer: [], agentPassport: [] }]
        : KEY_SECURITY;
  }
}

function scopeLine(spec: OperationSpec): string {
  if (spec.scope !== undefined) {
    return `**Organization API keys:** need the \`${spec.scope}\` scope, and act only on their organization's agents.`;
  }
  if (spec.access === "public" || spec.access === "optionalOperator") return "";
  return "**Organization API keys:** refused.";
}

/** /api/v1 counts every authenticated request per credential besides the per-route limits. */
function rateLimitLine(spec: OperationSpec): string {
  if (spec.path === "/metrics") return "**Rate limits:** none (not counted by the per-IP limit).";
  const v1 = spec.path.startsWith("/api/v1/") && spec.access !== "public";
  return `**Rate limits:** the per-IP default unless a limit of its own is named above${
    v1 ? "; also 100/min per operator, 1,000/min per API key and a 200/s burst per credential" : ""
  }. Responses carry \`X-RateLimit-Limit\`, \`X-RateLimit-Remaining\` and \`X-RateLimit-Reset\`; a 429 also \`Retry-After\`.`;
}

function errorStatuses(spec: OperationSpec): number[] {
  const statuses = new Set(spec.errors ?? []);
  if (!spec.path.startsWith("/api/v1/")) return [...statuses].sort();
  if (spec.body !== undefined || spec.query !== undefined || spec.params !== undefined) {
    statuses.add(400);
  }
  if (spec.body !== undefined) {
    statuses.add(413);
    statuses.add(415);
  }
  if (spec.access !== "public" && spec.access !== "optionalOperator") {
    statuses.add(401);
    statuses.add(403);
  }
  statuses.add(429);
  return [...statuses].sort((a, b) => a - b);
}

/** Registers `schema` under `name`; the same name for two different schemas is a bug. */
function register(schemas: Map<string, ZodType>, name: string, schema: ZodType): Json {
  const known = schemas.get(name);
  if (known !== undefined && known !== schema) {
    throw new TypeError(`Two different schemas are both named ${name}`);
  }
  schemas.set(name, schema);
  return { $ref: `#/components/schemas/${name}` };
}

function operationObject(spec: OperationSpec, schemas: Map<string, ZodType>): Json {
  const parameters: Json[] = [];
  for (const [name, param] of Object.entries(spec.params ?? {})) {
    parameters.push({
      name,
      in: "path",
      required: true,
      description: param.description,
      schema: toJsonSchema(param.schema, "input"),
      example: param.example,
    });
  }
  if (spec.query !== undefined) {
    for (const member of objectMembers(spec.query.schema)) {
      const example = spec.query.example[member.name];
      parameters.push({
        name: member.name,
        in: "query",
        required: member.required,
        schema: member.schema,
        ...(example === undefined ? {} : { example }),
      });
    }
  }
  const rateLimited = spec.path !== "/metrics";
  const responses: Json = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const contentType = response.contentType ?? "application/json";
    let media: Json;
    if (response.schema === undefined || response.name === undefined) {
      media = { schema: { type: "string" } };
    } else if (response.jsonLines === true) {
      // OpenAPI 3.1 has no item schema for streamed media; the extension names it for tools.
      media = {
        schema: { type: "string", description: `JSON lines; each line is a ${response.name}.` },
        "x-item-schema": register(schemas, response.name, response.schema),
      };
    } else {
      media = { schema: register(schemas, response.name, response.schema) };
    }
    responses[status] = {
      description: response.description,
      headers: successHeaders(rateLimited),
      content: { [contentType]: media },
    };
  }
  for (const status of errorStatuses(spec)) responses[String(status)] = errorResponseRef(status);

  const body = spec.body;
  const description = [
    spec.description,
    `**Credentials:** ${CREDENTIALS[spec.access]}`,
    scopeLine(spec),
    body === undefined
      ? ""
      : `**Body:** JSON, at most ${body.maxBytes.toLocaleString("en")} bytes; unknown fields are 400.`,
    rateLimitLine(spec),
  ]
    .filter((line) => line !== "")
    .join("\n\n");

  return {
    operationId: spec.operationId,
    summary: spec.summary,
    description,
    tags: [spec.tag],
    security: securityOf(spec),
    ...(spec.scope === undefined ? {} : { "x-required-scope": spec.scope }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(body === undefined
      ? {}
      : {
          requestBody: {
            required: body.required ?? true,
            content: {
              "application/json": {
                schema: toJsonSchema(body.schema, "input"),
                example: body.example,
              },
            },
          },
        }),
    responses,
  };
}

const INTRO = `The AiEGIS gateway: agents ask before they act, operators manage organizations, agents and scoped keys.

Every endpoint is served under \`/api/v1/…\` (documented here) and, for existing clients, under \`/api/…\` (and \`/registry/…\`): the same handlers. Under \`/api/v1\` errors use the structured envelope (\`Error\`); under \`/api/\` the legacy one, \`{"error":"<message>","code":"<TYPE>","request_id":"req_…","details"?:[…]}\`.

Bodies are JSON; unknown fields are rejected. Every response carries \`X-Request-Id\`. Rate limits answer 429 with \`Retry-After\` and \`X-RateLimit-*\`.`;

export type DocumentOptions = Readonly<{ serverUrl: string; version: string }>;

/** Builds the OpenAPI 3.1 document from the operation tables and the routes' zod schemas. */
export function buildOpenApiDocument(options: DocumentOptions): Json {
  const schemas = new Map<string, ZodType>();
  const paths: Record<string, Json> = {};
  const ids = new Set<string>();
  for (const spec of OPERATIONS) {
    if (ids.has(spec.operationId)) throw new TypeError(`Duplicate operationId ${spec.operationId}`);
    ids.add(spec.operationId);
    paths[spec.path] = { ...paths[spec.path], [spec.method]: operationObject(spec, schemas) };
  }
  const componentSchemas: Json = { Error: errorSchema() };
  for (const [name, schema] of [...schemas].sort(([a], [b]) => a.localeCompare(b))) {
    componentSchemas[name] = toJsonSchema(schema, "output");
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "AiEGIS gateway API",
      version: options.version,
      description: INTRO,
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: options.serverUrl }],
    tags: TAGS.map((tag) => ({ ...tag })),
    paths,
    components: {
      schemas: componentSchemas,
      responses: errorResponses(),
      headers: HEADERS,
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
