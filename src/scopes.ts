/** What a scoped organization API key may be granted; a key may do nothing it was not granted. */
export const SCOPES = [
  "protect",
  "passports:issue",
  "passports:revoke",
  "agents:manage",
  "agents:quarantine",
  "webhooks:manage",
  "audit:read",
  "score:deep",
] as const;

export type Scope = (typeof SCOPES)[number];

const SCOPE_SET: ReadonlySet<string> = new Set(SCOPES);

/** True when `value` names a scope. */
export function isScope(value: string): value is Scope {
  return SCOPE_SET.has(value);
}

/** Roles of an organization's members, from most to least powerful. */
export const ROLES = ["owner", "admin", "member", "viewer"] as const;

export type Role = (typeof ROLES)[number];
