import { type AiegisError, ConnectionError, RateLimitError, ServerError } from "./errors.js";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/**
 * How a request may be retried.
 * - `safe`: GET, DELETE and PATCH (a role set twice is the same role), and POSTs that change nothing or converge on the same state when
 *   repeated (/protect, passport verify, free scoring, quarantine/unquarantine, revoke). Retried
 *   on 429, 5xx, network errors and timeouts.
 * - `unsafe`: POSTs that create something or spend a credential (register, issue, deep score,
 *   webhook create/test, login, signup, refresh, rotate…). Retried on 429 only: the gateway's
 *   rate limiters answer before the handler runs, so a 429 proves nothing happened. A 5xx or a
 *   lost connection may come after the change was committed, and repeating it would create a
 *   duplicate or, for a refresh token, present a spent token and revoke the whole session.
 */
export type RetryMode = "safe" | "unsafe";

export type RetryPolicy = Readonly<{
  maxRetries: number;
  /** First backoff ceiling; doubles with each attempt. */
  baseDelayMs: number;
  /** Ceiling of one computed backoff. */
  maxDelayMs: number;
  /** The longest Retry-After honoured; a longer one is thrown to the caller instead of slept. */
  maxRetryAfterMs: number;
}>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** True when `error` may be retried for a request of this mode. */
export function isRetryable(error: AiegisError, mode: RetryMode): boolean {
  if (error instanceof RateLimitError) return true;
  if (mode === "unsafe") return false;
  if (error instanceof ServerError) return error.status !== 501;
  return error instanceof ConnectionError;
}

/**
 * Milliseconds to wait before retry number `attempt` (0-based), or undefined to give up: the
 * server's Retry-After when it sent one (a longer wait than allowed is not retried: sleeping
 * less would only earn another 429), else "full jitter" (a uniform draw below an exponentially
 * growing cap), which spreads clients that failed together instead of synchronising them.
 */
export function retryDelayMs(
  attempt: number,
  error: AiegisError,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (error.retryAfter !== undefined) {
    const ms = error.retryAfter * 1000;
    return ms > policy.maxRetryAfterMs ? undefined : ms;
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
