import type { MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv } from "../app-env.js";
import type { KeyResolver, Role } from "../middleware/auth.js";
import type { PassportRegistry } from "../passport-registry.js";
import type { AutoQuarantine } from "../pipeline/auto-quarantine.js";
import type { PolicyLibrary } from "../pipeline/policy-library.js";
import type { Scope } from "../scopes.js";
import type { Pack } from "../score/pack.js";

/** What every route module is handed: the injected services plus shared middleware. */
export type RouteContext = AppDeps &
  Readonly<{
    /** Null when AIEGIS_AUTO_QUARANTINE=off. */
    autoQuarantine: AutoQuarantine | null;
    resolveKey: KeyResolver;
    /**
     * Authentication for a route (`authenticate`), then the /api/v1 per-credential limits.
     * `scope`: what an organization key needs here; without one, organization keys are refused.
     */
    auth: (role: Role, scope?: Scope) => MiddlewareHandler<AppEnv>;
    /** An operator's access token (sets `operator`), then the /api/v1 per-operator limits. */
    operatorAuth: MiddlewareHandler<AppEnv>;
    /** Middleware, one per rule with its own counter; a pass-through when limits are off. */
    limits: Readonly<{
      login: MiddlewareHandler<AppEnv>;
      register: MiddlewareHandler<AppEnv>;
      resend: MiddlewareHandler<AppEnv>;
      /** /api/auth/login: the login rule, per IP, counted apart from agent logins. */
      operatorLogin: MiddlewareHandler<AppEnv>;
      /** /api/auth/signup: the register rule, per IP, counted apart from agent registrations. */
      signup: MiddlewareHandler<AppEnv>;
      /** /api/auth/verify-email/resend: the register rule, per IP, a count of its own. */
      operatorResend: MiddlewareHandler<AppEnv>;
      /** /api/auth/password/forgot: the register rule, per IP, a count of its own. */
      passwordReset: MiddlewareHandler<AppEnv>;
      /** Per agent key, after authentication. */
      protect: MiddlewareHandler<AppEnv>;
      /** Per client IP: the public scoring endpoint. */
      scoreFree: MiddlewareHandler<AppEnv>;
      /** Per agent key, after authentication. */
      scoreDeep: MiddlewareHandler<AppEnv>;
    }>;
    /** JSON body reader for everything but /api/protect (2000 bytes). */
    publicBody: MiddlewareHandler<AppEnv>;
    /** JSON body reader for /api/protect (AIEGIS_MAX_BODY). */
    protectBody: MiddlewareHandler<AppEnv>;
    /** JSON body reader for bodies carrying a passport or an inline bundle (16 KiB). */
    passportBody: MiddlewareHandler<AppEnv>;
    /** JSON body reader for the scoring endpoints (a 2000-character description, escaped). */
    scoreBody: MiddlewareHandler<AppEnv>;
    /** The compiled rule pack the scoring endpoints apply. */
    scorePack: Pack;
    passports: PassportRegistry;
    policies: PolicyLibrary;
    startedAt: number;
    version: string;
  }>;
