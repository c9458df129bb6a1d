import { z } from "zod";
import { AUDIT_ACTIONS } from "../../audit/chain.js";
import { isoTime, nextCursor } from "./common.js";

const Hash = z.string().regex(/^[0-9a-f]{64}$/);

/** One audit log entry: the hashed body, the chain links and a readable `time`. */
export const AuditEntry = z.strictObject({
  seq: z.int().min(1),
  at: z.int().meta({ description: "Epoch milliseconds (what is hashed)." }),
  action: z.enum(AUDIT_ACTIONS),
  agent_id: z.string().nullable(),
  actor: z.string().nullable(),
  decision: z.enum(["ALLOW", "WARN", "BLOCK"]).nullable(),
  data: z.record(z.string(), z.unknown()),
  prev_hash: Hash,
  hash: Hash,
  time: isoTime(),
});

export const AuditPage = z.strictObject({
  entries: z.array(AuditEntry),
  next_cursor: nextCursor(),
});

export const AuditVerdict = z.strictObject({
  ok: z.boolean(),
  entries: z.int().min(0),
  checkpoints: z.int().min(0),
  head: z.strictObject({ seq: z.int(), hash: Hash }).nullable(),
  first_bad: z.strictObject({ seq: z.int(), reason: z.string() }).optional(),
  latest_checkpoint: z
    .strictObject({
      size: z.int(),
      head_hash: Hash,
      time: isoTime(),
      kid: z.string(),
      token: z.string(),
    })
    .nullable(),
});
