import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Keyring } from "../crypto/signing-keys.js";
import type { Logger } from "../logger.js";
import type { Mailer } from "../mail/mailer.js";
import type { KeyResolver } from "../middleware/auth.js";
import type { AutoQuarantine } from "../pipeline/auto-quarantine.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { DecisionLog } from "../store/decision-log.js";
import type { Store } from "../store/store.js";

/** What every route module is handed: injected services plus shared middleware. */
export type RouteContext = Readonly<{
  config: Config;
  store: Store;
  clock: Clock;
  keyring: Keyring;
  mailer: Mailer;
  logger: Logger;
  pipeline: Pipeline;
  decisionLog: DecisionLog;
  /** Null when AIEGIS_AUTO_QUARANTINE=off. */
  autoQuarantine: AutoQuarantine | null;
  resolveKey: KeyResolver;
  /** Middleware, one per rule with its own counter; a pass-through when limits are off. */
  limits: Readonly<{
    login: MiddlewareHandler<AppEnv>;
    register: MiddlewareHandler<AppEnv>;
    resend: MiddlewareHandler<AppEnv>;
    /** Per agent key, after authentication. */
    protect: MiddlewareHandler<AppEnv>;
  }>;
  /** JSON body reader for everything but /api/protect (2000 bytes). */
  publicBody: MiddlewareHandler<AppEnv>;
  /** JSON body reader for /api/protect (AIEGIS_MAX_BODY). */
  protectBody: MiddlewareHandler<AppEnv>;
  startedAt: number;
  version: string;
}>;
