import { BODY_LIMIT } from "../../body-limits.js";
import { IssueBody, RevocationsQuery, RevokeBody, VerifyBody } from "../../routes/passports.js";
import { EXAMPLE } from "../examples.js";
import type { OperationSpec } from "../operation.js";
import {
  IssuedPassport,
  PassportVerdict,
  RevocationList,
  RevocationResult,
} from "../schemas/passports.js";

const OWNER_NOTE =
  "An agent key may act on the agents of its own (verified) owner e-mail (another owner's agent, or an unknown one, is 403 AGENT_ID_MISMATCH); an admin key on any agent (unknown: 404).";

/** Passport issue, verification, revocation and the revocation list. */
export const PASSPORT_OPERATIONS: readonly OperationSpec[] = [
  {
    method: "post",
    path: "/api/v1/agent/issue",
    operationId: "issuePassport",
    summary: "Issue a passport",
    description: `A compact JWS (EdDSA, typ agent-passport+jwt) saying which operator runs the agent, under which jurisdiction and policy bundle. \`policy\` names a bundle (\`default\`, \`read-only\`, \`eu-strict\`) or is an inline bundle. ${OWNER_NOTE}`,
    tag: "Passports",
    access: "owner",
    scope: "passports:issue",
    body: {
      schema: IssueBody,
      maxBytes: BODY_LIMIT.passport,
      example: {
        agent_id: EXAMPLE.agentId,
        operator: "Acme Corp",
        jurisdiction: "EU",
        policy: "read-only",
        ttl_s: 3600,
      },
    },
    responses: { 201: { description: "Issued.", name: "IssuedPassport", schema: IssuedPassport } },
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/agent/verify",
    operationId: "verifyPassport",
    summary: "Verify a passport",
    description:
      "Is this passport valid now, and what does it say. Always 200 for a string `passport`; `reason` tells why one is not valid.",
    tag: "Passports",
    access: "public",
    body: {
      schema: VerifyBody,
      maxBytes: BODY_LIMIT.passport,
      example: { passport: EXAMPLE.passport },
    },
    responses: {
      200: { description: "The verdict.", name: "PassportVerdict", schema: PassportVerdict },
    },
  },
  {
    method: "post",
    path: "/api/v1/registry/revoke",
    operationId: "revokePassport",
    summary: "Revoke passports",
    description: `Revokes one passport, or without \`passport_id\` every passport of the agent issued up to now. Durable before the 200; the first verification that starts afterwards fails. Revoking again answers \`revoked: 0\`. Also served at /registry/revoke. ${OWNER_NOTE}`,
    tag: "Passports",
    access: "owner",
    scope: "passports:revoke",
    body: {
      schema: RevokeBody,
      maxBytes: BODY_LIMIT.public,
      example: {
        agent_id: EXAMPLE.agentId,
        passport_id: EXAMPLE.passportId,
        reason: "leaked in a log",
      },
    },
    responses: {
      200: { description: "Revoked.", name: "RevocationResult", schema: RevocationResult },
    },
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/registry/revocations",
    operationId: "listRevocations",
    summary: "Revoked, unexpired passports",
    description:
      "For offline verifiers: revoked passports that have not yet expired, in revocation order; no reasons, no owners. `next_cursor` is always present: poll with it to get only what was revoked since. Also served at /registry/revocations.",
    tag: "Passports",
    access: "public",
    query: { schema: RevocationsQuery, example: { limit: "100" } },
    responses: {
      200: { description: "One page.", name: "RevocationList", schema: RevocationList },
    },
  },
];
