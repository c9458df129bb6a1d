import type { Context, MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv } from "../app-env.js";
import { AccessTokenVerifier } from "../crypto/access-token.js";
import { denied } from "../errors.js";

/** The bearer token of the Authorization header, or undefined when there is none. */
export function bearerToken(c: Context<AppEnv>): string | undefined {
  const authorization = c.req.header("authorization")?.trim();
  if (authorization === undefined || authorization.slice(0, 7).toLowerCase() !== "bearer ") {
    return undefined;
  }
  const token = authorization.slice(7).trim();
  return token === "" ? undefined : token;
}

/**
 * Operator authentication: `Authorization: Bearer <access token>`, verified strictly (see
 * AccessTokenVerifier), then its session must still be live and its operator exist, so logout
 * and a reused refresh token end every access token of the session at once. Sets `operator`.
 * No token → 401 UNAUTHENTICATED; a bad one → INVALID_ACCESS_TOKEN; a late one →
 * ACCESS_TOKEN_EXPIRED; all with decision DENY.
 */
export function operatorAuth(
  deps: Pick<AppDeps, "config" | "store" | "clock" | "keyring">,
): MiddlewareHandler<AppEnv> {
  const verifier = new AccessTokenVerifier({
    issuer: deps.config.publicUrl,
    keyring: deps.keyring,
    clock: deps.clock,
  });
  const operators = deps.store.operators;
  return async (c, next) => {
    const token = bearerToken(c);
    if (token === undefined) throw denied("UNAUTHENTICATED", "Missing access token");
    const checked = verifier.verify(token);
    if (!checked.ok) {
      throw checked.reason === "expired"
        ? denied("ACCESS_TOKEN_EXPIRED", "Access token expired")
        : denied("INVALID_ACCESS_TOKEN", "Invalid access token");
    }
    const { sub, sid } = checked.claims;
    const operator = operators.sessionOperator(sid, sub);
    if (operator === undefined) throw denied("INVALID_ACCESS_TOKEN", "Session has ended");
    c.set("operator", {
      operatorId: operator.id,
      sessionId: sid,
      email: operator.email,
      name: operator.name,
    });
    await next();
  };
}
