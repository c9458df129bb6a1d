import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AppEnv, LimiterId } from "./app-env.js";
import { type ErrorCode, GatewayError } from "./errors.js";
import type { RequestObserver } from "./middleware/request-context.js";
import type { Decision, Verdict } from "./pipeline/engine.js";

/**
 * Latency buckets (seconds) from 100 µs to 1 s: the gateway answers in well under a
 * millisecond, so prom-client's defaults (5 ms and up) would put every request in one bucket.
 */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** The route label of a request no route matched: never its URL, which the client chooses. */
export const UNMATCHED_ROUTE = "unmatched";

/** Methods labelled as themselves; any other method is labelled OTHER (clients choose it). */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

export type MetricsOptions = Readonly<{
  /** Labels on every series, e.g. `{ worker: "2" }` in a cluster worker. */
  defaultLabels?: Readonly<Record<string, string>>;
  /** prom-client's process metrics (CPU, memory, event loop lag, GC); on unless false. */
  processMetrics?: boolean;
  /**
   * Given this registry, returns where a scrape's text comes from instead of the registry
   * alone: in a cluster worker, every worker's metrics collected by the primary
   * (cluster-metrics.ts). Called once, at construction.
   */
  scrapeVia?: (registry: Registry) => () => Promise<string>;
}>;

/**
 * The gateway's Prometheus metrics on a registry of their own (not prom-client's global one,
 * so every app built in one process, as tests do, counts apart). Label values are route
 * patterns, verdicts, limiter ids, layer names and finding codes: all from our code, never
 * from request input, so the number of series stays bounded.
 */
export class Metrics {
  readonly registry: Registry;
  readonly #latency: Histogram<"route">;
  readonly #requests: Counter<"route" | "method" | "status">;
  readonly #decisions: Counter<"decision">;
  readonly #findings: Counter<"layer" | "code" | "severity">;
  readonly #rateLimited: Counter<"limiter">;
  readonly #denied: Counter<"code" | "status">;
  readonly #autoQuarantines: Counter;
  readonly #queues = new Map<string, () => number>();
  readonly #scrape: (() => Promise<string>) | undefined;

  constructor(options: MetricsOptions = {}) {
    const registry = new Registry();
    if (options.defaultLabels !== undefined)
      registry.setDefaultLabels({ ...options.defaultLabels });
    const registers = [registry];
    this.registry = registry;
    this.#scrape = options.scrapeVia?.(registry);
    this.#latency = new Histogram({
      name: "aiegis_http_request_duration_seconds",
      help: "Time from the request reaching the app to its response, by route pattern",
      labelNames: ["route"],
      buckets: [...LATENCY_BUCKETS],
      registers,
    });
    this.#requests = new Counter({
      name: "aiegis_http_requests_total",
      help: "Requests answered, by route pattern, method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.#decisions = new Counter({
      name: "aiegis_protect_decisions_total",
      help: "POST /api/protect decisions, by result",
      labelNames: ["decision"],
      registers,
    });
    this.#findings = new Counter({
      name: "aiegis_protect_findings_total",
      help: "Findings in /api/protect decisions, by layer, code and severity",
      labelNames: ["layer", "code", "severity"],
      registers,
    });
    this.#rateLimited = new Counter({
      name: "aiegis_rate_limited_total",
      help: "Requests refused with 429, by limiter",
      labelNames: ["limiter"],
      registers,
    });
    this.#denied = new Counter({
      name: "aiegis_denied_total",
      help: "Authentication and authorisation denials (decision DENY), by code and status",
      labelNames: ["code", "status"],
      registers,
    });
    this.#autoQuarantines = new Counter({
      name: "aiegis_auto_quarantines_total",
      help: "Agents quarantined automatically after repeated BLOCK decisions",
      registers,
    });
    const queues = this.#queues;
    // Kept by the registry alone: nothing sets it between scrapes.
    new Gauge({
      name: "aiegis_queue_length",
      help: "Entries waiting to be written, by queue",
      labelNames: ["queue"],
      registers,
      // Read when scraped, so the hot path never touches the gauge.
      collect() {
        for (const [queue, length] of queues) this.set({ queue }, length());
      },
    });
    // Every verdict appears from the first scrape, so rate() works before the first BLOCK.
    for (const decision of ["ALLOW", "WARN", "BLOCK"] satisfies Verdict[]) {
      this.#decisions.inc({ decision }, 0);
    }
    this.#autoQuarantines.inc(0);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  }

  /** Records one answered request; `seconds` is its latency. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.#latency.observe({ route }, seconds);
    this.#requests.inc({
      route,
      method: KNOWN_METHODS.has(method) ? method : "OTHER",
      status,
    });
  }

  /** Counts one /api/protect decision and each of its findings. */
  recordDecision(decision: Decision): void {
    this.#decisions.inc({ decision: decision.decision });
    for (const f of decision.findings) {
      this.#findings.inc({ layer: f.layer, code: f.code, severity: f.severity });
    }
  }

  /** Counts one 429 of the given limiter. */
  rateLimited(limiter: LimiterId): void {
    this.#rateLimited.inc({ limiter });
  }

  /** Counts one DENY answer (401/403 from authentication, authorisation or a passport check). */
  denied(code: ErrorCode, status: number): void {
    this.#denied.inc({ code, status });
  }

  /** Counts one automatic quarantine. */
  autoQuarantined(): void {
    this.#autoQuarantines.inc();
  }

  /** Reports `length()` as aiegis_queue_length{queue} at every scrape. */
  watchQueue(queue: string, length: () => number): void {
    this.#queues.set(queue, length);
  }

  /** The exposition text and its content type (`text/plain; version=0.0.4`). */
  async render(): Promise<{ body: string; contentType: string }> {
    if (this.#scrape === undefined) {
      return { body: await this.registry.metrics(), contentType: this.registry.contentType };
    }
    let body: string;
    try {
      body = await this.#scrape();
    } catch {
      // A partial picture would look like a complete one: fail the scrape visibly instead.
      throw new GatewayError("UNAVAILABLE", "Metrics of every worker could not be collected");
    }
    return { body, contentType: this.registry.contentType };
  }
}

/**
 * The route pattern that answered: the route whose handler ran last, or when that was an
 * app-wide (`*`) middleware (a 429 from the per-IP limit), the first route after it, the one
 * that would have answered. A request that matched no route is UNMATCHED_ROUTE.
 */
export function routeLabel(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c);
  for (let i = c.req.routeIndex; i < routes.length; i++) {
    const path = routes[i]!.path;
    if (path !== "*" && path !== "/*") return path;
  }
  return UNMATCHED_ROUTE;
}

/** The request observer that records every answered request's route, method, status and latency. */
export function httpMetrics(metrics: Metrics): RequestObserver {
  return (c, seconds) => metrics.observeRequest(routeLabel(c), c.req.method, c.res.status, seconds);
}
