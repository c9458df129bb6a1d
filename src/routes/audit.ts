import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { AUDIT_ACTIONS, type AuditEntry } from "../audit/chain.js";
import { verifyStoredLog } from "../audit/jobs.js";
import type { AuditFilter } from "../store/audit-log.js";
import { intString, parseInput } from "../validation.js";
import { accessibleAgent, ownerScope } from "./agent-access.js";
import { afterCursor, paged } from "./cursor.js";
import type { RouteContext } from "./route-context.js";

/** The largest page GET /api/audit returns, and the page size of the export. */
const MAX_PAGE = 500;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A point in time: epoch milliseconds, or an ISO 8601 date or date-time with its offset. */
const time = () =>
  z
    .string()
    .max(40)
    .transform((text, ctx) => {
      const ms = /^\d{1,15}$/.test(text)
        ? Number(text)
        : ISO_TIME.test(text)
          ? Date.parse(text)
          : NaN;
      if (!Number.isSafeInteger(ms)) {
        ctx.addIssue({
          code: "custom",
          message: "must be epoch milliseconds or an ISO 8601 time such as 2026-11-23T12:00:00Z",
        });
        return z.NEVER;
      }
      return ms;
    });

const FILTERS = {
  agent_id: z.string().min(1).max(64).optional(),
  decision: z
    .enum(["ALLOW", "WARN", "BLOCK"], { message: "must be ALLOW, WARN or BLOCK" })
    .optional(),
  action: z
    .enum(AUDIT_ACTIONS, { message: `must be one of ${AUDIT_ACTIONS.join(", ")}` })
    .optional(),
  since: time().optional(),
  until: time().optional(),
  cursor: z.string().max(64).optional(),
};

export const ListQuery = z.strictObject({ ...FILTERS, limit: intString(1, MAX_PAGE).optional() });
export const ExportQuery = z.strictObject(FILTERS);
export const NoQuery = z.strictObject({});

/** An entry as the API shows it: as hashed (`at` in epoch ms) plus a readable `time`. */
function view(entry: AuditEntry) {
  return { ...entry, time: new Date(entry.at).toISOString() };
}

/** GET /api/audit, GET /api/audit/export (JSONL) and GET /api/audit/verify. */
export function mountAudit(app: Hono<AppEnv>, ctx: RouteContext): void {
  const anyKey = ctx.auth("owner", "audit:read");
  const exportAuth = ctx.auth("admin", "audit:read");
  const adminAuth = ctx.auth("admin");

  app.get("/api/audit", anyKey, (c) => {
    const query = parseInput(ListQuery, c.req.query(), "query");
    const principal = c.get("principal");
    const agentId = query.agent_id;
    // An agent key sees what concerns its owner's agents (as for assessments), an organization
    // key its organization's; naming another's is refused rather than answered with an empty page.
    if (agentId !== undefined && principal.kind !== "admin") {
      accessibleAgent(ctx.store, principal, agentId);
    }
    const filter: AuditFilter = { ...query, agentId, ownerEmail: ownerScope(principal) };
    const limit = query.limit ?? 100;
    const rows = ctx.store.audit.query(filter, afterCursor("a", query.cursor), limit + 1);
    const { page, nextCursor } = paged(rows, limit, "a");
    return c.json({ entries: page.map(view), next_cursor: nextCursor });
  });

  app.get("/api/audit/export", exportAuth, (c) => {
    const query = parseInput(ExportQuery, c.req.query(), "query");
    const principal = c.get("principal");
    if (query.agent_id !== undefined && principal.kind !== "admin") {
      accessibleAgent(ctx.store, principal, query.agent_id);
    }
    const filter: AuditFilter = {
      ...query,
      agentId: query.agent_id,
      ownerEmail: ownerScope(principal),
    };
    let after = afterCursor("a", query.cursor);
    // A snapshot up to the head as it is now: entries appended while streaming are left out.
    const end = ctx.store.audit.head().size;
    const encoder = new TextEncoder();
    // Pulled a page at a time, so memory stays bounded whatever the log's size.
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const page = ctx.store.audit.query(filter, after, MAX_PAGE).filter((e) => e.seq <= end);
        const lines = page.map((e) => `${JSON.stringify(view(e))}\n`).join("");
        if (lines !== "") controller.enqueue(encoder.encode(lines));
        const last = page.at(-1);
        if (last === undefined || page.length < MAX_PAGE) controller.close();
        else after = last.seq;
      },
    });
    return c.body(stream, 200, {
      "Content-Type": "application/x-ndjson; charset=utf-8",
      "Content-Disposition": 'attachment; filename="aiegis-audit.jsonl"',
    });
  });

  app.get("/api/audit/verify", adminAuth, (c) => {
    parseInput(NoQuery, c.req.query(), "query");
    const verdict = verifyStoredLog(ctx.store, ctx.keyring);
    const latest = ctx.store.audit.latestCheckpoint();
    return c.json({
      ...verdict,
      latest_checkpoint:
        latest === undefined
          ? null
          : {
              size: latest.size,
              head_hash: latest.head_hash,
              time: new Date(latest.at).toISOString(),
              kid: latest.kid,
              token: latest.token,
            },
    });
  });
}
