import { z } from "zod";
import { idOf, isoTime, nextCursor } from "./common.js";

const AgentStatus = z.enum(["PENDING_VERIFICATION", "ACTIVE", "QUARANTINED"]);

/** 201 of POST /register. */
export const RegisteredAgent = z.strictObject({
  agent_id: idOf("agt"),
  api_key: z.string().startsWith("ak_").meta({ description: "Shown once." }),
  status: z.literal("PENDING_VERIFICATION"),
  tag: z.string().meta({ description: "JWT (EdDSA, typ agent-tag+jwt) naming the agent." }),
});

/** `{status:"ok", agent_id}` of verify-email and agent login. */
export const AgentOk = z.strictObject({ status: z.literal("ok"), agent_id: idOf("agt") });

export const Accepted = z.strictObject({ status: z.literal("accepted") });

const PublicAgentFields = {
  agent_id: idOf("agt"),
  agent_name: z.string(),
  agent_type: z.string(),
  description: z.string(),
  status: AgentStatus,
  registered_at: isoTime(),
  verified_at: isoTime().nullable(),
};

export const PublicAgentPage = z.strictObject({
  agents: z.array(z.strictObject(PublicAgentFields)),
  next_cursor: nextCursor(),
});

/** GET /agents/me: the public view plus the owner's data and the key's display prefix. */
export const OwnAgent = z.strictObject({
  ...PublicAgentFields,
  owner_name: z.string(),
  owner_email: z.string(),
  key_prefix: z.string().nullable(),
});

export const RotatedAgentKey = z.strictObject({
  agent_id: idOf("agt"),
  api_key: z.string().startsWith("ak_").meta({ description: "Shown once." }),
  key_prefix: z.string(),
});

export const QuarantineResult = z.strictObject({
  agent_id: idOf("agt"),
  status: AgentStatus,
  changed: z.boolean().meta({ description: "False when the agent already was in that state." }),
  quarantine_reason: z.string().nullable(),
  quarantined_at: isoTime().nullable(),
});
