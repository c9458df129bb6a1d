import { ExportQuery, ListQuery, NoQuery } from "../../routes/audit.js";
import type { OperationSpec } from "../operation.js";
import { AuditEntry, AuditPage, AuditVerdict } from "../schemas/audit.js";

/** The audit log: read, export, verify. */
export const AUDIT_OPERATIONS: readonly OperationSpec[] = [
  {
    method: "get",
    path: "/api/v1/audit",
    operationId: "listAuditEntries",
    summary: "Read the audit log",
    description:
      "Entries in chain order, filtered and paged. An agent key sees what concerns its owner's agents (naming another owner's agent is 403 AGENT_ID_MISMATCH), an organization key its organization's agents', an admin key everything. `since`/`until`: epoch ms or ISO 8601.",
    tag: "Audit",
    access: "owner",
    scope: "audit:read",
    query: { schema: ListQuery, example: { action: "agent.registered", limit: "20" } },
    responses: { 200: { description: "One page.", name: "AuditPage", schema: AuditPage } },
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/audit/export",
    operationId: "exportAuditLog",
    summary: "Export the audit log (JSON lines)",
    description:
      "The log up to its head at the time of the request, streamed as JSON lines (one AuditEntry a line), with the same filters as the listing.",
    tag: "Audit",
    access: "admin",
    scope: "audit:read",
    query: { schema: ExportQuery, example: { since: "2026-01-01T00:00:00Z" } },
    responses: {
      200: {
        description: "The entries, one JSON document a line.",
        contentType: "application/x-ndjson",
        jsonLines: true,
        name: "AuditEntry",
        schema: AuditEntry,
      },
    },
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/audit/verify",
    operationId: "verifyAuditLog",
    summary: "Verify the hash chain and checkpoints",
    description:
      "Recomputes every entry's hash and checks every signed checkpoint; `first_bad` names the earliest problem.",
    tag: "Audit",
    access: "admin",
    query: { schema: NoQuery, example: {} },
    responses: { 200: { description: "The verdict.", name: "AuditVerdict", schema: AuditVerdict } },
  },
];
