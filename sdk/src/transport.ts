import { AiegisError, ConnectionError, errorFromResponse, TimeoutError } from "./errors.js";
import {
  type HttpMethod,
  isRetryable,
  type RetryMode,
  type RetryPolicy,
  retryDelayMs,
  sleep,
} from "./retry.js";

/** Every path the SDK calls lives under this prefix (the structured error envelope). */
export const API_PREFIX = "/api/v1";

/** Per-call overrides, accepted as the last argument of every method. */
export type CallOptions = Readonly<{
  signal?: AbortSignal;
  /** Per attempt; defaults to the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Defaults to the client's `maxRetries`. */
  maxRetries?: number;
  headers?: Readonly<Record<string, string>>;
}>;

/**
 * Which credential a call presents. `key`: the API key (`X-API-Key`). `operator`: the operator's
 * access token (`Authorization: Bearer`), else the API key (organization keys with
 * `agents:manage` may call the organization agent routes). Never both: the gateway answers 401
 * AMBIGUOUS_IDENTITY to a request carrying two different credentials.
 */
export type Credential = "none" | "key" | "operator";

export type QueryValue = string | number | boolean | null | undefined;

export type RequestSpec = Readonly<{
  method: HttpMethod;
  /** Relative to /api/v1, e.g. `/protect`. */
  path: string;
  query?: Readonly<Record<string, QueryValue>>;
  /** A function is evaluated on every attempt (a logout sends the refresh token held then). */
  body?: unknown;
  credential: Credential;
  retry: RetryMode;
  headers?: Readonly<Record<string, string | undefined>>;
  /** `text`: the raw body (NDJSON exports). */
  responseType?: "json" | "text";
  /** False for the refresh call itself, which must never trigger a refresh. */
  refreshOnExpiry?: boolean;
}>;

export type TokenSet = Readonly<{ accessToken: string; refreshToken: string; expiresIn: number }>;

export type TransportConfig = Readonly<{
  baseUrl: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
  timeoutMs: number;
}>;

const isFunction = (value: unknown): value is () => unknown => typeof value === "function";

/** Credentials the client holds; login and refresh replace the tokens. */
export class Credentials {
  apiKey: string | undefined;
  accessToken: string | undefined;
  refreshToken: string | undefined;

  constructor(init: { apiKey?: string; accessToken?: string; refreshToken?: string }) {
    this.apiKey = init.apiKey;
    this.accessToken = init.accessToken;
    this.refreshToken = init.refreshToken;
  }
}

/** Sends requests to the gateway: URLs, credentials, timeouts, typed errors, retries, refresh. */
export class Transport {
  readonly credentials: Credentials;
  /** Exchanges the held refresh token for new tokens; set by the client (auth.refresh). */
  refresher: (() => Promise<unknown>) | undefined;
  readonly #config: TransportConfig;
  #refreshing: Promise<void> | undefined;

  constructor(config: TransportConfig, credentials: Credentials) {
    this.#config = { ...config, baseUrl: config.baseUrl.replace(/\/+$/, "") };
    this.credentials = credentials;
  }

  /** Performs one API call, retrying as `spec.retry` allows; resolves with the parsed body. */
  async request<T>(spec: RequestSpec, options: CallOptions = {}): Promise<T> {
    const maxRetries = options.maxRetries ?? this.#config.retry.maxRetries;
    let attempt = 0;
    let refreshed = false;
    for (;;) {
      const tokenUsed = this.#bearerFor(spec.credential);
      try {
        return (await this.#send(spec, options)) as T;
      } catch (err) {
        if (!(err instanceof AiegisError)) throw err;
        if (
          !refreshed &&
          err.type === "ACCESS_TOKEN_EXPIRED" &&
          tokenUsed !== undefined &&
          spec.refreshOnExpiry !== false &&
          this.credentials.refreshToken !== undefined &&
          this.refresher !== undefined
        ) {
          refreshed = true;
          // Another call may have refreshed meanwhile: then just retry with the new token.
          if (this.credentials.accessToken === tokenUsed) await this.refreshTokens();
          continue;
        }
        if (attempt >= maxRetries || !isRetryable(err, spec.retry)) throw err;
        const delay = retryDelayMs(attempt, err, this.#config.retry);
        if (delay === undefined) throw err;
        await sleep(delay, options.signal);
        attempt++;
      }
    }
  }

  /**
   * Refreshes the tokens once however many calls ask at the same time: a refresh token is
   * single-use, and presenting it twice would make the gateway revoke the whole session.
   */
  refreshTokens(): Promise<void> {
    if (this.refresher === undefined) return Promise.resolve();
    this.#refreshing ??= this.refresher()
      .then(() => undefined)
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  #bearerFor(credential: Credential): string | undefined {
    return credential === "operator" ? this.credentials.accessToken : undefined;
  }

  #url(spec: RequestSpec): string {
    const url = new URL(`${this.#config.baseUrl}${API_PREFIX}${spec.path}`);
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  #headers(spec: RequestSpec, options: CallOptions, hasBody: boolean): Headers {
    const headers = new Headers({ accept: "application/json" });
    if (hasBody) headers.set("content-type", "application/json");
    const { apiKey, accessToken } = this.credentials;
    if (spec.credential === "operator" && accessToken !== undefined) {
      headers.set("authorization", `Bearer ${accessToken}`);
    } else if (spec.credential !== "none" && apiKey !== undefined) {
      headers.set("x-api-key", apiKey);
    }
    for (const [name, value] of Object.entries(spec.headers ?? {})) {
      if (value !== undefined) headers.set(name, value);
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
    return headers;
  }

  async #send(spec: RequestSpec, options: CallOptions): Promise<unknown> {
    const body = isFunction(spec.body) ? spec.body() : spec.body;
    const hasBody = body !== undefined;
    const url = this.#url(spec);
    const timeoutMs = options.timeoutMs ?? this.#config.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.#config.fetch(url, {
        method: spec.method,
        headers: this.#headers(spec, options, hasBody),
        body: hasBody ? JSON.stringify(body) : undefined,
        signal,
        redirect: "error",
      });
      // Read inside the same try: a body cut off or stalled is a connection failure too.
      text = await response.text();
    } catch (err) {
      // The caller's own abort is theirs to handle, never wrapped nor retried.
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      const origin = new URL(url).origin;
      if (timeout.aborted) {
        throw new TimeoutError({
          status: 0,
          type: "TIMEOUT",
          message: `No answer from ${origin} within ${timeoutMs} ms (${spec.method} ${spec.path})`,
          cause: err,
        });
      }
      throw new ConnectionError({
        status: 0,
        type: "CONNECTION_ERROR",
        message: `Could not reach ${origin} (${spec.method} ${spec.path}): ${describe(err)}`,
        cause: err,
      });
    }
    if (!response.ok) throw errorFromResponse(response, text);
    if (spec.responseType === "text") return text;
    if (text === "") return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new AiegisError({
        status: response.status,
        type: "INVALID_RESPONSE",
        message: `Expected JSON from ${spec.method} ${spec.path}, got: ${text.slice(0, 120)}`,
        requestId: response.headers.get("x-request-id") ?? undefined,
        headers: response.headers,
        cause: err,
      });
    }
  }
}

/** The most telling message of a fetch failure (undici hides the reason in `cause`). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${cause.message}` : cause.message;
  }
  return err.message;
}
