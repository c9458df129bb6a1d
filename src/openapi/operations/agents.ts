import { BODY_LIMIT } from "../../body-limits.js";
import {
  AgentIdParam,
  AuthOnlyBody,
  LoginBody,
  PublicQuery,
  StatusChangeBody,
} from "../../routes/agents.js";
import { RegisterBody, ResendBody, VerifyQuery } from "../../routes/registration.js";
import { EXAMPLE } from "../examples.js";
import type { OperationSpec } from "../operation.js";
import {
  Accepted,
  AgentOk,
  OwnAgent,
  PublicAgentPage,
  QuarantineResult,
  RegisteredAgent,
  RotatedAgentKey,
} from "../schemas/agents.js";

const agentIdParam = {
  id: { schema: AgentIdParam, description: "The agent's id.", example: EXAMPLE.agentId },
};

/** Self-registration, e-mail verification, agent login, the directory, the calling agent, quarantine. */
export const AGENT_OPERATIONS: readonly OperationSpec[] = [
  {
    method: "post",
    path: "/api/v1/register",
    operationId: "registerAgent",
    summary: "Register an agent",
    description:
      "Registers an agent and returns its API key once. A verification e-mail goes to `owner_email`; until the link is followed every authenticated endpoint answers 403 EMAIL_UNVERIFIED. The same name for the same owner twice (ignoring case and Unicode width) is 409. Limited per IP like sign-up (`register` limiter).",
    tag: "Agents",
    access: "public",
    body: {
      schema: RegisterBody,
      maxBytes: BODY_LIMIT.public,
      example: {
        agent_name: EXAMPLE.agentName,
        agent_type: "assistant",
        description: "Books meetings for the sales team.",
        owner_name: "Ada Lovelace",
        owner_email: EXAMPLE.ownerEmail,
      },
    },
    responses: {
      201: { description: "Registered.", name: "RegisteredAgent", schema: RegisteredAgent },
    },
    errors: [409],
  },
  {
    method: "get",
    path: "/api/v1/verify-email",
    operationId: "verifyEmail",
    summary: "Verify the owner's e-mail",
    description:
      "The link in the verification e-mail; activates the agent's key. Unknown token: 400 TOKEN_INVALID; reused: 400 TOKEN_USED; older than 24 hours: 400 TOKEN_EXPIRED.",
    tag: "Agents",
    access: "public",
    query: { schema: VerifyQuery, example: { token: EXAMPLE.verificationToken } },
    responses: { 200: { description: "Verified.", name: "AgentOk", schema: AgentOk } },
  },
  {
    method: "post",
    path: "/api/v1/verify-email/resend",
    operationId: "resendVerification",
    summary: "Send a new verification link",
    description:
      "Always 202, whether or not such a pending agent exists, so it reveals nothing. A pending agent gets a new link and its earlier links stop working.",
    tag: "Agents",
    access: "public",
    body: {
      schema: ResendBody,
      maxBytes: BODY_LIMIT.public,
      example: { owner_email: EXAMPLE.ownerEmail, agent_name: EXAMPLE.agentName },
    },
    responses: { 202: { description: "Accepted.", name: "Accepted", schema: Accepted } },
  },
  {
    method: "post",
    path: "/api/v1/agents/login",
    operationId: "agentLogin",
    summary: "Check an owner e-mail and agent key pair",
    description:
      "A wrong e-mail and a wrong key give the same 401 INVALID_CREDENTIALS; a matching but unverified key is 403 EMAIL_UNVERIFIED, a quarantined agent 403 AGENT_QUARANTINED.",
    tag: "Agents",
    access: "public",
    body: {
      schema: LoginBody,
      maxBytes: BODY_LIMIT.public,
      example: { email: EXAMPLE.ownerEmail, api_key: EXAMPLE.agentKey },
    },
    responses: { 200: { description: "The pair matches.", name: "AgentOk", schema: AgentOk } },
    errors: [401, 403],
  },
  {
    method: "get",
    path: "/api/v1/agents/public",
    operationId: "listPublicAgents",
    summary: "Directory of verified agents",
    description:
      "Verified agents (ACTIVE and QUARANTINED) in registration order, without e-mails, owner names or keys. Pass `next_cursor` back as `cursor` for the next page.",
    tag: "Agents",
    access: "public",
    query: { schema: PublicQuery, example: { status: "ACTIVE", limit: "20" } },
    responses: {
      200: { description: "One page.", name: "PublicAgentPage", schema: PublicAgentPage },
    },
  },
  {
    method: "get",
    path: "/api/v1/agents/me",
    operationId: "getCurrentAgent",
    summary: "The calling agent",
    description:
      "The calling agent's own record, with its owner's data and its key's display prefix.",
    tag: "Agents",
    access: "agent",
    responses: { 200: { description: "The agent.", name: "OwnAgent", schema: OwnAgent } },
  },
  {
    method: "post",
    path: "/api/v1/agents/me/rotate-key",
    operationId: "rotateAgentKey",
    summary: "Replace the calling agent's key",
    description:
      "Returns the new key once; the old key is refused from the same moment. The body is optional.",
    tag: "Agents",
    access: "agent",
    body: { schema: AuthOnlyBody, maxBytes: BODY_LIMIT.public, required: false, example: {} },
    responses: {
      200: { description: "The new key.", name: "RotatedAgentKey", schema: RotatedAgentKey },
    },
  },
  ...(["quarantine", "unquarantine"] as const).map(
    (action): OperationSpec => ({
      method: "post",
      path: `/api/v1/agents/{id}/${action}`,
      operationId: `${action}Agent`,
      summary: action === "quarantine" ? "Quarantine an agent" : "Lift an agent's quarantine",
      description:
        action === "quarantine"
          ? "Blocks the agent's key everywhere (403 AGENT_QUARANTINED). Idempotent: `changed` is false when nothing changed. The reason is kept in the agent's status history."
          : "Lifts a quarantine. Idempotent: `changed` is false when the agent was not quarantined.",
      tag: "Agents",
      access: "admin",
      scope: "agents:quarantine",
      params: agentIdParam,
      body: {
        schema: StatusChangeBody,
        maxBytes: BODY_LIMIT.public,
        example: {
          reason: action === "quarantine" ? "exfiltration attempts" : "reviewed: false positive",
        },
      },
      responses: {
        200: {
          description: "The agent's state.",
          name: "QuarantineResult",
          schema: QuarantineResult,
        },
      },
      errors: [404],
    }),
  ),
];
