import { randomBytes } from "node:crypto";
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { signAccessToken } from "../crypto/access-token.js";
import { hashSecret, issueToken } from "../crypto/api-key.js";
import {
  PASSWORD_MAX_BYTES,
  PASSWORD_MAX_CHARS,
  PASSWORD_MIN_CHARS,
  type PasswordHasher,
  scryptPasswordHasher,
} from "../crypto/password.js";
import { denied, GatewayError } from "../errors.js";
import { newId } from "../ids.js";
import { type MailMessage, sendOrLog } from "../mail/mailer.js";
import { bearerToken } from "../middleware/operator-auth.js";
import type { EmailToken, OperatorRecord } from "../store/operators.js";
import { email, parseInput, text } from "../validation.js";
import { tokenRefused } from "./email-token.js";
import type { RouteContext } from "./route-context.js";

/** `rt_` + 32 random bytes in base64url (43 characters). */
const REFRESH_PREFIX = "rt_";
const REFRESH_LENGTH = REFRESH_PREFIX.length + 43;
const DAY_MS = 86_400_000;
const EMAIL_TOKEN_TTL_MS = 24 * 3_600_000;
/** A reset link is a password: short-lived. */
const RESET_TOKEN_TTL_MS = 3_600_000;

/** A password as clients send it: never trimmed; characters and UTF-8 bytes both bounded. */
function password(min: number) {
  return z
    .string()
    .min(min, { message: `must be at least ${min} characters` })
    .max(PASSWORD_MAX_CHARS, { message: `must be at most ${PASSWORD_MAX_CHARS} characters` })
    .refine((s) => Buffer.byteLength(s, "utf8") <= PASSWORD_MAX_BYTES, {
      message: `must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8`,
    });
}

export const SignupBody = z.strictObject({
  email: email(),
  password: password(PASSWORD_MIN_CHARS),
  name: text(1, 100),
  organization: text(1, 100),
});

// Any non-empty password may be tried: the minimum is a rule for new passwords.
export const LoginBody = z.strictObject({ email: email(), password: password(1) });

// Generous: a client that sends its access token here by mistake gets 401, not a length error.
const RefreshToken = z.string().min(1).max(1_024);

export const VerifyEmailQuery = z.strictObject({ token: z.string().min(1).max(256) });

export const ResendVerificationBody = z.strictObject({ email: email() });

/** The address a resent verification link or a password reset token goes to. */
export const ForgotPasswordBody = ResendVerificationBody;

export const ResetPasswordBody = z.strictObject({
  token: z.string().min(1).max(256),
  new_password: password(PASSWORD_MIN_CHARS),
});

export const ChangePasswordBody = z.strictObject({
  current_password: password(1),
  new_password: password(PASSWORD_MIN_CHARS),
});

export const RefreshBody = z.strictObject({ refresh_token: RefreshToken });

/** Logout ends the refresh token's session; with an access token alone, that token's session. */
export const LogoutBody = z.strictObject({ refresh_token: RefreshToken.optional() });

const iso = (ms: number) => new Date(ms).toISOString();

function operatorView(operator: OperatorRecord) {
  return {
    id: operator.id,
    email: operator.email,
    name: operator.name,
    email_verified: operator.verifiedAt !== null,
    created_at: iso(operator.createdAt),
  };
}

type Addressee = Pick<OperatorRecord, "id" | "email" | "name">;

/** The mail carrying a password reset token. */
function resetMail(ctx: RouteContext, operator: Addressee, token: string): MailMessage {
  const link = `${ctx.config.publicUrl}/api/v1/auth/password/reset?token=${encodeURIComponent(token)}`;
  return {
    to: operator.email,
    subject: "Reset your AiEGIS password",
    text: [
      `Hello ${operator.name},`,
      "",
      "Someone asked to reset the password of the AiEGIS operator account with this address.",
      "To choose a new one, send this token with the new password to",
      'POST /api/v1/auth/password/reset as {"token", "new_password"}:',
      "",
      token,
      "",
      `(${link})`,
      "",
      "It works once and expires in an hour; every session of the account ends when it is used.",
      "If you did not ask for this, ignore this message: your password stays as it is.",
      "",
    ].join("\n"),
    link,
  };
}

