import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { hashSecret, issueApiKey, issueToken } from "../crypto/api-key.js";
import { signJwt } from "../crypto/jwt.js";
import { GatewayError } from "../errors.js";
import { newId } from "../ids.js";
import { sendOrLog } from "../mail/mailer.js";
import type { AgentRecord } from "../store/agents.js";
import { email, parseInput, slug, text } from "../validation.js";
import { tokenRefused } from "./email-token.js";
import type { RouteContext } from "./route-context.js";

const VERIFICATION_TTL_MS = 24 * 3_600_000;

export const RegisterBody = z.strictObject({
  agent_name: text(1, 64),
  agent_type: slug(40),
  description: text(20, 1000, { multiline: true }),
  owner_name: text(1, 100),
  owner_email: email(),
});

export const VerifyQuery = z.strictObject({
  token: z.string().min(1).max(256),
});

export const ResendBody = z.strictObject({
  owner_email: email(),
  agent_name: text(1, 64),
});

/** Case- and width-insensitive form of a name, so "Ａgent" and "agent" collide. */
export function nameKeyOf(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

/** The `tag`: a signed JWT naming the agent, verifiable with /.well-known/jwks.json. */
function agentTag(
  ctx: RouteContext,
  agent: { id: string; name: string; type: string },
  now: number,
) {
  return signJwt(
    "agent-tag+jwt",
    {
      iss: ctx.config.publicUrl,
      sub: agent.id,
      iat: Math.floor(now / 1000),
      agent_name: agent.name,
      agent_type: agent.type,
    },
    ctx.keyring.active,
  );
}

/**
 * Mails the verification link. The registration is already committed, so a failed send is
 * logged, not thrown: the owner can ask for a new mail (resend endpoint).
 */
function sendVerification(
  ctx: RouteContext,
  agent: Pick<AgentRecord, "id" | "name" | "ownerName" | "ownerEmail">,
  token: string,
): Promise<void> {
  const link = `${ctx.config.publicUrl}/api/verify-email?token=${encodeURIComponent(token)}`;
  const message = {
    to: agent.ownerEmail,
    subject: `Verify your e-mail to activate agent ${agent.name}`,
    text: [
      `Hello ${agent.ownerName},`,
      "",
      `The agent "${agent.name}" (${agent.id}) was registered with AiEGIS under this address.`,
      "Open this link to confirm the address and activate the agent's API key:",
      "",
      link,
      "",
      "The link works once and expires in 24 hours. If you did not register this agent, ignore this message.",
      "",
    ].join("\n"),
    link,
  };
  return sendOrLog(ctx.mailer, ctx.logger, message, { agent_id: agent.id });
}

/** POST /api/register, GET /api/verify-email, POST /api/verify-email/resend. */
export function mountRegistration(app: Hono<AppEnv>, ctx: RouteContext): void {
  app.post("/api/register", ctx.limits.register, ctx.publicBody, async (c) => {
    const input = parseInput(RegisterBody, c.get("body"));
    const now = ctx.clock.now();
    const key = issueApiKey();
    const token = issueToken();
    const agent = {
      id: newId("agt"),
      name: input.agent_name,
      nameKey: nameKeyOf(input.agent_name),
      type: input.agent_type,
      description: input.description,
      ownerName: input.owner_name,
      ownerEmail: input.owner_email,
      createdAt: now,
      key: { id: newId("key"), hash: key.hash, prefix: key.prefix },
      token: { hash: hashSecret(token), expiresAt: now + VERIFICATION_TTL_MS },
    };
    const result = ctx.store.agents.register(agent, { requestId: c.get("requestId") });
    if (!result.ok) {
      throw new GatewayError(
        "CONFLICT",
        "An agent with this name is already registered for this owner",
      );
    }
    ctx.logger.info({ agent_id: agent.id, key_prefix: key.prefix }, "agent registered");
    await sendVerification(ctx, agent, token);
    return c.json(
      {
        agent_id: agent.id,
        api_key: key.key,
        status: "PENDING_VERIFICATION",
        tag: agentTag(ctx, agent, now),
      },
      201,
    );
  });

  app.get("/api/verify-email", (c) => {
    const { token } = parseInput(VerifyQuery, c.req.query(), "query");
    const result = ctx.store.tokens.consume(hashSecret(token), ctx.clock.now(), {
      requestId: c.get("requestId"),
    });
    if (!result.ok) throw tokenRefused(result.reason, "/api/verify-email/resend");
    ctx.logger.info({ agent_id: result.agentId }, "owner e-mail verified");
    return c.json({ status: "ok", agent_id: result.agentId });
  });

  // Always 202, whatever the input matched, so the endpoint does not reveal who is registered.
  app.post("/api/verify-email/resend", ctx.limits.resend, ctx.publicBody, async (c) => {
    const input = parseInput(ResendBody, c.get("body"));
    const agent = ctx.store.agents.byOwnerAndName(input.owner_email, nameKeyOf(input.agent_name));
    if (agent !== undefined && agent.verifiedAt === null) {
      const now = ctx.clock.now();
      const token = issueToken();
      ctx.store.tokens.reissue(agent.id, hashSecret(token), now, now + VERIFICATION_TTL_MS);
      // Not awaited: answering as fast for a match as for a miss keeps timing from telling them apart.
      void sendVerification(ctx, agent, token);
    }
    return c.json({ status: "accepted" }, 202);
  });
}
