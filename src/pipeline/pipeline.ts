import { z } from "zod";
import defaultPolicy from "../../data/policies/default.json" with { type: "json" };
import { ACTION_TABLE_DATA, buildLayers } from "../../layers/registry.js";
import { ACTION_KINDS } from "../../layers/rules.js";
import type { Facts, Layer } from "../../layers/types.js";
import { combine, type Decision, decide, failClosed } from "./engine.js";
import { type ActionTable, buildFacts, type ProtectRequest } from "./facts.js";
import { type CompiledPolicy, compilePolicy } from "./policy-bundle.js";

const ActionTableSchema = z.object({
  $comment: z.string().optional(),
  exact: z.record(z.string(), z.enum(ACTION_KINDS)),
  token_rules: z.array(
    z.strictObject({
      all: z.array(z.string()).optional(),
      any: z.array(z.string()).optional(),
      kind: z.enum(ACTION_KINDS),
    }),
  ),
});

/** Everything /api/protect decides with, built once at start-up. */
export type Pipeline = Readonly<{
  layers: readonly Layer[];
  /** Layers that answered a canary request at start-up without throwing (for /api/health). */
  operationalLayers: number;
  defaultPolicy: CompiledPolicy;
  /** The one function the server and the evaluation both call. Never throws: it fails closed. */
  evaluate(request: ProtectRequest, policy?: CompiledPolicy): Decision;
  /** The facts a request is judged on (for tests, the eval's --explain and benchmarks). */
  factsOf(request: ProtectRequest, policy?: CompiledPolicy): Facts;
}>;

/** Builds the layers from data/, compiles every pattern and the default policy bundle. */
export function createPipeline(layers: readonly Layer[] = buildLayers()): Pipeline {
  const table = ActionTableSchema.parse(ACTION_TABLE_DATA);
  const actions: ActionTable = { exact: table.exact, tokenRules: table.token_rules };
  const fallback = compilePolicy(defaultPolicy);
  const canary = buildFacts(
    { action: "read_file", target: "docs/README.md", content: "canary", params: { canary: true } },
    actions,
    fallback,
  );
  const operationalLayers = layers.filter((layer) => {
    try {
      layer.check(canary);
      return true;
    } catch {
      return false;
    }
  }).length;
  return Object.freeze({
    layers,
    operationalLayers,
    defaultPolicy: fallback,
    factsOf: (request, policy = fallback) => buildFacts(request, actions, policy),
    evaluate(request, policy = fallback) {
      let facts: Facts;
      try {
        facts = buildFacts(request, actions, policy);
      } catch {
        return combine(
          [
            failClosed(
              "normalize",
              "PIPELINE_ERROR",
              "The request could not be analysed; blocking",
            ),
          ],
          0,
        );
      }
      return decide(layers, facts, policy);
    },
  });
}
