import type { Finding, Layer } from "../../layers/types.js";
import type { ProtectRequest } from "../../src/pipeline/facts.js";
import { createPipeline, type Pipeline } from "../../src/pipeline/pipeline.js";

let shared: Pipeline | undefined;

/** The server's pipeline, built once per test file. */
export function pipeline(): Pipeline {
  shared ??= createPipeline();
  return shared;
}

/** Runs one layer alone on the facts of `request` (default policy). */
export function checkLayer(layer: Layer, request: ProtectRequest): readonly Finding[] {
  return layer.check(pipeline().factsOf(request));
}

/** The codes one layer finds for `request`. */
export function codesOf(layer: Layer, request: ProtectRequest): string[] {
  return checkLayer(layer, request).map((f) => f.code);
}

/** The whole pipeline's verdict for `request`. */
export function verdictOf(request: ProtectRequest): "ALLOW" | "WARN" | "BLOCK" {
  return pipeline().evaluate(request).decision;
}
