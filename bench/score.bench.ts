// Latency of agent scoring on 2,000-character descriptions, in process: the engine alone (free
// and deep), then POST /api/score/free and /api/score/deep through the app (JSON body, zod,
// and for deep the Ed25519 signature and the SQLite insert). Targets: free p99 < 20 ms,
// deep p99 < 50 ms. Run: npm run bench:score [-- --n 2000]
import { resolve } from "node:path";
import { buildApp } from "../src/app.js";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config.js";
import { ephemeralKeyring } from "../src/crypto/signing-keys.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { createPipeline } from "../src/pipeline/pipeline.js";
import { scoreAgent } from "../src/score/engine.js";
import { defaultPack } from "../src/score/pack.js";
import type { ScoreInput } from "../src/score/types.js";
import { DecisionLog } from "../src/store/decision-log.js";
import { openStore } from "../src/store/store.js";
import { loadScoreCases } from "./eval-score-lib.js";
import { seedVerifiedAgent } from "./in-process-app.js";

const LENGTH = 2_000;
const arg = process.argv.indexOf("--n");
const N = arg > 0 ? Number(process.argv[arg + 1]) : 2_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

type Row = { name: string; p50: number; p99: number; max: number };

async function measure(name: string, n: number, fn: (i: number) => unknown): Promise<Row> {
  for (let i = 0; i < 50; i++) await fn(i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1)! };
}

/**
 * 2,000-character descriptions stitched from the labelled fixtures in a different order each
 * time, so every input is new prose that still hits many rules (the expensive case).
 */
function inputs(count: number): string[] {
  const pool = loadScoreCases(resolve(import.meta.dirname, "../test/fixtures")).map(
    (c) => c.description,
  );
  const out: string[] = [];
  let seed = 12345;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  for (let i = 0; i < count; i++) {
    let text = "";
    while (text.length < LENGTH) text += `${pool[Math.floor(next() * pool.length)]} `;
    out.push(text.slice(0, LENGTH));
  }
  return out;
}

async function main() {
  const pack = defaultPack();
  const texts = inputs(256);
  const text = (i: number) => texts[i % texts.length]!;
  const deepInput = (i: number): ScoreInput => ({
    description: text(i),
    agentName: "bench",
    tools: ["read_cv", "send_email", "update_stage", "search_web", "transfer_funds"],
    dataCategories: ["employment history", "health"],
    deployment: { role: "deployer", user_facing: true },
  });

  const rows: Row[] = [];
  rows.push(
    await measure("engine, free", N, (i) => scoreAgent(pack, { description: text(i) }, "free", 0)),
  );
  rows.push(await measure("engine, deep", N, (i) => scoreAgent(pack, deepInput(i), "deep", 0)));

  const now = Date.now();
  const config = loadConfig({ AIEGIS_RATE_LIMITS: "off", AIEGIS_LOG_LEVEL: "silent" });
  const store = openStore(":memory:");
  const { apiKey } = seedVerifiedAgent(store, now, "scoring");
  const logger = createLogger("silent");
  const app = buildApp({
    config,
    store,
    clock: systemClock,
    keyring: ephemeralKeyring(now),
    mailer: { send: async () => {}, close: () => {} },
    logger,
    pipeline: createPipeline(),
    decisionLog: new DecisionLog(store.db, logger),
    metrics: new Metrics({ processMetrics: false }),
  });
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(`http://bench.local${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  rows.push(
    await measure("POST /api/score/free", N, (i) =>
      post("/api/score/free", { description: text(i) }),
    ),
  );
  rows.push(
    await measure("POST /api/score/deep", N, (i) => {
      const input = deepInput(i);
      return post(
        "/api/score/deep",
        {
          description: input.description,
          agent_name: input.agentName,
          tools: input.tools,
          data_categories: input.dataCategories,
          deployment: input.deployment,
        },
        { "x-api-key": apiKey },
      );
    }),
  );

  const ms = (x: number) => x.toFixed(2).padStart(8);
  console.log(`scoring, ${LENGTH}-character descriptions, ${N} calls each (ms)\n`);
  console.log(`${"".padEnd(24)}     p50      p99      max`);
  for (const r of rows) console.log(`${r.name.padEnd(24)}${ms(r.p50)} ${ms(r.p99)} ${ms(r.max)}`);
  const free = rows.find((r) => r.name === "POST /api/score/free")!;
  const deep = rows.find((r) => r.name === "POST /api/score/deep")!;
  console.log(
    `\ntargets: free p99 < 20 ms: ${free.p99 < 20 ? "met" : "MISSED"}; deep p99 < 50 ms: ${deep.p99 < 50 ? "met" : "MISSED"}`,
  );
  store.close();
}

await main();
