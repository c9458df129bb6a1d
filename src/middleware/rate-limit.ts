import type { Context, MiddlewareHandler } from "hono";
import { type ClientRateLimitInfo, rateLimiter, type Store } from "hono-rate-limiter";
import type { AppEnv } from "../app-env.js";
import type { Clock } from "../clock.js";
import type { RateRule } from "../config.js";
import { GatewayError } from "../errors.js";

type Window = { hits: Float64Array; start: number; count: number };

/** How many clients one limiter tracks before it forgets the least recently seen. */
const MAX_KEYS = 100_000;

/**
 * A sliding-log store for hono-rate-limiter: each client keeps the times of its last `limit`
 * admitted requests in a ring, so any window of `windowMs` admits at most `limit` requests,
 * across any boundary (a fixed window would admit twice that around its edge). O(1) per hit.
 * Rejected requests are not recorded, so a client that backs off is admitted again on time.
 */
export class SlidingWindowStore implements Store<AppEnv> {
  readonly localKeys = true;
  readonly #windows = new Map<string, Window>();
  readonly #rule: RateRule;
  readonly #clock: Clock;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(rule: RateRule, clock: Clock) {
    this.#rule = rule;
    this.#clock = clock;
  }

  init(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = setInterval(() => this.sweep(), Math.min(this.#rule.windowMs, 60_000));
    this.#sweeper.unref();
  }

  increment(key: string): ClientRateLimitInfo {
    const now = this.#clock.now();
    const { limit, windowMs } = this.#rule;
    let window = this.#windows.get(key);
    if (window === undefined) {
      if (this.#windows.size >= MAX_KEYS) this.#evictOldest();
      window = { hits: new Float64Array(limit), start: 0, count: 0 };
    } else {
      // Re-insert so Map order tracks recency for eviction.
      this.#windows.delete(key);
    }
    this.#windows.set(key, window);
    while (window.count > 0 && window.hits[window.start]! <= now - windowMs) {
      window.start = (window.start + 1) % limit;
      window.count--;
    }
    if (window.count >= limit) {
      return { totalHits: limit + 1, resetTime: new Date(window.hits[window.start]! + windowMs) };
    }
    window.hits[(window.start + window.count) % limit] = now;
    window.count++;
    return { totalHits: window.count, resetTime: new Date(window.hits[window.start]! + windowMs) };
  }

  decrement(key: string): void {
    const window = this.#windows.get(key);
    if (window !== undefined && window.count > 0) window.count--;
  }

  resetKey(key: string): void {
    this.#windows.delete(key);
  }

  resetAll(): void {
    this.#windows.clear();
  }

  shutdown(): void {
    clearInterval(this.#sweeper);
    this.#windows.clear();
  }

  /** Forgets clients whose every recorded hit has left the window. */
  sweep(): void {
    const cutoff = this.#clock.now() - this.#rule.windowMs;
    for (const [key, window] of this.#windows) {
      const newest =
        window.hits[(window.start + window.count - 1 + this.#rule.limit) % this.#rule.limit];
      if (window.count === 0 || newest! <= cutoff) this.#windows.delete(key);
    }
  }

  get size(): number {
    return this.#windows.size;
  }

  #evictOldest(): void {
    const oldest = this.#windows.keys().next();
    if (!oldest.done) this.#windows.delete(oldest.value);
  }
}

function setLegacyHeaders(c: Context<AppEnv>): void {
  const info = c.get("rateLimit");
  c.header("X-RateLimit-Limit", String(info.limit));
  c.header("X-RateLimit-Remaining", String(info.remaining));
  if (info.resetTime !== undefined) {
    c.header("X-RateLimit-Reset", String(Math.ceil(info.resetTime.getTime() / 1000)));
  }
}

export type RateLimitOptions = Readonly<{
  rule: RateRule;
  clock: Clock;
  /** Who is counted: an IP address, an agent id… Prefixing is not needed: each limiter has its own store. */
  keyOf: (c: Context<AppEnv>) => string;
  skip?: (c: Context<AppEnv>) => boolean;
  /** Where the counts live; a fresh in-memory sliding window by default. */
  store?: Store<AppEnv>;
  /** Called for each refused request (metrics). */
  onLimited?: () => void;
}>;

/**
 * hono-rate-limiter on a sliding-log store, adding the X-RateLimit-* headers clients expect
 * beside the IETF draft RateLimit-* ones, and answering 429 in the gateway's error envelope.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const { rule, clock } = options;
  const limiter = rateLimiter<AppEnv>({
    windowMs: rule.windowMs,
    limit: rule.limit,
    standardHeaders: "draft-6",
    keyGenerator: options.keyOf,
    skip: options.skip ?? (() => false),
    store: options.store ?? new SlidingWindowStore(rule, clock),
    handler: (c) => {
      options.onLimited?.();
      setLegacyHeaders(c);
      const reset = c.get("rateLimit").resetTime?.getTime() ?? clock.now() + rule.windowMs;
      const retryAfter = Math.max(1, Math.ceil((reset - clock.now()) / 1000));
      c.header("Retry-After", String(retryAfter));
      throw new GatewayError("RATE_LIMITED", "rate_limited", undefined, {
        message: `Too many requests: at most ${rule.limit} per ${rule.windowMs / 1000} s`,
        retry_after_s: retryAfter,
      });
    },
  });
  return (c, next) =>
    limiter(c, async () => {
      if (c.get("rateLimit") !== undefined) setLegacyHeaders(c);
      await next();
    });
}
