import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { ClaimedDelivery, WebhookRepo } from "../store/webhooks.js";
import { type PostResult, postWebhook } from "./http-post.js";
import { SECRET_KEY_FILE } from "./secret-box.js";
import { signedHeaders } from "./signing.js";
import type { Resolver } from "./url-guard.js";

const SECRET_KEY_PATH = `keys/${SECRET_KEY_FILE}`;
const S = 1_000;
const M = 60 * S;
const H = 60 * M;

/**
 * The wait after each failed attempt (before jitter): 13 attempts in all, the last about three
 * days after the first (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 5 h, 10 h, 14 h, 20 h, 20 h).
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  5 * S,
  30 * S,
  2 * M,
  10 * M,
  30 * M,
  1 * H,
  2 * H,
  5 * H,
  10 * H,
  14 * H,
  20 * H,
  20 * H,
];

/** Each wait is scaled by a random factor in [1 - JITTER, 1 + JITTER), so retries spread out. */
export const RETRY_JITTER = 0.2;
/** A receiver's Retry-After is honoured up to this long. */
export const RETRY_AFTER_CAP_MS = 6 * H;
/** An endpoint failing this long without one success is disabled even before a delivery runs out. */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * H;
/** Each POST, connection included, must finish within this. */
export const DELIVERY_TIMEOUT_MS = 10 * S;
/** Finished deliveries (and their attempts) are kept this long. */
export const DELIVERY_RETENTION_MS = 30 * 24 * H;

/**
 * The wait after the `failedAttempts`-th failure (1-based), jittered; null when that was the
 * last attempt.
 */
export function retryDelayMs(
  failedAttempts: number,
  random: () => number = Math.random,
): number | null {
  const base = RETRY_SCHEDULE_MS[failedAttempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()));
}

/** A Retry-After header (seconds, or an HTTP date) as a wait in ms from `now`; null if absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * S;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * When to try again after the `failedAttempts`-th failure, or null when none is left. A
 * Retry-After can push the next attempt later than the schedule (never earlier), up to
 * RETRY_AFTER_CAP_MS.
 */
