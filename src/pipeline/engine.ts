import type { Facts, Finding, Layer, Severity } from "../../layers/types.js";
import type { CompiledPolicy } from "./policy-bundle.js";

export type Verdict = "ALLOW" | "WARN" | "BLOCK";

export type Tier = "high" | "medium" | "low";

export type Decision = Readonly<{
  decision: Verdict;
  findings: readonly Finding[];
  score: number;
  tier: Tier;
  layersChecked: number;
}>;

function tierOf(score: number): Tier {
  return score >= 0.85 ? "high" : score >= 0.6 ? "medium" : "low";
}

/** A finding the pipeline itself raises when a layer cannot give an answer: always BLOCK. */
export function failClosed(layer: Layer["name"], code: string, message: string): Finding {
  return { layer, code, severity: "BLOCK", confidence: 1, message };
}

/**
 * Applies the bundle to one layer's raw findings: monitor mode turns BLOCK into WARN,
 * thresholds downgrade or drop low-confidence findings.
 */
function adjust(finding: Finding, policy: CompiledPolicy, monitor: boolean): Finding | null {
  if (finding.confidence < policy.thresholds.warn) return null;
  let severity: Severity = finding.severity;
  if (severity === "BLOCK" && finding.confidence < policy.thresholds.block) severity = "WARN";
  if (severity === "BLOCK" && monitor) severity = "WARN";
  return severity === finding.severity ? finding : { ...finding, severity };
}

/**
 * Runs every layer and combines their findings. The combination does not depend on layer
 * order: any BLOCK → BLOCK, else any WARN → WARN, else ALLOW. A layer that throws, or whose
 * input exceeds its bound, is a BLOCK naming the layer: the pipeline fails closed.
 */
export function decide(layers: readonly Layer[], facts: Facts, policy: CompiledPolicy): Decision {
  const findings: Finding[] = [];
  let layersChecked = 0;
  for (const layer of layers) {
    const mode = policy.modeOf(layer.name);
    if (mode === "off") continue;
    layersChecked++;
    if (facts.size > layer.maxInputChars) {
      findings.push(
        failClosed(
          layer.name,
          "LAYER_INPUT_BOUND",
          `Input of ${facts.size} characters exceeds what the ${layer.name} layer inspects (${layer.maxInputChars})`,
        ),
      );
      continue;
    }
    let raw: readonly Finding[];
    try {
      raw = layer.check(facts);
    } catch {
      findings.push(
        failClosed(layer.name, "LAYER_ERROR", `The ${layer.name} layer failed; blocking`),
      );
      continue;
    }
    for (const finding of raw) {
      const adjusted = adjust(finding, policy, mode === "monitor");
      if (adjusted !== null) findings.push(adjusted);
    }
  }
  return combine(findings, layersChecked);
}

/** The order-independent combination of findings into a decision with a confidence score. */
export function combine(findings: readonly Finding[], layersChecked: number): Decision {
  let block = 0;
  let warn = 0;
  let anyBlock = false;
  let anyWarn = false;
  for (const f of findings) {
    if (f.severity === "BLOCK") {
      anyBlock = true;
      block = Math.max(block, f.confidence);
    } else {
      anyWarn = true;
      warn = Math.max(warn, f.confidence);
    }
  }
  const decision: Verdict = anyBlock ? "BLOCK" : anyWarn ? "WARN" : "ALLOW";
  // ALLOW's score is how sure we are nothing is wrong: high with no findings at all.
  const raw = anyBlock ? block : anyWarn ? warn : 0.95;
  const score = Math.round(raw * 100) / 100;
  // Reported strongest first, so the first threat explains the decision.
  const sorted = [...findings].sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === "BLOCK" ? -1 : 1) ||
      b.confidence - a.confidence ||
      (a.layer < b.layer ? -1 : a.layer > b.layer ? 1 : 0) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
  return { decision, findings: sorted, score, tier: tierOf(score), layersChecked };
}
