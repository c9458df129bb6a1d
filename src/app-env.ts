import type { HttpBindings } from "@hono/node-server";
import type { RateLimitInfo, Store as RateLimitStore } from "hono-rate-limiter";
import type { Clock } from "./clock.js";
import type { Config, RateLimitName } from "./config.js";
import type { PasswordHasher } from "./crypto/password.js";
import type { Keyring } from "./crypto/signing-keys.js";
import type { Logger } from "./logger.js";
import type { Mailer } from "./mail/mailer.js";
import type { Metrics } from "./metrics.js";
import type { Pipeline } from "./pipeline/pipeline.js";
import type { Role, Scope } from "./scopes.js";
import type { AgentRecord } from "./store/agents.js";
import type { DecisionLog } from "./store/decision-log.js";
import type { Store } from "./store/store.js";

/** Who a request authenticated as. */
export type Principal =
  | Readonly<{ kind: "agent"; keyId: string; agent: AgentRecord }>
  | Readonly<{ kind: "admin"; keyId: string }>
  /** A scoped organization key (`ak_live_…`): only its scopes, only its organization's agents. */
  | Readonly<{ kind: "org"; keyId: string; orgId: string; scopes: ReadonlySet<Scope> }>;

/** An operator signed in with an access token (JWT); never a Principal of the agent API. */
export type OperatorSession = Readonly<{
  operatorId: string;
  sessionId: string;
  email: string;
  name: string;
}>;

/** Hono environment of the gateway: node bindings (absent in-process) and per-request variables. */
export type AppEnv = {
  Bindings: Partial<HttpBindings>;
  Variables: {
    requestId: string;
    /** performance.now() when the request reached the app. */
    startedAt: number;
    /** The parsed JSON body; undefined when the request had none. */
    body: unknown;
    principal: Principal;
    /** Set by operator authentication (access token) on the organization routes. */
    operator: OperatorSession;
    /** On /api/organizations/:org routes: who acts in which organization, with which role. */
    orgActor: Readonly<{ orgId: string; actor: string; role: Role | null }>;
    clientIp: string;
    rateLimit: RateLimitInfo;
  };
};

/** Every rate limiter of the app and the rule it enforces; each keeps its own counts. */
export const LIMITERS = {
  login: "login",
  register: "register",
  operatorLogin: "login",
  signup: "register",
  operatorResend: "register",
  passwordReset: "register",
  resend: "register",
  protect: "protect",
  scoreFree: "scoreFree",
  scoreDeep: "scoreDeep",
  default: "default",
  v1User: "v1User",
  v1Key: "v1Key",
  v1Burst: "v1Burst",
} as const satisfies Record<string, RateLimitName>;

export type LimiterId = keyof typeof LIMITERS;

/** Everything the app needs, built by main.ts (or a test) and injected. */
export type AppDeps = Readonly<{
  config: Config;
  store: Store;
  clock: Clock;
  keyring: Keyring;
  mailer: Mailer;
  logger: Logger;
  pipeline: Pipeline;
  decisionLog: DecisionLog;
  /** Prometheus metrics on the app's own registry; one per process (each cluster worker has its own). */
  metrics: Metrics;
  /**
   * Where a limiter (and auto-quarantine) keeps its counts; in memory by default. Workers of a
   * cluster pass stores counted in the primary, so the limits hold across processes.
   */
  rateLimitStore?: (limiter: LimiterId | "autoQuarantine") => RateLimitStore<AppEnv>;
  /** Operator password hashing; scrypt with production parameters when absent (tests pass cheap ones). */
  passwordHasher?: PasswordHasher;
}>;
