import type { Principal } from "../app-env.js";
import { denied, GatewayError } from "../errors.js";
import type { AgentRecord } from "../store/agents.js";
import type { Store } from "../store/store.js";

/**
 * True when `principal` may act on `agent`: an admin key on any agent, an agent key on the
 * agents of its own owner (an organization's agents share the organization as owner), an
 * organization key on its organization's agents only.
 */
export function mayActOn(principal: Principal, agent: AgentRecord): boolean {
  switch (principal.kind) {
    case "admin":
      return true;
    case "agent":
      return agent.ownerEmail === principal.agent.ownerEmail;
    case "org":
      return agent.orgId === principal.orgId;
  }
}

/**
 * The agent `agentId` if the caller may act on it. An unknown agent and someone else's get the
 * same answer, so a key cannot probe for others' agents: 403 AGENT_ID_MISMATCH for an agent key
 * (as it always answered), 404 for admin and organization keys.
 */
export function accessibleAgent(store: Store, principal: Principal, agentId: string): AgentRecord {
  const agent = store.agents.byId(agentId);
  if (agent !== undefined && mayActOn(principal, agent)) return agent;
  if (principal.kind === "agent") throw denied("AGENT_ID_MISMATCH", "agent_id mismatch");
  throw new GatewayError("NOT_FOUND", "Agent not found");
}

/**
 * The agent a request acts as: an agent key's own agent, or for an organization key the
 * organization agent named in the body's `agent_id`, which must then be active.
 */
export function actingAgent(store: Store, principal: Principal, body: unknown): AgentRecord {
  if (principal.kind === "agent") return principal.agent;
  if (principal.kind !== "org") {
    throw denied("FORBIDDEN", "This endpoint needs an agent key or an organization key");
  }
  const agentId =
    body !== null && typeof body === "object"
      ? (body as { agent_id?: unknown }).agent_id
      : undefined;
  if (typeof agentId !== "string" || agentId === "") {
    throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
      { field: "agent_id", message: "is required with an organization key" },
    ]);
  }
  const agent = accessibleAgent(store, principal, agentId);
  if (agent.quarantinedAt !== null) throw denied("AGENT_QUARANTINED", "Agent quarantined");
  if (agent.verifiedAt === null) throw denied("EMAIL_UNVERIFIED", "Email unverified");
  return agent;
}

/**
 * Whose agents a key may read about: undefined for an admin key (everyone's); an agent key, its
 * owner's; an organization key, its organization's (the organization is its agents' owner).
 */
export function ownerScope(principal: Principal): string | undefined {
  if (principal.kind === "agent") return principal.agent.ownerEmail;
  if (principal.kind === "org") return principal.orgId;
  return undefined;
}
