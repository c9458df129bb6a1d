import { done } from "./rules.js";
import type { Facts, Finding, Layer } from "./types.js";

/**
 * Layer 2: what the agent's policy bundle allows. Action globs decide deny / warn / allow
 * (an action no allow glob covers is denied: bundles are allow-lists when they want to be);
 * target globs can deny or flag targets whatever the action.
 */
export function createPolicyLayer(): Layer {
  return {
    name: "policy",
    maxInputChars: Number.POSITIVE_INFINITY,
    check(facts: Facts): readonly Finding[] {
      const found: Finding[] = [];
      const policy = facts.policy;
      const action = policy.actionRule(facts.actionName);
      const evidence = facts.actionName.slice(0, 120);
      if (action === "deny") {
        found.push({
          layer: "policy",
          code: "POLICY_ACTION_DENIED",
          severity: "BLOCK",
          confidence: 1,
          message: `Policy "${policy.id}" denies this action`,
          evidence,
        });
      } else if (action === "unlisted") {
        found.push({
          layer: "policy",
          code: "POLICY_ACTION_NOT_ALLOWED",
          severity: "BLOCK",
          confidence: 1,
          message: `Policy "${policy.id}" does not allow this action`,
          evidence,
        });
      } else if (action === "warn") {
        found.push({
          layer: "policy",
          code: "POLICY_ACTION_REVIEW",
          severity: "WARN",
          confidence: 1,
          message: `Policy "${policy.id}" asks for review of this action`,
          evidence,
        });
      }
      const target = policy.targetRule(facts.target.norm);
      if (target !== null) {
        found.push({
          layer: "policy",
          code: target === "deny" ? "POLICY_TARGET_DENIED" : "POLICY_TARGET_REVIEW",
          severity: target === "deny" ? "BLOCK" : "WARN",
          confidence: 1,
          message: `Policy "${policy.id}" ${target === "deny" ? "denies" : "flags"} this target`,
          evidence: facts.target.norm.slice(0, 120),
        });
      }
      return done(found);
    },
  };
}
