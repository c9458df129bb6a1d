import type { Worker } from "node:cluster";
import type { ClientRateLimitInfo, Store } from "hono-rate-limiter";
import type { AppEnv } from "./app-env.js";
import type { Clock } from "./clock.js";
import type { RateRule } from "./config.js";
import { GatewayError } from "./errors.js";
import { SlidingWindowStore } from "./middleware/rate-limit.js";

// With AIEGIS_WORKERS > 1 the counters live in the primary process and workers ask it over the
// cluster IPC channel, so N workers admit the limit once, not N times. One round trip per
// limited request (tens of µs) buys that; a single process keeps its counters in memory.

type Op = "increment" | "decrement" | "reset";

type RateLimitRequest = Readonly<{
  kind: "aiegis:rate-limit";
  id: number;
  limiter: string;
  op: Op;
  key: string;
}>;

type RateLimitReply = Readonly<{
  kind: "aiegis:rate-limit-reply";
  id: number;
  totalHits: number;
  resetTime: number | null;
}>;

function isRequest(message: unknown): message is RateLimitRequest {
  return (message as { kind?: unknown } | null)?.kind === "aiegis:rate-limit";
}

function isReply(message: unknown): message is RateLimitReply {
  return (message as { kind?: unknown } | null)?.kind === "aiegis:rate-limit-reply";
}

/** Something that can send IPC messages and receive them: a cluster worker's `process`. */
export type IpcPort = Readonly<{
  send?: (message: unknown) => boolean;
  on(event: "message", listener: (message: unknown) => void): unknown;
}>;

/**
 * The worker's end of the channel: numbered requests, replies matched by number, a timeout so
 * a request never waits forever on a primary that does not answer.
 */
export class RateLimitClient {
  readonly #port: IpcPort;
  readonly #timeoutMs: number;
  readonly #pending = new Map<
    number,
    { resolve: (reply: RateLimitReply) => void; timer: NodeJS.Timeout }
  >();
  #next = 1;

  constructor(port: IpcPort, timeoutMs = 2_000) {
    this.#port = port;
    this.#timeoutMs = timeoutMs;
    port.on("message", (message) => {
      if (!isReply(message)) return;
      const waiting = this.#pending.get(message.id);
      if (waiting === undefined) return;
      this.#pending.delete(message.id);
      clearTimeout(waiting.timer);
      waiting.resolve(message);
    });
  }

  /** Sends one operation; rejects with 503 when the primary cannot be reached in time. */
  call(limiter: string, op: Op, key: string): Promise<RateLimitReply> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      // Fail closed: without the shared count the request is refused, not waved through.
      const unavailable = () =>
        reject(new GatewayError("UNAVAILABLE", "Rate limiter unavailable; try again"));
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        unavailable();
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, timer });
      const request: RateLimitRequest = { kind: "aiegis:rate-limit", id, limiter, op, key };
      let sent = false;
      try {
        sent = this.#port.send?.(request) ?? false;
      } catch {
        sent = false;
      }
      if (!sent) {
        this.#pending.delete(id);
        clearTimeout(timer);
        unavailable();
      }
    });
  }

  /** A hono-rate-limiter store for one limiter, counted in the primary. */
  store(limiter: string): Store<AppEnv> {
    return {
      increment: async (key: string): Promise<ClientRateLimitInfo> => {
        const reply = await this.call(limiter, "increment", key);
        return {
          totalHits: reply.totalHits,
          resetTime: reply.resetTime === null ? undefined : new Date(reply.resetTime),
        };
      },
      decrement: async (key: string) => {
        await this.call(limiter, "decrement", key);
      },
      resetKey: async (key: string) => {
        await this.call(limiter, "reset", key);
      },
    };
  }
}

/**
 * The primary's end: one sliding-window store per limiter (rules as configured), answering
 * every worker. Returns a function that attaches a newly forked worker.
 */
export function rateLimitServer(
  rules: Readonly<Record<string, RateRule>>,
  clock: Clock,
): { attach(worker: Worker): void; shutdown(): void } {
  const stores = new Map<string, SlidingWindowStore>();
  for (const [limiter, rule] of Object.entries(rules)) {
    const store = new SlidingWindowStore(rule, clock);
    store.init();
    stores.set(limiter, store);
  }
  return {
    attach(worker) {
      worker.on("message", (message: unknown) => {
        if (!isRequest(message)) return;
        const store = stores.get(message.limiter);
        let totalHits = 0;
        let resetTime: number | null = null;
        if (store === undefined) {
          // An unknown limiter is a bug; counting it as over any limit keeps it fail-closed.
          totalHits = Number.MAX_SAFE_INTEGER;
        } else if (message.op === "increment") {
          const info = store.increment(message.key);
          totalHits = info.totalHits;
          resetTime = info.resetTime?.getTime() ?? null;
        } else if (message.op === "decrement") {
          store.decrement(message.key);
        } else {
          store.resetKey(message.key);
        }
        if (!worker.isConnected()) return;
        const reply: RateLimitReply = {
          kind: "aiegis:rate-limit-reply",
          id: message.id,
          totalHits,
          resetTime,
        };
        worker.send(reply);
      });
    },
    shutdown() {
      for (const store of stores.values()) store.shutdown();
    },
  };
}
