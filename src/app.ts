import { Hono, type MiddlewareHandler } from "hono";
import { isV1, routedPath } from "./api-version.js";
import { type AppDeps, type AppEnv, LIMITERS, type LimiterId } from "./app-env.js";
import { BODY_LIMIT } from "./body-limits.js";
import { GatewayError } from "./errors.js";
import { httpMetrics } from "./metrics.js";
import { authenticate, keyResolver } from "./middleware/auth.js";
import { clientIp, trustedProxyList } from "./middleware/client-ip.js";
import { jsonBody } from "./middleware/json-body.js";
import { operatorAuth } from "./middleware/operator-auth.js";
import { rateLimit } from "./middleware/rate-limit.js";
import { renderError, requestContext } from "./middleware/request-context.js";
import { PassportRegistry } from "./passport-registry.js";
import { AutoQuarantine } from "./pipeline/auto-quarantine.js";
import { PolicyLibrary } from "./pipeline/policy-library.js";
import { mountAgents } from "./routes/agents.js";
import { mountAudit } from "./routes/audit.js";
import { mountAuth } from "./routes/auth.js";
import { mountDocs } from "./routes/docs.js";
import { mountHealth } from "./routes/health.js";
import { mountMetrics } from "./routes/metrics.js";
import { mountOrganizations } from "./routes/organizations.js";
import { mountPassports } from "./routes/passports.js";
import { mountProtect } from "./routes/protect.js";
import { mountRegistration } from "./routes/registration.js";
import type { RouteContext } from "./routes/route-context.js";
import { mountScore } from "./routes/score.js";
import { mountWebhooks } from "./routes/webhooks.js";
import { defaultPack } from "./score/pack.js";
import { VERSION } from "./version.js";

/** Paths with a rate limit of their own; every other path shares the per-IP default. */
const OWN_LIMIT_PATHS: ReadonlySet<string> = new Set([
  "/api/protect",
  "/api/register",
  "/api/verify-email/resend",
  "/api/agents/login",
  "/api/auth/signup",
  "/api/auth/login",
  "/api/auth/verify-email/resend",
  "/api/auth/password/forgot",
  "/api/auth/password/reset",
  "/api/score/free",
  "/api/score/deep",
]);

/**
 * Paths the per-IP default limit never counts: a scraper polling /metrics from a host that
 * also sends API traffic (or from behind the same proxy) must neither be refused nor use up
 * that host's budget. /api/health stays counted, as before.
 */
const UNLIMITED_PATHS: ReadonlySet<string> = new Set(["/metrics"]);

export type { AppDeps } from "./app-env.js";

const passThrough: MiddlewareHandler<AppEnv> = (_c, next) => next();

/** Answers 405 (with Allow) for every known path called with a method it does not serve. */
function addMethodNotAllowed(app: Hono<AppEnv>): void {
  const methods = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const set = methods.get(route.path) ?? new Set<string>();
    set.add(route.method);
    if (route.method === "GET") set.add("HEAD");
    methods.set(route.path, set);
  }
  for (const [path, allowed] of methods) {
    const allow = [...allowed].sort().join(", ");
    app.all(path, (c) => {
      throw new GatewayError(
        "METHOD_NOT_ALLOWED",
        `Method ${c.req.method} not allowed`,
        undefined,
        {
          allow,
        },
      );
    });
  }
}

