import type { CallOptions } from "../transport.js";
import { type PageQuery, Resource, seg } from "./resource.js";

export type AgentStatus = "PENDING_VERIFICATION" | "ACTIVE" | "QUARANTINED";

export type RegisterAgentRequest = Readonly<{
  /** 1–64 characters. */
  agent_name: string;
  /** 1–40 letters, digits, space, `_ . -`. */
  agent_type: string;
  /** 20–1000 characters. */
  description: string;
  owner_name: string;
  owner_email: string;
}>;

export type RegisteredAgent = Readonly<{
  agent_id: string;
  /** Shown once: `ak_…`. Unusable until the owner's e-mail is verified. */
  api_key: string;
  status: "PENDING_VERIFICATION";
  /** A JWT (`typ: agent-tag+jwt`) naming the agent, verifiable with the gateway's JWKS. */
  tag: string;
}>;

export type PublicAgent = Readonly<{
  agent_id: string;
  agent_name: string;
  agent_type: string;
  description: string;
  status: AgentStatus;
  registered_at: string;
  verified_at: string | null;
}>;

export type AgentProfile = PublicAgent &
  Readonly<{ owner_name: string; owner_email: string; key_prefix: string | null }>;

export type PublicAgentsQuery = PageQuery & Readonly<{ status?: "ACTIVE" | "QUARANTINED" }>;

export type PublicAgentsPage = Readonly<{
  agents: readonly PublicAgent[];
  next_cursor: string | null;
}>;

export type RotatedKey = Readonly<{ agent_id: string; api_key: string; key_prefix: string }>;

export type QuarantineResult = Readonly<{
  agent_id: string;
  status: AgentStatus;
  /** False when the agent already was in that state. */
  changed: boolean;
  quarantine_reason: string | null;
  quarantined_at: string | null;
}>;

export type AgentLoginRequest = Readonly<{ email: string; api_key: string }>;

export type AgentStatusOk = Readonly<{ status: "ok"; agent_id: string }>;

/** Self-registration, e-mail verification, the calling agent, the directory, quarantine. */
export class Agents extends Resource {
  /** POST /register: registers an agent; its key works once the owner verified the e-mail. */
  register(body: RegisterAgentRequest, options?: CallOptions): Promise<RegisteredAgent> {
    return this.transport.request(
      { method: "POST", path: "/register", body, credential: "none", retry: "unsafe" },
      options,
    );
  }

  /** GET /verify-email: activates the agent with the token from the verification link. */
  verifyEmail(token: string, options?: CallOptions): Promise<AgentStatusOk> {
    return this.transport.request(
      { method: "GET", path: "/verify-email", query: { token }, credential: "none", retry: "safe" },
      options,
    );
  }

  /** POST /verify-email/resend: a new link for a pending agent (always 202, reveals nothing). */
  resendVerification(
    body: Readonly<{ owner_email: string; agent_name: string }>,
    options?: CallOptions,
  ): Promise<{ status: "accepted" }> {
    return this.transport.request(
      {
        method: "POST",
        path: "/verify-email/resend",
        body,
        credential: "none",
        retry: "unsafe",
      },
      options,
    );
  }

  /** POST /agents/login: checks an owner e-mail and key pair. */
  login(body: AgentLoginRequest, options?: CallOptions): Promise<AgentStatusOk> {
    return this.transport.request(
      { method: "POST", path: "/agents/login", body, credential: "none", retry: "safe" },
      options,
    );
  }

  /** GET /agents/public: one page of the directory of verified agents. */
  listPublic(query: PublicAgentsQuery = {}, options?: CallOptions): Promise<PublicAgentsPage> {
    return this.transport.request(
      { method: "GET", path: "/agents/public", query, credential: "none", retry: "safe" },
      options,
    );
  }

  /** GET /agents/me: the calling agent's own record. */
  me(options?: CallOptions): Promise<AgentProfile> {
    return this.transport.request(
      { method: "GET", path: "/agents/me", credential: "key", retry: "safe" },
      options,
    );
  }

  /**
   * POST /agents/me/rotate-key: replaces the key (the old one stops at once). The client then
   * uses the new key itself, or it would lock itself out.
   */
  async rotateKey(options?: CallOptions): Promise<RotatedKey> {
    const used = this.transport.credentials.apiKey;
    const rotated = await this.transport.request<RotatedKey>(
      {
        method: "POST",
        path: "/agents/me/rotate-key",
        body: {},
        credential: "key",
        retry: "unsafe",
      },
      options,
    );
    if (this.transport.credentials.apiKey === used)
      this.transport.credentials.apiKey = rotated.api_key;
    return rotated;
  }

  /** POST /agents/:id/quarantine (admin key, or an organization key with agents:quarantine). */
  quarantine(agentId: string, reason: string, options?: CallOptions): Promise<QuarantineResult> {
    return this.#statusChange("quarantine", agentId, reason, options);
  }

  /** POST /agents/:id/unquarantine: lifts a quarantine. */
  unquarantine(agentId: string, reason: string, options?: CallOptions): Promise<QuarantineResult> {
    return this.#statusChange("unquarantine", agentId, reason, options);
  }

  #statusChange(
    action: "quarantine" | "unquarantine",
    agentId: string,
    reason: string,
    options?: CallOptions,
  ): Promise<QuarantineResult> {
    return this.transport.request(
      {
        method: "POST",
        path: `/agents/${seg(agentId)}/${action}`,
        body: { reason },
        credential: "key",
        // Idempotent by design: repeating it answers changed:false.
        retry: "safe",
      },
      options,
    );
  }
}
