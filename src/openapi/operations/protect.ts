import { BODY_LIMIT } from "../../body-limits.js";
import { ProtectBody } from "../../routes/protect.js";
import type { OperationSpec } from "../operation.js";
import { ProtectDecision } from "../schemas/protect.js";

/** POST /api/v1/protect. */
export const PROTECT_OPERATIONS: readonly OperationSpec[] = [
  {
    method: "post",
    path: "/api/v1/protect",
    operationId: "protect",
    summary: "Ask before acting",
    description:
      "The decision for one action an agent is about to take: ALLOW, WARN (needs a human) or BLOCK, with every finding. Always 200 for a request that could be judged: BLOCK is data, not an HTTP error. With X-Agent-Passport, the passport's policy bundle judges the request (a passport that is not valid now, or another agent's, is 403 PASSPORT_REJECTED). With an organization key, `agent_id` is required and names the organization's agent acting. The body may be up to AIEGIS_MAX_BODY bytes (64 KiB by default); `params` nests at most 32 levels. Limited per agent (`protect` limiter, 30/min by default).",
    tag: "Protect",
    access: "agent",
    scope: "protect",
    passport: true,
    body: {
      schema: ProtectBody,
      maxBytes: BODY_LIMIT.protect,
      example: { action: "read_file", target: "/etc/passwd", context: { source: "user" } },
    },
    responses: {
      200: { description: "The decision.", name: "ProtectDecision", schema: ProtectDecision },
    },
    errors: [404],
  },
];