export function nextAttemptAt(
  failedAttempts: number,
  now: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number | null {
  const delay = retryDelayMs(failedAttempts, random);
  if (delay === null) return null;
  const asked = retryAfterMs === null ? 0 : Math.min(retryAfterMs, RETRY_AFTER_CAP_MS);
  return now + Math.max(delay, asked);
}

export type DispatcherOptions = Readonly<{
  repo: WebhookRepo;
  clock: Clock;
  logger: Logger;
  /** AIEGIS_WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  /** How often to look for due deliveries (ms); default 1000. */
  intervalMs?: number;
  /** Deliveries claimed per round; default 32. */
  batchSize?: number;
  timeoutMs?: number;
  random?: () => number;
  resolve?: Resolver;
  /** Replaces the HTTP POST (tests of the scheduling alone). */
  post?: (url: string, body: string, headers: Record<string, string>) => Promise<PostResult>;
}>;

/**
 * Delivers the webhook outbox, at least once: a background loop (an unref'd timer, never the
 * request path) leases due deliveries, POSTs each one signed, and records the outcome. Several
 * processes may run one each: a lease is taken in an IMMEDIATE transaction and lasts longer
 * than a POST can, so no two dispatchers send the same delivery at the same time; a process
 * that dies mid-send leaves a lease that runs out, and the delivery is sent again.
 */
export class WebhookDispatcher {
  readonly #repo: WebhookRepo;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #allowPrivate: boolean;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #timeoutMs: number;
  readonly #random: () => number;
  readonly #resolve: Resolver | undefined;
  readonly #post: DispatcherOptions["post"];
  #timer: NodeJS.Timeout | undefined;
  #draining = false;
  #running: Promise<number> | undefined;
  #stopped = false;
  #lastPrune = Number.NEGATIVE_INFINITY;

  constructor(options: DispatcherOptions) {
    this.#repo = options.repo;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#allowPrivate = options.allowPrivate;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#batchSize = options.batchSize ?? 32;
    this.#timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.#random = options.random ?? Math.random;
    this.#resolve = options.resolve;
    this.#post = options.post;
  }

  /** Starts the loop; it never keeps the process alive on its own. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.#drain(), this.#intervalMs);
    this.#timer.unref();
  }

  /**
   * Rounds back to back while each one finds a full batch due, so a backlog (after an outage,
   * or a burst of events) drains at the receivers' pace rather than one batch per interval.
   */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const next = () =>
      this.tick().then(
        (sent) => {
          if (sent >= this.#batchSize && !this.#stopped) setImmediate(next);
          else this.#draining = false;
        },
        (err: unknown) => {
          this.#draining = false;
          this.#logger.error({ err }, "webhook dispatch failed");
        },
      );
    next();
  }

  /** Stops the loop and waits for the round in flight (its POSTs are bounded by the timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** One round: sends every delivery due now (up to the batch size); how many were attempted. */
  tick(): Promise<number> {
    // Rounds never overlap: a slow receiver delays the next round, not a second copy of this one.
    this.#running ??= this.#round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #round(): Promise<number> {
    const now = this.#clock.now();
    if (now - this.#lastPrune >= H) {
      this.#lastPrune = now;
      this.#repo.prune(now - DELIVERY_RETENTION_MS);
    }
    if (!this.#repo.hasDue(now)) return 0;
    // The lease outlives the POST's timeout by a wide margin, so it never runs out mid-send.
    const claimed = this.#repo.claim(now, now + this.#timeoutMs * 6, this.#batchSize);
    await Promise.all(claimed.map((delivery) => this.#deliver(delivery)));
    return claimed.length;
  }

  async #deliver(delivery: ClaimedDelivery): Promise<void> {
    const startedAt = this.#clock.now();
    const began = performance.now();
    const { secret } = delivery;
    let result: PostResult;
    try {
      if (secret === null) {
        throw new Error(
          `the signing secret cannot be decrypted (was ${SECRET_KEY_PATH} replaced?)`,
        );
      }
      const headers = signedHeaders(
        secret,
        delivery.eventId,
        Math.floor(startedAt / 1000),
        delivery.payload,
      );
      result = await (this.#post
        ? this.#post(delivery.url, delivery.payload, headers)
        : postWebhook(delivery.url, delivery.payload, headers, {
            timeoutMs: this.#timeoutMs,
            allowPrivate: this.#allowPrivate,
            resolve: this.#resolve,
          }));
    } catch (err) {
      result = {
        statusCode: null,
        error: err instanceof Error ? err.message : String(err),
        retryAfter: null,
      };
    }
    const now = this.#clock.now();
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const attempt = delivery.attempts + 1;
    const retryAt = ok
      ? null
      : nextAttemptAt(attempt, now, parseRetryAfter(result.retryAfter, now), this.#random);
    const error = ok ? null : (result.error ?? `HTTP ${result.statusCode}`);
    const outcome = this.#repo.recordAttempt(
      delivery.seq,
      {
        ok,
        statusCode: result.statusCode,
        error,
        startedAt,
        durationMs: Math.round(performance.now() - began),
        retryAt,
      },
      now,
      DISABLE_AFTER_FAILING_MS,
    );
    // Never the URL (it may carry a token) or the secret: ids, status and outcome only.
    const fields = {
      webhook_id: delivery.endpointId,
      event_id: delivery.eventId,
      type: delivery.type,
      attempt,
      status: result.statusCode,
    };
    if (ok) {
      this.#logger.debug(fields, "webhook delivered");
    } else if (retryAt !== null) {
      this.#logger.info(
        { ...fields, error, retry_at: new Date(retryAt).toISOString() },
        "webhook attempt failed; will retry",
      );
    } else {
      this.#logger.warn({ ...fields, error }, "webhook delivery failed: every attempt used");
    }
    if (outcome.disabled !== undefined) {
      this.#logger.warn(
        {
          webhook_id: delivery.endpointId,
          agent_id: outcome.disabled.agentId,
          reason: outcome.disabled.reason,
        },
        "webhook endpoint disabled after persistent failure",
      );
    }
  }
}
