import { createHash } from "node:crypto";
import RE2 from "re2";
import { z } from "zod";
import { LAYER_NAMES, type LayerName, type PolicyView } from "../../layers/types.js";

const Glob = z.string().min(1).max(256);

/** A policy bundle as stored in data/policies/*.json or carried inline by a passport. */
export const PolicyBundleSchema = z.strictObject({
  $comment: z.string().optional(),
  id: z.string().min(1).max(64),
  description: z.string().max(500).optional(),
  actions: z
    .strictObject({
      allow: z.array(Glob).max(256).default(["*"]),
      warn: z.array(Glob).max(256).default([]),
      deny: z.array(Glob).max(256).default([]),
    })
    .default({ allow: ["*"], warn: [], deny: [] }),
  targets: z
    .strictObject({
      warn: z.array(Glob).max(256).default([]),
      deny: z.array(Glob).max(256).default([]),
    })
    .default({ warn: [], deny: [] }),
  layers: z
    .partialRecord(
      z.enum(LAYER_NAMES),
      z.strictObject({ mode: z.enum(["enforce", "monitor", "off"]) }),
    )
    .default({}),
  thresholds: z
    .strictObject({
      /** A BLOCK finding below this confidence counts as WARN. */
      block: z.number().min(0).max(1).default(0.5),
      /** A finding below this confidence is dropped. */
      warn: z.number().min(0).max(1).default(0.3),
    })
    .default({ block: 0.5, warn: 0.3 }),
  financial: z
    .strictObject({
      approval_amount: z.number().positive().default(10_000),
      currency: z.string().min(3).max(8).default("USD"),
    })
    .default({ approval_amount: 10_000, currency: "USD" }),
});

export type PolicyBundle = z.infer<typeof PolicyBundleSchema>;

export type LayerMode = "enforce" | "monitor" | "off";

/** A bundle compiled once: globs as anchored RE2 patterns, its content hash, layer modes. */
export type CompiledPolicy = PolicyView &
  Readonly<{
    bundle: PolicyBundle;
    modeOf(layer: LayerName): LayerMode;
    thresholds: Readonly<{ block: number; warn: number }>;
  }>;

/** Canonical JSON (sorted keys, no spaces): the same bundle always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const REGEX_META: ReadonlySet<string> = new Set([..."\\^$.|+()[]{}"]);

function globToRe2(globs: readonly string[]): RE2 | null {
  if (globs.length === 0) return null;
  const alternatives = globs.map((glob) => {
    let out = "";
    for (const ch of glob.toLowerCase()) {
      if (ch === "*") out += ".*";
      else if (ch === "?") out += ".";
      else out += REGEX_META.has(ch) ? `\\${ch}` : ch;
    }
    return out;
  });
  return new RE2(`^(?:${alternatives.join("|")})$`, "su");
}

/** The rules a bundle enforces: the validated bundle (defaults filled in) without `$comment`. */
export function bundleRules(bundle: PolicyBundle): Omit<PolicyBundle, "$comment"> {
  const { $comment: _comment, ...rules } = bundle;
  return rules;
}

/** SHA-256 (hex) of a validated bundle's canonical rules; comments do not change it. */
export function bundleHash(bundle: PolicyBundle): string {
  return createHash("sha256")
    .update(canonicalJson(bundleRules(bundle)))
    .digest("hex");
}

/** Compiles a bundle already validated by PolicyBundleSchema and hashed. */
export function compileValidated(bundle: PolicyBundle, hash: string): CompiledPolicy {
  const allow = globToRe2(bundle.actions.allow);
  const warnActions = globToRe2(bundle.actions.warn);
  const denyActions = globToRe2(bundle.actions.deny);
  const warnTargets = globToRe2(bundle.targets.warn);
  const denyTargets = globToRe2(bundle.targets.deny);
  return Object.freeze({
    id: bundle.id,
    hash,
    bundle,
    thresholds: Object.freeze({ ...bundle.thresholds }),
    financial: Object.freeze({
      approvalAmount: bundle.financial.approval_amount,
      currency: bundle.financial.currency,
    }),
    modeOf: (layer: LayerName) => bundle.layers[layer]?.mode ?? "enforce",
    actionRule: (actionName: string) => {
      if (denyActions?.test(actionName)) return "deny";
      if (allow === null || !allow.test(actionName)) return "unlisted";
      if (warnActions?.test(actionName)) return "warn";
      return "allow";
    },
    targetRule: (target: string) => {
      if (target === "") return null;
      if (denyTargets?.test(target)) return "deny";
      if (warnTargets?.test(target)) return "warn";
      return null;
    },
  });
}

/** Validates and compiles a bundle; throws a ZodError on an invalid one. */
export function compilePolicy(input: unknown): CompiledPolicy {
  const bundle = PolicyBundleSchema.parse(input);
  return compileValidated(bundle, bundleHash(bundle));
}