/** Builds the gateway's Hono app from injected dependencies; no I/O happens here. */
export function buildApp(deps: AppDeps): Hono<AppEnv> {
  const { config, clock, logger, metrics } = deps;
  const trusted = trustedProxyList(config.trustedProxies);
  const byIp = (c: Parameters<typeof clientIp>[0]) => clientIp(c, trusted);
  // Per agent: an organization key acting for one of its agents is counted as that agent.
  const byPrincipal = (c: Parameters<typeof clientIp>[0]) => {
    const principal = c.get("principal");
    if (principal.kind === "agent") return principal.agent.id;
    if (principal.kind === "org") {
      const body = c.get("body") as { agent_id?: unknown } | null | undefined;
      if (typeof body?.agent_id === "string") return body.agent_id;
    }
    return principal.keyId;
  };
  const limiter = (id: LimiterId, skip?: (path: string) => boolean, keyOf: typeof byIp = byIp) =>
    config.rateLimits.enabled
      ? rateLimit({
          rule: config.rateLimits.rules[LIMITERS[id]],
          clock,
          keyOf,
          skip: skip && ((c) => skip(c.req.path)),
          store: deps.rateLimitStore?.(id),
          onLimited: () => metrics.rateLimited(id),
        })
      : passThrough;

  // /api/v1, after authentication: per operator or per key, plus a per-credential burst cap.
  const credentialOf = (c: Parameters<typeof clientIp>[0]) => {
    const operator = c.get("operator");
    return operator === undefined ? `key:${c.get("principal").keyId}` : `op:${operator.operatorId}`;
  };
  const v1User = limiter("v1User", undefined, credentialOf);
  const v1Key = limiter("v1Key", undefined, credentialOf);
  const v1Burst = limiter("v1Burst", undefined, credentialOf);
  const v1Limit: MiddlewareHandler<AppEnv> = (c, next) => {
    if (!isV1(c)) return next();
    const perMinute = c.get("operator") === undefined ? v1Key : v1User;
    return v1Burst(c, async () => {
      await perMinute(c, next);
    });
  };
  const resolveKey = keyResolver(deps.store, config.adminKeyHash, clock);
  // Runs `first`, then `second`, as one middleware. Both refuse by throwing (a GatewayError the
  // error handler renders); neither answers with a response of its own, which this would drop.
  const then =
    (
      first: MiddlewareHandler<AppEnv>,
      second: MiddlewareHandler<AppEnv>,
    ): MiddlewareHandler<AppEnv> =>
    (c, next) =>
      first(c, async () => {
        await second(c, next);
      });

  const policies = new PolicyLibrary(deps.pipeline.defaultPolicy);
  const ctx: RouteContext = {
    ...deps,
    resolveKey,
    auth: (role, scope) => then(authenticate(resolveKey, role, scope), v1Limit),
    operatorAuth: then(operatorAuth(deps), v1Limit),
    limits: {
      login: limiter("login"),
      register: limiter("register"),
      // Operators count apart from agents: each route keeps its own count under the same rule.
      operatorLogin: limiter("operatorLogin"),
      signup: limiter("signup"),
      operatorResend: limiter("operatorResend"),
      passwordReset: limiter("passwordReset"),
      resend: limiter("resend"),
      protect: limiter("protect", undefined, byPrincipal),
      scoreFree: limiter("scoreFree"),
      scoreDeep: limiter("scoreDeep", undefined, byPrincipal),
    },
    autoQuarantine:
      config.autoQuarantine === null
        ? null
        : new AutoQuarantine(config.autoQuarantine, clock, deps.rateLimitStore?.("autoQuarantine")),
    publicBody: jsonBody(config.publicMaxBody),
    protectBody: jsonBody(config.maxBody),
    passportBody: jsonBody(BODY_LIMIT.passport),
    scoreBody: jsonBody(BODY_LIMIT.score),
    // Validated and compiled here, at start-up: a broken pack stops the gateway at once.
    scorePack: defaultPack(),
    policies,
    passports: new PassportRegistry({
      store: deps.store,
      keyring: deps.keyring,
      clock,
      issuer: config.publicUrl,
      policies,
    }),
    startedAt: clock.now(),
    version: VERSION,
  };

  metrics.watchQueue("decision_log", () => deps.decisionLog.pending);
  // Deliveries not yet sent (retries included), counted in the database at scrape time.
  metrics.watchQueue("webhook_outbox", () => deps.store.webhooks.backlog());

  const app = new Hono<AppEnv>({ getPath: routedPath });
  // Off means off: no per-request measuring either, not merely a hidden endpoint.
  app.use("*", requestContext(logger, config.metrics ? httpMetrics(metrics) : undefined));
  app.use(
    "*",
    limiter("default", (path) => OWN_LIMIT_PATHS.has(path) || UNLIMITED_PATHS.has(path)),
  );
  mountRegistration(app, ctx);
  mountAuth(app, ctx);
  mountOrganizations(app, ctx);
  mountAgents(app, ctx);
  mountProtect(app, ctx);
  mountPassports(app, ctx);
  mountScore(app, ctx);
  mountAudit(app, ctx);
  mountWebhooks(app, ctx);
  mountHealth(app, ctx);
  mountMetrics(app, ctx);
  mountDocs(app, ctx);
  addMethodNotAllowed(app);
  app.notFound((c) => renderError(new GatewayError("NOT_FOUND", "Route not found"), c, logger));
  app.onError((err, c) => {
    // Every DENY passes here, whichever middleware or route refused the request.
    if (err instanceof GatewayError && err.extras?.decision === "DENY") {
      metrics.denied(err.code, err.status);
    }
    return renderError(err, c, logger);
  });
  return app;
}