/** The mail carrying the link that proves the operator owns the address. */
function verificationMail(ctx: RouteContext, operator: Addressee, token: string): MailMessage {
  const link = `${ctx.config.publicUrl}/api/v1/auth/verify-email?token=${encodeURIComponent(token)}`;
  return {
    to: operator.email,
    subject: "Verify your e-mail address for AiEGIS",
    text: [
      `Hello ${operator.name},`,
      "",
      "An AiEGIS operator account was created with this address. Open this link to confirm it;",
      "until then no organization can add you as a member:",
      "",
      link,
      "",
      "The link works once and expires in 24 hours. If you did not sign up, ignore this message.",
      "",
    ].join("\n"),
    link,
  };
}

/** True for `rt_` + 43 base64url characters; anything else never reaches the database. */
function isWellFormedRefreshToken(token: string): boolean {
  if (token.length !== REFRESH_LENGTH || !token.startsWith(REFRESH_PREFIX)) return false;
  for (let i = REFRESH_PREFIX.length; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}

function presentedRefreshHash(token: string): Buffer {
  if (!isWellFormedRefreshToken(token)) {
    throw denied("INVALID_REFRESH_TOKEN", "Invalid refresh token");
  }
  return hashSecret(token);
}

/** A new refresh token: returned to the client once, stored only as its SHA-256. */
function newRefreshToken(ctx: RouteContext, now: number) {
  const token = `${REFRESH_PREFIX}${randomBytes(32).toString("base64url")}`;
  const row = {
    hash: hashSecret(token),
    expiresAt: now + ctx.config.sessions.refreshTokenTtlDays * DAY_MS,
  };
  return { token, row };
}

/** The login/refresh answer: a fresh access token for the session plus its new refresh token. */
function tokenPair(
  ctx: RouteContext,
  operatorId: string,
  sessionId: string,
  refreshToken: string,
  now: number,
) {
  const ttlS = ctx.config.sessions.accessTokenTtlS;
  const { token } = signAccessToken(
    { issuer: ctx.config.publicUrl, operatorId, sessionId, now, ttlS },
    ctx.keyring.active,
  );
  return {
    access_token: token,
    refresh_token: refreshToken,
    token_type: "Bearer",
    expires_in: ttlS,
  };
}

function requestIdOf(c: Context<AppEnv>) {
  return { requestId: c.get("requestId") };
}

/**
 * POST /api/auth/signup, /login, /refresh, /logout and GET /api/auth/me (also under /api/v1):
 * operator accounts and their sessions. Access tokens last minutes; refresh tokens rotate on
 * every use, and one presented twice ends its whole session.
 */
export function mountAuth(app: Hono<AppEnv>, ctx: RouteContext): void {
  const hasher: PasswordHasher = ctx.passwordHasher ?? scryptPasswordHasher();
  // Computes the dummy hash now, in the thread pool: otherwise the first login for an unknown
  // e-mail would pay for it and take twice as long as any other.
  void hasher.verify("", null).catch(() => undefined);

  /**
   * Stores a fresh single-use token for `operator` (its hash, expiring after `ttlMs`) and mails
   * it, not awaited: answering as fast for a match as for a miss keeps timing from telling them
   * apart.
   */
  const mailNewToken = (
    operator: Addressee,
    ttlMs: number,
    mail: (ctx: RouteContext, operator: Addressee, token: string) => MailMessage,
    store: (operatorId: string, token: EmailToken, now: number) => void,
  ): void => {
    const now = ctx.clock.now();
    const token = issueToken();
    store(operator.id, { hash: hashSecret(token), expiresAt: now + ttlMs }, now);
    void sendOrLog(ctx.mailer, ctx.logger, mail(ctx, operator, token), {
      operator_id: operator.id,
    });
  };

  app.post("/api/auth/signup", ctx.limits.signup, ctx.publicBody, async (c) => {
    const input = parseInput(SignupBody, c.get("body"));
    const passwordHash = await hasher.hash(input.password);
    // Read after the (slow) hash, so the timestamps are those of the write.
    const now = ctx.clock.now();
    const operator = {
      id: newId("opr"),
      email: input.email,
      name: input.name,
      passwordHash,
      createdAt: now,
      verifiedAt: null,
    };
    const organization = { id: newId("org"), name: input.organization };
    const token = issueToken();
    const result = ctx.store.operators.signup(
      operator,
      organization,
      { hash: hashSecret(token), expiresAt: now + EMAIL_TOKEN_TTL_MS },
      requestIdOf(c),
    );
    if (!result.ok) {
      throw new GatewayError("CONFLICT", "An operator with this e-mail has already signed up");
    }
    ctx.logger.info({ operator_id: operator.id, org_id: organization.id }, "operator signed up");
    // The signup is committed: a failed send is logged, and the resend endpoint mails a new link.
    await sendOrLog(ctx.mailer, ctx.logger, verificationMail(ctx, operator, token), {
      operator_id: operator.id,
    });
    return c.json(
      {
        operator: operatorView(operator),
        organization: {
          id: organization.id,
          name: organization.name,
          role: "owner",
          created_at: iso(now),
        },
      },
      201,
    );
  });

  app.post("/api/auth/login", ctx.limits.operatorLogin, ctx.publicBody, async (c) => {
    const input = parseInput(LoginBody, c.get("body"));
    const account = ctx.store.operators.credentialsOf(input.email);
    // An unknown e-mail is checked against a dummy hash: the same work, the same answer.
    const ok = await hasher.verify(input.password, account?.passwordHash ?? null);
    const now = ctx.clock.now();
    if (!ok || account === undefined) {
      ctx.store.operators.loginFailed(
        { operatorId: account?.id ?? null, email: input.email, at: now },
        requestIdOf(c),
      );
      throw denied("INVALID_CREDENTIALS", "Invalid email or password");
    }
    if (hasher.needsRehash(account.passwordHash)) {
      ctx.store.operators.updatePasswordHash(account.id, await hasher.hash(input.password));
    }
    const sessionId = newId("ses");
    const refresh = newRefreshToken(ctx, now);
    ctx.store.operators.createSession({
      id: sessionId,
      operatorId: account.id,
      refresh: refresh.row,
      createdAt: now,
    });
    ctx.logger.info({ operator_id: account.id, session_id: sessionId }, "operator logged in");
    return c.json(tokenPair(ctx, account.id, sessionId, refresh.token, now));
  });

  // Not the login limiter (5/min per IP): refreshing needs a secret no one can guess, and many
  // operators behind one NAT refresh every few minutes. The per-IP default limit applies.
  app.post("/api/auth/refresh", ctx.publicBody, (c) => {
    const input = parseInput(RefreshBody, c.get("body"));
    const presented = presentedRefreshHash(input.refresh_token);
    const now = ctx.clock.now();
    const next = newRefreshToken(ctx, now);
    const result = ctx.store.operators.rotateRefresh(presented, next.row, now, requestIdOf(c));
    if (!result.ok) {
      if (result.reason === "reused") {
        ctx.logger.warn({}, "refresh token reused: session revoked");
        throw denied("REFRESH_TOKEN_REUSED", "Refresh token already used; the session is revoked");
      }
      throw denied("INVALID_REFRESH_TOKEN", "Invalid refresh token");
    }
    return c.json(tokenPair(ctx, result.operatorId, result.sessionId, next.token, now));
  });

  // With a refresh token: its session ends. Without one, an access token names the session, so a
  // client that lost its refresh token can still log out.
  app.post("/api/auth/logout", ctx.publicBody, async (c) => {
    const input = parseInput(LogoutBody, c.get("body") ?? {});
    const now = ctx.clock.now();
    if (input.refresh_token !== undefined) {
      const presented = presentedRefreshHash(input.refresh_token);
      const result = ctx.store.operators.logout(presented, now, requestIdOf(c));
      if (!result.ok) throw denied("INVALID_REFRESH_TOKEN", "Invalid refresh token");
      return c.json({ logged_out: true });
    }
    if (bearerToken(c) === undefined) {
      throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid body", [
        { field: "refresh_token", message: "is required" },
      ]);
    }
    // Refusals are thrown (401, 429); reaching the callback means the token and session are good.
    let authenticated = false;
    await ctx.operatorAuth(c, async () => {
      authenticated = true;
    });
    if (!authenticated) throw denied("INVALID_ACCESS_TOKEN", "Invalid access token");
    const { operatorId, sessionId } = c.get("operator");
    ctx.store.operators.revokeSession(sessionId, "logout", now, {
      actor: operatorId,
      ...requestIdOf(c),
    });
    return c.json({ logged_out: true });
  });

  app.get("/api/auth/verify-email", (c) => {
    const { token } = parseInput(VerifyEmailQuery, c.req.query(), "query");
    const result = ctx.store.operators.verifyEmail(hashSecret(token), ctx.clock.now(), {
      requestId: c.get("requestId"),
    });
    if (!result.ok) throw tokenRefused(result.reason, "/api/v1/auth/verify-email/resend");
    ctx.logger.info({ operator_id: result.operatorId }, "operator e-mail verified");
    return c.json({ status: "ok", operator_id: result.operatorId });
  });

  // Always 202, whatever the address matched, so the endpoint does not reveal who signed up.
  app.post("/api/auth/verify-email/resend", ctx.limits.operatorResend, ctx.publicBody, (c) => {
    const input = parseInput(ResendVerificationBody, c.get("body"));
    const operator = ctx.store.operators.byEmail(input.email);
    if (operator !== undefined && operator.verifiedAt === null) {
      mailNewToken(operator, EMAIL_TOKEN_TTL_MS, verificationMail, (id, token, now) =>
        ctx.store.operators.reissueEmailToken(id, token, now),
      );
    }
    return c.json({ status: "accepted" }, 202);
  });

  // Always 202, whatever the address matched, so the endpoint does not reveal who signed up.
  app.post("/api/auth/password/forgot", ctx.limits.passwordReset, ctx.publicBody, (c) => {
    const input = parseInput(ForgotPasswordBody, c.get("body"));
    const operator = ctx.store.operators.byEmail(input.email);
    if (operator !== undefined) {
      mailNewToken(operator, RESET_TOKEN_TTL_MS, resetMail, (id, token, now) =>
        ctx.store.operators.issuePasswordReset(id, token, now),
      );
    }
    return c.json({ status: "accepted" }, 202);
  });

  // Counted with logins: a reset token is a credential someone might try to guess.
  app.post("/api/auth/password/reset", ctx.limits.operatorLogin, ctx.publicBody, async (c) => {
    const input = parseInput(ResetPasswordBody, c.get("body"));
    const hash = hashSecret(input.token);
    // Checked before the (costly) hash, and again inside the transaction that spends it.
    if (!ctx.store.operators.passwordResetUsable(hash, ctx.clock.now())) {
      throw new GatewayError("TOKEN_INVALID", "Reset token is invalid, used or expired");
    }
    const passwordHash = await hasher.hash(input.new_password);
    const result = ctx.store.operators.resetPassword(hash, passwordHash, ctx.clock.now(), {
      requestId: c.get("requestId"),
    });
    if (!result.ok) throw tokenRefused(result.reason, "/api/v1/auth/password/forgot");
    ctx.logger.info({ operator_id: result.operatorId }, "operator password reset");
    return c.json({ status: "ok", operator_id: result.operatorId });
  });

  app.post(
    "/api/auth/password",
    ctx.limits.operatorLogin,
    ctx.publicBody,
    ctx.operatorAuth,
    async (c) => {
      const input = parseInput(ChangePasswordBody, c.get("body"));
      const { operatorId, sessionId, email: address } = c.get("operator");
      const account = ctx.store.operators.credentialsOf(address);
      if (!(await hasher.verify(input.current_password, account?.passwordHash ?? null))) {
        throw denied("INVALID_CREDENTIALS", "Current password is wrong");
      }
      const passwordHash = await hasher.hash(input.new_password);
      // This session stays; every other one ends (a stolen refresh token dies with the old password).
      ctx.store.operators.changePassword(operatorId, passwordHash, sessionId, ctx.clock.now(), {
        actor: operatorId,
        requestId: c.get("requestId"),
      });
      ctx.logger.info({ operator_id: operatorId }, "operator password changed");
      return c.json({ status: "ok" });
    },
  );

  app.get("/api/auth/me", ctx.operatorAuth, (c) => {
    const { operatorId } = c.get("operator");
    const operator = ctx.store.operators.byId(operatorId);
    // operatorAuth found the operator a moment ago; accounts are never deleted.
    if (operator === undefined) throw denied("INVALID_ACCESS_TOKEN", "Invalid access token");
    return c.json({
      operator: operatorView(operator),
      organizations: ctx.store.operators.organizationsOf(operatorId).map((o) => ({
        id: o.id,
        name: o.name,
        role: o.role,
        created_at: iso(o.createdAt),
      })),
    });
  });
}
