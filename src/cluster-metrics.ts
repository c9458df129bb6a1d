import type { Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { IpcPort } from "./cluster-rate-limit.js";

// With AIEGIS_WORKERS > 1 a scrape reaches whichever worker accepts the connection. Answering
// with that worker's counters alone would make every scrape a different, partial picture; so
// the worker asks the primary, which collects every worker's registry (prom-client's cluster
// protocol) and answers with all of them, each series labelled with its worker.

type ScrapeRequest = Readonly<{ kind: "aiegis:metrics"; id: number }>;
type ScrapeReply = Readonly<{
  kind: "aiegis:metrics-reply";
  id: number;
  body?: string;
  error?: string;
}>;

function isRequest(message: unknown): message is ScrapeRequest {
  return (message as { kind?: unknown } | null)?.kind === "aiegis:metrics";
}

function isReply(message: unknown): message is ScrapeReply {
  return (message as { kind?: unknown } | null)?.kind === "aiegis:metrics-reply";
}

/**
 * The worker's end, for Metrics' `scrapeVia`: lets the primary read the worker's registry, and
 * returns a scrape that resolves with every worker's metrics in the text format (rejecting if
 * the primary does not answer within `timeoutMs`).
 */
export function clusterScrapeClient(
  port: IpcPort,
  timeoutMs = 7_000,
): (registry: Registry) => () => Promise<string> {
  return (registry) => scrapeThroughPrimary(port, registry, timeoutMs);
}

function scrapeThroughPrimary(
  port: IpcPort,
  registry: Registry,
  timeoutMs: number,
): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's listener that answers the primary's collection.
  new AggregatorRegistry();
  const pending = new Map<number, (reply: ScrapeReply) => void>();
  let next = 1;
  port.on("message", (message) => {
    if (isReply(message)) pending.get(message.id)?.(message);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error("the primary did not answer the metrics scrape in time"));
      }, timeoutMs);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply.body !== undefined) resolve(reply.body);
        else reject(new Error(reply.error ?? "metrics collection failed"));
      });
      if (port.send?.({ kind: "aiegis:metrics", id } satisfies ScrapeRequest) !== true) {
        clearTimeout(timer);
        pending.delete(id);
        reject(new Error("no channel to the primary"));
      }
    });
}

/** The primary's end: answers a worker's scrape with every live worker's metrics. */
export function clusterScrapeServer(): { attach(worker: Worker): void } {
  const aggregator = new AggregatorRegistry();
  return {
    attach(worker) {
      worker.on("message", (message: unknown) => {
        if (!isRequest(message)) return;
        const answer = (reply: ScrapeReply) => {
          if (worker.isConnected()) worker.send(reply);
        };
        aggregator.clusterMetrics().then(
          (body) => answer({ kind: "aiegis:metrics-reply", id: message.id, body }),
          (err: unknown) =>
            answer({ kind: "aiegis:metrics-reply", id: message.id, error: String(err) }),
        );
      });
    },
  };
}
