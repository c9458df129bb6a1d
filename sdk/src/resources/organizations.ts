import type { CallOptions } from "../transport.js";
import type { MemberRole, OrganizationSummary } from "./auth.js";
import { type PageQuery, Resource, seg } from "./resource.js";

export type Scope =
  | "protect"
  | "passports:issue"
  | "passports:revoke"
  | "agents:manage"
  | "agents:quarantine"
  | "webhooks:manage"
  | "audit:read"
  | "score:deep";

export type Member = Readonly<{
  operator_id: string;
  email: string;
  name: string;
  role: MemberRole;
  created_at: string;
}>;

export type OrgAgent = Readonly<{
  agent_id: string;
  name: string;
  type: string;
  description: string | null;
  org_id: string;
  status: "ACTIVE" | "QUARANTINED" | "PENDING_VERIFICATION";
  created_at: string;
}>;

/** The agent as created: with its key, shown this once. */
export type CreatedOrgAgent = OrgAgent & Readonly<{ api_key: string; key_prefix: string }>;

export type CreateOrgAgentRequest = Readonly<{ name: string; type: string; description?: string }>;

export type ApiKeyInfo = Readonly<{
  id: string;
  name: string;
  prefix: string;
  scopes: readonly Scope[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
}>;

export type CreateApiKeyRequest = Readonly<{
  name: string;
  scopes: readonly Scope[];
  /** ISO 8601, in the future; never expires without it. */
  expires_at?: string;
}>;

/** A key as created: `api_key` (`ak_live_…`) is shown this once. */
export type CreatedApiKey = Readonly<{
  id: string;
  name: string;
  api_key: string;
  prefix: string;
  scopes: readonly Scope[];
  created_at: string;
  expires_at: string | null;
}>;

export type RotatedApiKey = CreatedApiKey &
  Readonly<{ rotated_from: string; previous_key_expires_at: string }>;

/** Members of an organization (access token). */
export class Members extends Resource {
  /** POST /organizations/:org/members: adds a signed-up operator with a role. */
  add(
    orgId: string,
    body: Readonly<{ email: string; role: MemberRole }>,
    options?: CallOptions,
  ): Promise<Member> {
    return this.transport.request(
      {
        method: "POST",
        path: `/organizations/${seg(orgId)}/members`,
        body,
        credential: "operator",
        retry: "unsafe",
      },
      options,
    );
  }

  /** GET /organizations/:org/members. */
  list(orgId: string, options?: CallOptions): Promise<{ members: readonly Member[] }> {
    return this.transport.request(
      {
        method: "GET",
        path: `/organizations/${seg(orgId)}/members`,
        credential: "operator",
        retry: "safe",
      },
      options,
    );
  }

  /** PATCH /organizations/:org/members/:operatorId: a new role (the last owner keeps theirs: 409). */
  setRole(
    orgId: string,
    operatorId: string,
    body: Readonly<{ role: MemberRole }>,
    options?: CallOptions,
  ): Promise<Member> {
    return this.transport.request(
      {
        method: "PATCH",
        path: `/organizations/${seg(orgId)}/members/${seg(operatorId)}`,
        body,
        credential: "operator",
        retry: "safe",
      },
      options,
    );
  }

  /** DELETE /organizations/:org/members/:operatorId (the last owner cannot be removed: 409). */
  remove(
    orgId: string,
    operatorId: string,
    options?: CallOptions,
  ): Promise<{ operator_id: string; removed: true }> {
    return this.transport.request(
      {
        method: "DELETE",
        path: `/organizations/${seg(orgId)}/members/${seg(operatorId)}`,
        credential: "operator",
        retry: "safe",
      },
      options,
    );
  }
}

/** Agents created by an organization (access token, or an org key with agents:manage). */
export class OrgAgents extends Resource {
  /** POST /organizations/:org/agents: an active agent and its key (shown once). */
  create(
    orgId: string,
    body: CreateOrgAgentRequest,
    options?: CallOptions,
  ): Promise<CreatedOrgAgent> {
    return this.transport.request(
      {
        method: "POST",
        path: `/organizations/${seg(orgId)}/agents`,
        body,
        credential: "operator",
        retry: "unsafe",
      },
      options,
    );
  }

  /** GET /organizations/:org/agents: one page. */
  list(
    orgId: string,
    query: PageQuery = {},
    options?: CallOptions,
  ): Promise<{ agents: readonly OrgAgent[]; next_cursor: string | null }> {
    return this.transport.request(
      {
        method: "GET",
        path: `/organizations/${seg(orgId)}/agents`,
        query,
        credential: "operator",
        retry: "safe",
      },
      options,
    );
  }

  /** GET /organizations/:org/agents/:id. */
  get(orgId: string, agentId: string, options?: CallOptions): Promise<OrgAgent> {
    return this.transport.request(
      {
        method: "GET",
        path: `/organizations/${seg(orgId)}/agents/${seg(agentId)}`,
        credential: "operator",
        retry: "safe",
      },
      options,
    );
  }
}

/** Scoped organization API keys (access token; admin role to create, revoke, rotate). */
export class ApiKeys extends Resource {
  /** POST /organizations/:org/api-keys: a new `ak_live_…` key with scopes. */
  create(orgId: string, body: CreateApiKeyRequest, options?: CallOptions): Promise<CreatedApiKey> {
    return this.transport.request(
      {
        method: "POST",
        path: `/organizations/${seg(orgId)}/api-keys`,
        body,
        credential: "operator",
        retry: "unsafe",
      },
      options,
    );
  }

  /** GET /organizations/:org/api-keys: prefixes, scopes and use, never a key. */
  list(orgId: string, options?: CallOptions): Promise<{ api_keys: readonly ApiKeyInfo[] }> {
    return this.transport.request(
      {
        method: "GET",
        path: `/organizations/${seg(orgId)}/api-keys`,
        credential: "operator",
        retry: "safe",
      },
      options,
    );
  }

  /** DELETE /organizations/:org/api-keys/:id: revoked from the very next request. */
  revoke(
    orgId: string,
    keyId: string,
    options?: CallOptions,
  ): Promise<{ id: string; revoked_at: string }> {
    return this.transport.request(
      {
        method: "DELETE",
        path: `/organizations/${seg(orgId)}/api-keys/${seg(keyId)}`,
        credential: "operator",
        retry: "safe",
      },
      options,
    );
  }

  /**
   * POST /organizations/:org/api-keys/:id/rotate: a new key; the old one keeps working for
   * `grace_seconds` (default 86,400; 0 ends it now).
   */
  rotate(
    orgId: string,
    keyId: string,
    body: Readonly<{ grace_seconds?: number }> = {},
    options?: CallOptions,
  ): Promise<RotatedApiKey> {
    return this.transport.request(
      {
        method: "POST",
        path: `/organizations/${seg(orgId)}/api-keys/${seg(keyId)}/rotate`,
        body,
        credential: "operator",
        retry: "unsafe",
      },
      options,
    );
  }
}

/** Organizations and, under them, members, agents and API keys (access token). */
export class Organizations extends Resource {
  readonly members = new Members(this.transport);
  readonly agents = new OrgAgents(this.transport);
  readonly apiKeys = new ApiKeys(this.transport);

  /** POST /organizations: a new organization the operator owns. */
  create(body: Readonly<{ name: string }>, options?: CallOptions): Promise<OrganizationSummary> {
    return this.transport.request(
      { method: "POST", path: "/organizations", body, credential: "operator", retry: "unsafe" },
      options,
    );
  }

  /** GET /organizations: the operator's organizations with their role in each. */
  list(options?: CallOptions): Promise<{ organizations: readonly OrganizationSummary[] }> {
    return this.transport.request(
      { method: "GET", path: "/organizations", credential: "operator", retry: "safe" },
      options,
    );
  }

  /** GET /organizations/:org. */
  get(orgId: string, options?: CallOptions): Promise<OrganizationSummary> {
    return this.transport.request(
      {
        method: "GET",
        path: `/organizations/${seg(orgId)}`,
        credential: "operator",
        retry: "safe",
      },
      options,
    );
  }
}
