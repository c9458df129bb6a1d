import { type GuardOptions, guard } from "./guard.js";
import { Agents } from "./resources/agents.js";
import { Audit } from "./resources/audit.js";
import { Auth } from "./resources/auth.js";
import { Organizations } from "./resources/organizations.js";
import { Passports } from "./resources/passports.js";
import {
  type ProtectAction,
  type ProtectOptions,
  type ProtectResult,
  protect,
} from "./resources/protect.js";
import { Assessments, Score } from "./resources/score.js";
import { Webhooks } from "./resources/webhooks.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
import { type CallOptions, Credentials, type TokenSet, Transport } from "./transport.js";

export type AiegisOptions = Readonly<{
  /** The gateway's origin, e.g. `https://aiegis.example.com`; calls go to `${baseUrl}/api/v1/…`. */
  baseUrl: string;
  /** An agent key (`ak_…`), an organization key (`ak_live_…`) or an admin key. */
  apiKey?: string;
  /** An operator access token (JWT), for auth.me and organizations. */
  accessToken?: string;
  /** With it, an expired access token is refreshed once and the call retried. */
  refreshToken?: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Retries after 429, 5xx and network errors, where safe. Default 2. */
  maxRetries?: number;
  /** Per attempt. Default 30,000 ms. */
  timeoutMs?: number;
  /** Backoff tuning: `baseDelayMs` (500), `maxDelayMs` (8,000), `maxRetryAfterMs` (60,000). */
  retry?: Partial<Omit<RetryPolicy, "maxRetries">>;
  /** Told of every new token pair (login, refresh), e.g. to persist the refresh token. */
  onTokens?: (tokens: TokenSet) => void;
}>;

/** The aiegis API client. */
export class Aiegis {
  readonly agents: Agents;
  readonly passports: Passports;
  readonly score: Score;
  readonly assessments: Assessments;
  readonly webhooks: Webhooks;
  readonly audit: Audit;
  readonly auth: Auth;
  readonly organizations: Organizations;
  readonly #transport: Transport;

  constructor(options: AiegisOptions) {
    let origin: URL;
    try {
      origin = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`baseUrl must be an absolute http(s) URL, got ${options.baseUrl}`);
    }
    if (origin.protocol !== "http:" && origin.protocol !== "https:") {
      throw new TypeError(`baseUrl must be an http(s) URL, got ${options.baseUrl}`);
    }
    const maxRetries = options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new TypeError("maxRetries must be a non-negative integer");
    }
    this.#transport = new Transport(
      {
        baseUrl: options.baseUrl,
        // Looked up per call, so a fetch replaced after construction (tests, polyfills) is used.
        fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
        retry: { ...DEFAULT_RETRY_POLICY, ...options.retry, maxRetries },
        timeoutMs: options.timeoutMs ?? 30_000,
      },
      new Credentials(options),
    );
    this.agents = new Agents(this.#transport);
    this.passports = new Passports(this.#transport);
    this.score = new Score(this.#transport);
    this.assessments = new Assessments(this.#transport);
    this.webhooks = new Webhooks(this.#transport);
    this.audit = new Audit(this.#transport);
    this.auth = new Auth(this.#transport, options.onTokens);
    this.organizations = new Organizations(this.#transport);
    this.#transport.refresher = () => this.auth.refresh();
  }

  /** POST /api/v1/protect: the gateway's decision on an action the agent is about to take. */
  protect(action: ProtectAction, options?: ProtectOptions): Promise<ProtectResult> {
    return protect(this.#transport, action, options);
  }

  /** GET /api/v1/health: liveness and how many layers answered at start-up. */
  health(options?: CallOptions): Promise<{
    status: "ok" | "degraded" | "unavailable";
    layers: number;
    layers_total: number;
    uptime_s: number;
    version: string;
    checks: Readonly<Record<string, string>>;
  }> {
    return this.#transport.request(
      { method: "GET", path: "/health", credential: "none", retry: "safe" },
      options,
    );
  }

  /** `guard(this, tool, options)`: the tool, judged by /protect before every call. */
  guard<Args extends readonly unknown[], Result>(
    tool: (...args: Args) => Result,
    options: GuardOptions<Args>,
  ): (...args: Args) => Promise<Awaited<Result>> {
    return guard(this, tool, options);
  }

  /** The credentials in use: replace a key, or tokens obtained elsewhere. */
  setCredentials(
    credentials: Readonly<{ apiKey?: string; accessToken?: string; refreshToken?: string }>,
  ): void {
    const held = this.#transport.credentials;
    if ("apiKey" in credentials) held.apiKey = credentials.apiKey;
    if ("accessToken" in credentials) held.accessToken = credentials.accessToken;
    if ("refreshToken" in credentials) held.refreshToken = credentials.refreshToken;
  }

  /** The tokens held now (after login or a refresh), e.g. to persist them. */
  get tokens(): Readonly<{ accessToken?: string; refreshToken?: string }> {
    const { accessToken, refreshToken } = this.#transport.credentials;
    return { accessToken, refreshToken };
  }
}
