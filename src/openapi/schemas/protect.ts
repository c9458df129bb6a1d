import { z } from "zod";
import { LAYER_NAMES } from "../../../layers/types.js";
import { idOf, isoTime } from "./common.js";

/** 200 of POST /protect: BLOCK is data, not an HTTP error. */
export const ProtectDecision = z.strictObject({
  decision: z.enum(["ALLOW", "WARN", "BLOCK"]),
  agent_id: idOf("agt"),
  request_id: z.string().startsWith("req_"),
  layers_checked: z.int().min(0),
  latency_ms: z.number().min(0),
  threats_found: z.array(
    z.strictObject({
      layer: z.enum(LAYER_NAMES),
      code: z.string(),
      severity: z.enum(["BLOCK", "WARN"]),
      confidence: z.number().min(0).max(1),
      message: z.string(),
      evidence: z.string().max(120).optional(),
    }),
  ),
  confidence_scoring: z.strictObject({
    score: z.number().min(0).max(1),
    tier: z.enum(["high", "medium", "low"]),
  }),
  policy: z.strictObject({ id: z.string(), hash: z.string() }),
  timestamp: isoTime(),
});
