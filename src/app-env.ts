import type { HttpBindings } from "@hono/node-server";
import type { RateLimitInfo, Store as RateLimitStore } from "hono-rate-limiter";
import type { Clock } from "./clock.js";
import type { Config, RateLimitName } from "./config.js";
import type { Keyring } from "./crypto/signing-keys.js";
import type { Logger } from "./logger.js";
import type { Mailer } from "./mail/mailer.js";
import type { Metrics } from "./metrics.js";
import type { Pipeline } from "./pipeline/pipeline.js";
import type { AgentRecord } from "./store/agents.js";
import type { DecisionLog } from "./store/decision-log.js";
import type { Store } from "./store/store.js";

/** Who a request authenticated as. */
export type Principal =
  | Readonly<{ kind: "agent"; keyId: string; agent: AgentRecord }>
  | Readonly<{ kind: "admin"; keyId: string }>;

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
    clientIp: string;
    rateLimit: RateLimitInfo;
  };
};

/** Every rate limiter of the app and the rule it enforces; each keeps its own counts. */
export const LIMITERS = {
  login: "login",
  register: "register",
  resend: "register",
  protect: "protect",
  scoreFree: "scoreFree",
  scoreDeep: "scoreDeep",
  default: "default",
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
}>;
