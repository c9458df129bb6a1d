import { type ZodType, z } from "zod";

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as plain data. */
export type JsonSchema = Record<string, unknown>;

/**
 * Formats zod emits that are not JSON Schema formats (`z.string().startsWith()` becomes
 * `format: "starts_with"` beside its `pattern`): the pattern says it all, and a validator that
 * checks formats would reject the unknown name.
 */
const NON_STANDARD_FORMATS: ReadonlySet<string> = new Set(["starts_with", "ends_with", "includes"]);

/**
 * Converts a zod schema with zod's own converter. `io: "input"` describes what a client sends
 * (before `.trim()`, `.transform()` and defaults), `"output"` what the gateway answers.
 * Refinements (`.refine()`) have no JSON Schema form and are left out: the document is never
 * stricter than the route, only sometimes looser (e.g. the e-mail check, control characters).
 */
export function toJsonSchema(schema: ZodType, io: "input" | "output"): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    // Transforms of query strings (intString, times) have no output form; they are strings in.
    unrepresentable: "any",
    override: ({ jsonSchema }) => {
      const format = jsonSchema.format;
      if (typeof format === "string" && NON_STANDARD_FORMATS.has(format)) delete jsonSchema.format;
    },
  }) as JsonSchema;
  // The document declares the dialect once (jsonSchemaDialect); embedded schemas need no $schema.
  delete json.$schema;
  return json;
}

/** The members of an object schema with whether each is required, for query parameters. */
export function objectMembers(
  schema: ZodType,
): { name: string; schema: JsonSchema; required: boolean }[] {
  const json = toJsonSchema(schema, "input");
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, member]) => ({
    name,
    schema: member,
    required: required.has(name),
  }));
}
