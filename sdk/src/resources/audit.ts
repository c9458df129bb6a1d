import type { CallOptions } from "../transport.js";
import { Resource } from "./resource.js";

export type AuditFilter = Readonly<{
  agent_id?: string;
  decision?: "ALLOW" | "WARN" | "BLOCK";
  /** An audit action such as `protect.decision`, `passport.revoked`. */
  action?: string;
  /** Inclusive; an ISO 8601 time, epoch milliseconds or a Date. */
  since?: string | number | Date;
  /** Exclusive. */
  until?: string | number | Date;
  cursor?: string;
}>;

export type AuditListQuery = AuditFilter & Readonly<{ limit?: number }>;

export type AuditEntry = Readonly<{
  seq: number;
  /** Epoch milliseconds, as hashed. */
  at: number;
  /** `at` as ISO 8601 (list only; exports carry exactly what was hashed). */
  time?: string;
  action: string;
  agent_id: string | null;
  actor: string | null;
  decision: "ALLOW" | "WARN" | "BLOCK" | null;
  data: Readonly<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}>;

export type AuditPage = Readonly<{ entries: readonly AuditEntry[]; next_cursor: string | null }>;

export type AuditCheckpoint = Readonly<{
  size: number;
  head_hash: string;
  time: string;
  kid: string;
  token: string;
}>;

export type AuditVerdict = Readonly<{
  ok: boolean;
  entries: number;
  checkpoints: number;
  head: Readonly<{ seq: number; hash: string }> | null;
  first_bad?: Readonly<{ seq: number; reason: string }>;
  latest_checkpoint: AuditCheckpoint | null;
}>;

const timeOf = (value: string | number | Date | undefined): string | number | undefined =>
  value instanceof Date ? value.toISOString() : value;

function toQuery(filter: AuditListQuery): Record<string, string | number | undefined> {
  return { ...filter, since: timeOf(filter.since), until: timeOf(filter.until) };
}

/** The hash-chained audit log: query, iterate, export, verify. */
export class Audit extends Resource {
  /** GET /audit: one page of entries, in `seq` order. */
  list(query: AuditListQuery = {}, options?: CallOptions): Promise<AuditPage> {
    return this.transport.request(
      { method: "GET", path: "/audit", query: toQuery(query), credential: "key", retry: "safe" },
      options,
    );
  }

  /** Every entry matching `query`, page after page (`for await (const entry of …)`). */
  async *iterate(query: AuditListQuery = {}, options?: CallOptions): AsyncGenerator<AuditEntry> {
    let cursor = query.cursor;
    do {
      const page = await this.list({ ...query, cursor }, options);
      yield* page.entries;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** GET /audit/export: every matching entry (admin, or an organization key with audit:read). */
  async export(filter: AuditFilter = {}, options?: CallOptions): Promise<AuditEntry[]> {
    const text = await this.transport.request<string>(
      {
        method: "GET",
        path: "/audit/export",
        query: toQuery(filter),
        headers: { accept: "application/x-ndjson" },
        credential: "key",
        retry: "safe",
        responseType: "text",
      },
      options,
    );
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as AuditEntry);
  }

  /** GET /audit/verify: checks the hash chain and the signed checkpoints (admin). */
  verify(options?: CallOptions): Promise<AuditVerdict> {
    return this.transport.request(
      { method: "GET", path: "/audit/verify", credential: "key", retry: "safe" },
      options,
    );
  }
}
