// The gateway app in-process on an in-memory database, for benchmarks that compare one
// switch on and off without HTTP in the way.
import { buildApp } from "../src/app.js";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config.js";
import { hashSecret, issueApiKey } from "../src/crypto/api-key.js";
import { ephemeralKeyring } from "../src/crypto/signing-keys.js";
import { newId } from "../src/ids.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { createPipeline } from "../src/pipeline/pipeline.js";
import { DecisionLog } from "../src/store/decision-log.js";
import { openStore, type Store } from "../src/store/store.js";

/** The app built from `env` (logging silenced), with a no-op mailer. */
export function inProcessApp(
  env: Record<string, string>,
  metrics: Metrics = new Metrics({ processMetrics: false }),
) {
  const config = loadConfig({ AIEGIS_LOG_LEVEL: "silent", ...env });
  const store = openStore(":memory:");
  const logger = createLogger("silent");
  return buildApp({
    config,
    store,
    clock: systemClock,
    keyring: ephemeralKeyring(Date.now()),
    mailer: { send: async () => {}, close: () => {} },
    logger,
    pipeline: createPipeline(),
    decisionLog: new DecisionLog(store.db, logger),
    metrics,
  });
}

/** The middle value of `values` (upper middle for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Registers a verified agent straight in `store` (no mail round trip); its id and API key. */
export function seedVerifiedAgent(
  store: Store,
  now: number,
  purpose: string,
): { agentId: string; apiKey: string } {
  const key = issueApiKey();
  const agentId = newId("agt");
  store.agents.register({
    id: agentId,
    name: "bench-agent",
    nameKey: "bench-agent",
    type: "assistant",
    description: `Agent used by the ${purpose} benchmark.`,
    ownerName: "Bench",
    ownerEmail: "bench@example.com",
    createdAt: now,
    key: { id: newId("key"), hash: key.hash, prefix: key.prefix },
    token: { hash: hashSecret("unused"), expiresAt: now },
  });
  store.db.prepare("UPDATE agents SET verified_at = ? WHERE id = ?").run(now, agentId);
  return { agentId, apiKey: key.key };
}
