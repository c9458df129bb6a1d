import { z } from "zod";
import { ROLES, SCOPES } from "../../scopes.js";
import { idOf, isoTime, nextCursor } from "./common.js";

const Role = z.enum(ROLES);

export const Operator = z.strictObject({
  id: idOf("opr"),
  email: z.string(),
  name: z.string(),
  /** False until the operator follows the link mailed at signup; only verified operators can be added to an organization. */
  email_verified: z.boolean(),
  created_at: isoTime(),
});

export const PasswordChanged = z.strictObject({ status: z.literal("ok") });

export const OperatorVerified = z.strictObject({
  status: z.literal("ok"),
  operator_id: idOf("opr"),
});

/** An organization as its member sees it: with the caller's role. */
export const Membership = z.strictObject({
  id: idOf("org"),
  name: z.string(),
  role: Role,
  created_at: isoTime(),
});

export const SignedUp = z.strictObject({
  operator: Operator,
  organization: Membership.extend({ role: z.literal("owner") }),
});

export const TokenPair = z.strictObject({
  access_token: z.string().meta({ description: "JWT (EdDSA, typ aiegis-access+jwt), 15 minutes." }),
  refresh_token: z
    .string()
    .startsWith("rt_")
    .meta({ description: "Single use: each refresh returns a new one." }),
  token_type: z.literal("Bearer"),
  expires_in: z.literal(900),
});

export const LoggedOut = z.strictObject({ logged_out: z.literal(true) });

export const CurrentOperator = z.strictObject({
  operator: Operator,
  organizations: z.array(Membership),
});

export const OrganizationList = z.strictObject({ organizations: z.array(Membership) });

export const Member = z.strictObject({
  operator_id: idOf("opr"),
  email: z.string(),
  name: z.string(),
  role: Role,
  created_at: isoTime(),
});

export const MemberList = z.strictObject({ members: z.array(Member) });

export const RemovedMember = z.strictObject({ operator_id: idOf("opr"), removed: z.literal(true) });

const OrgAgentFields = {
  agent_id: idOf("agt"),
  name: z.string(),
  type: z.string(),
  description: z.string().nullable(),
  org_id: idOf("org"),
  status: z.enum(["PENDING_VERIFICATION", "ACTIVE", "QUARANTINED"]),
  created_at: isoTime(),
};

export const OrgAgent = z.strictObject(OrgAgentFields);

export const CreatedOrgAgent = z.strictObject({
  ...OrgAgentFields,
  api_key: z.string().startsWith("ak_").meta({ description: "The agent's key, shown once." }),
  key_prefix: z.string(),
});

export const OrgAgentPage = z.strictObject({
  agents: z.array(OrgAgent),
  next_cursor: nextCursor(),
});

const Scopes = z.array(z.enum(SCOPES));

export const CreatedApiKey = z.strictObject({
  id: idOf("key"),
  name: z.string(),
  api_key: z.string().startsWith("ak_live_").meta({ description: "Shown once." }),
  prefix: z.string(),
  scopes: Scopes,
  created_at: isoTime(),
  expires_at: isoTime().nullable(),
});

export const ApiKeyList = z.strictObject({
  api_keys: z.array(
    z.strictObject({
      id: idOf("key"),
      name: z.string(),
      prefix: z.string(),
      scopes: Scopes,
      created_at: isoTime(),
      last_used_at: isoTime().nullable(),
      expires_at: isoTime().nullable(),
      revoked_at: isoTime().nullable(),
      rotated_from: idOf("key").nullable(),
    }),
  ),
});

export const RevokedApiKey = z.strictObject({ id: idOf("key"), revoked_at: isoTime() });

export const RotatedApiKey = CreatedApiKey.extend({
  rotated_from: idOf("key"),
  previous_key_expires_at: isoTime(),
});
