import { z } from "zod";
import { idOf, isoTime } from "./common.js";

const PolicyRef = z.strictObject({ id: z.string(), hash: z.string() });

export const IssuedPassport = z.strictObject({
  passport: z.string().meta({ description: "Compact JWS, typ agent-passport+jwt." }),
  passport_id: idOf("psp"),
  kid: z.string(),
  expires_at: isoTime(),
  agent_id: idOf("agt"),
  policy: PolicyRef,
});

const REASONS = [
  "malformed",
  "unknown_key",
  "bad_signature",
  "expired",
  "not_yet_valid",
  "revoked",
  "agent_quarantined",
] as const;

/** Always 200: a valid passport's claims, or why it is not valid. */
export const PassportVerdict = z.union([
  z.strictObject({
    valid: z.literal(true),
    agent_id: idOf("agt"),
    passport_id: idOf("psp"),
    operator: z.string(),
    jurisdiction: z.string(),
    policy: z.strictObject({
      id: z.string(),
      hash: z.string(),
      rules: z.record(z.string(), z.unknown()),
    }),
    kid: z.string(),
    issued_at: isoTime(),
    expires_at: isoTime(),
  }),
  z.strictObject({ valid: z.literal(false), reason: z.enum(REASONS) }),
]);

export const RevocationResult = z.strictObject({
  revoked: z.int().min(0),
  agent_id: idOf("agt"),
  passport_ids: z.array(idOf("psp")),
  revocation_id: z.int(),
  revoked_at: isoTime(),
});

export const RevocationList = z.strictObject({
  revocations: z.array(
    z.strictObject({
      passport_id: idOf("psp"),
      agent_id: idOf("agt"),
      revoked_at: isoTime(),
      expires_at: isoTime(),
    }),
  ),
  next_cursor: z.string().meta({ description: "Always present: poll with it as `cursor`." }),
  has_more: z.boolean(),
  generated_at: isoTime(),
});
