import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, Principal } from "../app-env.js";
import type { Clock } from "../clock.js";
import { hashesEqual, hashSecret, isWellFormedApiKey, ORG_KEY_PREFIX } from "../crypto/api-key.js";
import { denied } from "../errors.js";
import type { Scope } from "../scopes.js";
import type { Store } from "../store/store.js";

/** The admin key id recorded for actions taken with AIEGIS_ADMIN_KEY. */
export const ENV_ADMIN_KEY_ID = "env:AIEGIS_ADMIN_KEY";

export type KeyResolver = (key: string) => Principal | null;

/**
 * Resolves a presented key to its principal: the bootstrap admin key (by hash), else an
 * `ak_live_` organization key or an `ak_` key looked up by SHA-256 and compared in constant
 * time. Malformed keys never reach the database; an expired organization key resolves to null.
 */
export function keyResolver(store: Store, adminKeyHash: Buffer | null, clock: Clock): KeyResolver {
  return (key) => {
    const hash = hashSecret(key);
    if (adminKeyHash !== null && hashesEqual(hash, adminKeyHash)) {
      return { kind: "admin", keyId: ENV_ADMIN_KEY_ID };
    }
    if (isWellFormedApiKey(key, ORG_KEY_PREFIX)) {
      const found = store.orgApiKeys.findByHash(hash);
      if (found === undefined || !hashesEqual(found.hash, hash)) return null;
      const now = clock.now();
      if (found.expiresAt !== null && now >= found.expiresAt) return null;
      store.orgApiKeys.noteUse(found.keyId, now);
      return { kind: "org", keyId: found.keyId, orgId: found.orgId, scopes: found.scopes };
    }
    if (!isWellFormedApiKey(key)) return null;
    const match = store.apiKeys.findByHash(hash);
    if (match === undefined || !hashesEqual(match.hash, hash)) return null;
    if (match.kind === "admin") return { kind: "admin", keyId: match.keyId };
    return match.agent === null ? null : { kind: "agent", keyId: match.keyId, agent: match.agent };
  };
}

function headerValue(c: Context<AppEnv>, name: string): string | undefined {
  const value = c.req.header(name)?.trim();
  return value === "" ? undefined : value;
}

function bodyMember(body: unknown, name: string): unknown {
  return body !== null && typeof body === "object" && !Array.isArray(body)
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

/**
 * Every key the request carries, in precedence order: X-API-Key, X-AiEGIS-Key (legacy),
 * Authorization: Bearer, then `api_key` in the JSON body.
 */
export function presentedKeys(c: Context<AppEnv>): string[] {
  const keys: string[] = [];
  const apiKey = headerValue(c, "x-api-key");
  if (apiKey !== undefined) keys.push(apiKey);
  const legacy = headerValue(c, "x-aiegis-key");
  if (legacy !== undefined) keys.push(legacy);
  const authorization = headerValue(c, "authorization");
  if (authorization !== undefined && authorization.slice(0, 7).toLowerCase() === "bearer ") {
    const bearer = authorization.slice(7).trim();
    if (bearer !== "") keys.push(bearer);
  }
  const inBody = bodyMember(c.get("body"), "api_key");
  if (typeof inBody === "string" && inBody.trim() !== "") keys.push(inBody.trim());
  return keys;
}

/**
 * `owner`: an agent key or an admin key, for routes acting on an agent named in the body
 * (`agent_id` is then the target, and the route checks the caller owns it).
 */
export type Role = "agent" | "admin" | "owner";

/**
 * The one authentication middleware: missing or invalid key → 401, two different keys → 401
 * Ambiguous identity, quarantined → 403, unverified → 403, body agent_id of another agent → 403,
 * wrong role → 403. An organization key passes only where the route names a scope and the key
 * holds it (deny by default): no scope → 403 FORBIDDEN, another scope → 403 INSUFFICIENT_SCOPE.
 * Every denial carries `decision: "DENY"`.
 */
export function authenticate(
  resolve: KeyResolver,
  role: Role,
  scope?: Scope,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const keys = presentedKeys(c);
    const first = keys[0];
    if (first === undefined) throw denied("UNAUTHENTICATED", "Missing API key");
    for (let i = 1; i < keys.length; i++) {
      if (keys[i] !== first) throw denied("AMBIGUOUS_IDENTITY", "Ambiguous identity");
    }
    const principal = resolve(first);
    if (principal === null) throw denied("INVALID_API_KEY", "Invalid API key");
    if (principal.kind === "agent") {
      const { agent } = principal;
      if (agent.quarantinedAt !== null) throw denied("AGENT_QUARANTINED", "Agent quarantined");
      if (agent.verifiedAt === null) throw denied("EMAIL_UNVERIFIED", "Email unverified");
      const claimed = bodyMember(c.get("body"), "agent_id");
      if (role !== "owner" && claimed !== undefined && claimed !== agent.id) {
        throw denied("AGENT_ID_MISMATCH", "agent_id mismatch");
      }
      if (role === "admin") throw denied("FORBIDDEN", "This endpoint needs an admin key");
    } else if (principal.kind === "org") {
      if (scope === undefined) {
        throw denied("FORBIDDEN", "This endpoint does not accept organization keys");
      }
      if (!principal.scopes.has(scope)) {
        throw denied("INSUFFICIENT_SCOPE", `This key lacks the ${scope} scope`, {
          required_scope: scope,
        });
      }
    } else if (role === "agent") {
      throw denied("FORBIDDEN", "This endpoint needs an agent key");
    }
    c.set("principal", principal);
    await next();
  };
}
