import assert from "node:assert/strict";
import type { Finding, Layer, LayerName } from "../../layers/types.js";
import type { ProtectRequest } from "../../src/pipeline/facts.js";
import { createPipeline, type Pipeline } from "../../src/pipeline/pipeline.js";

export type Verdict = "ALLOW" | "WARN" | "BLOCK";

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
export function verdictOf(request: ProtectRequest): Verdict {
  return pipeline().evaluate(request).decision;
}

/** The registry's layer called `name` (fails the test if there is none). */
export function layerNamed(name: LayerName): Layer {
  const found = pipeline().layers.find((l) => l.name === name);
  assert.ok(found, `the registry has a ${name} layer`);
  return found;
}

/** What one layer alone makes of `request` once the default policy's thresholds apply. */
export function layerVerdict(layer: Layer, request: ProtectRequest): Verdict {
  const { block, warn } = pipeline().defaultPolicy.thresholds;
  const findings = checkLayer(layer, request).filter((f) => f.confidence >= warn);
  if (findings.some((f) => f.severity === "BLOCK" && f.confidence >= block)) return "BLOCK";
  return findings.length > 0 ? "WARN" : "ALLOW";
}

/** Asserts one layer's verdict, printing its findings when it differs. */
export function expectLayerVerdict(layer: Layer, request: ProtectRequest, expected: Verdict): void {
  const got = layerVerdict(layer, request);
  if (got === expected) return;
  const findings = checkLayer(layer, request).map((f) => [f.code, f.severity, f.confidence]);
  assert.fail(
    `${JSON.stringify(request)}: expected ${expected}, got ${got} ${JSON.stringify(findings)}`,
  );
}

/** Asserts that one layer reports `code` for `request`. */
export function expectCode(layer: Layer, request: ProtectRequest, code: string): void {
  const codes = codesOf(layer, request);
  assert.ok(
    codes.includes(code),
    `expected ${code} for ${JSON.stringify(request)}, got [${codes}]`,
  );
}
