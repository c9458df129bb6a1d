import { z } from "zod";

const Check = z.enum(["ok", "failing"]);

/** GET /health: 200 when everything answers, 503 (same shape) otherwise. */
export const Health = z.strictObject({
  status: z.enum(["ok", "degraded", "unavailable"]),
  layers: z.int().min(0).meta({ description: "Layers that answered the start-up canary." }),
  layers_total: z.int().min(0),
  uptime_s: z.int().min(0),
  version: z.string(),
  checks: z.strictObject({ database: Check, layers: Check }),
});

export const Jwks = z.strictObject({
  keys: z.array(
    z.strictObject({
      kty: z.literal("OKP"),
      crv: z.literal("Ed25519"),
      x: z.string(),
      kid: z.string().meta({ description: "RFC 7638 thumbprint." }),
      alg: z.literal("EdDSA"),
      use: z.literal("sig"),
    }),
  ),
});
