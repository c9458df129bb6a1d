import type { HttpBindings } from "@hono/node-server";
import type { RateLimitInfo } from "hono-rate-limiter";
import type { AgentRecord } from "./store/agents.js";

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
