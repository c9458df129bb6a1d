import { z } from "zod";
import { done } from "./rules.js";
import type { Facts, Finding, Layer, Severity } from "./types.js";

/** Weights and thresholds for how much disguise is too much (data/normalize.json). */
export const NormalizeDataSchema = z.strictObject({
  $comment: z.string().optional(),
  maxInputChars: z.number().int().positive(),
  /** Points per technique; the total decides WARN or BLOCK. */
  weights: z.strictObject({
    zeroWidth: z.number(),
    bidiControls: z.number(),
    percentRoundBeyondFirst: z.number(),
    htmlEntities: z.number(),
    confusables: z.number(),
    escapes: z.number(),
    overlongUtf8: z.number(),
    decodedBlobs: z.number(),
  }),
  /** How many of a technique count at most (a page of HTML has many entities). */
  caps: z.strictObject({
    zeroWidth: z.number(),
    htmlEntities: z.number(),
    confusables: z.number(),
    escapes: z.number(),
    decodedBlobs: z.number(),
  }),
  warnAt: z.number(),
  blockAt: z.number(),
  /** Invisible characters this many or more are a finding on their own. */
  invisibleAlone: z.number().int().positive(),
});

export type NormalizeData = z.infer<typeof NormalizeDataSchema>;

/**
 * Layer 1: the pipeline has already decoded and folded every text (facts carry both forms);
 * this layer judges how much disguise it had to remove. Mixing techniques — zero-width
 * characters inside words, double percent-encoding, overlong UTF-8, look-alike letters —
 * is what evasion looks like; ordinary text needs none of them.
 */
export function createNormalizeLayer(input: unknown): Layer {
  const data = NormalizeDataSchema.parse(input);
  const { weights: w, caps } = data;
  return {
    name: "normalize",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const o = facts.obfuscation;
      const score =
        w.zeroWidth * Math.min(o.zeroWidth, caps.zeroWidth) +
        w.bidiControls * o.bidiControls +
        w.percentRoundBeyondFirst * Math.max(0, o.percentRounds - 1) +
        w.htmlEntities * Math.min(o.htmlEntities, caps.htmlEntities) +
        w.confusables * Math.min(o.confusables, caps.confusables) +
        w.escapes * Math.min(o.escapes, caps.escapes) +
        w.overlongUtf8 * o.overlongUtf8 +
        w.decodedBlobs * Math.min(o.decodedBlobs, caps.decodedBlobs);
      const found: Finding[] = [];
      if (score >= data.warnAt) {
        const severity: Severity = score >= data.blockAt ? "BLOCK" : "WARN";
        const used = Object.entries(o)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k}=${n}`)
          .join(", ");
        found.push({
          layer: "normalize",
          code: "OBFUSCATION_HEAVY",
          severity,
          confidence: Math.min(0.99, 0.5 + score / (data.blockAt * 4)),
          message: "The request hides its text with encoding or invisible characters",
          evidence: used,
        });
      } else if (o.zeroWidth + o.bidiControls >= data.invisibleAlone) {
        found.push({
          layer: "normalize",
          code: "INVISIBLE_CHARACTERS",
          severity: "WARN",
          confidence: 0.6,
          message: "Invisible or direction-changing characters in the text",
          evidence: `zeroWidth=${o.zeroWidth}, bidiControls=${o.bidiControls}`,
        });
      }
      return done(found);
    },
  };
}
