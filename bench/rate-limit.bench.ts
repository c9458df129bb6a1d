// Cost of the rate limiter per request: the same in-process request with limits on and off,
// and the sliding-window store on its own. Run: npm run bench:rate-limit
import { buildApp } from "../src/app.js";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config.js";
import { ephemeralKeyring } from "../src/crypto/signing-keys.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { SlidingWindowStore } from "../src/middleware/rate-limit.js";
import { createPipeline } from "../src/pipeline/pipeline.js";
import { DecisionLog } from "../src/store/decision-log.js";
import { openStore } from "../src/store/store.js";

const ROUNDS = 15;
const PER_ROUND = 4_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function appWith(rateLimits: "on" | "off") {
  const config = loadConfig({
    AIEGIS_RATE_LIMITS: rateLimits,
    // High enough never to trip: we measure bookkeeping, not rejections.
    AIEGIS_RATE_LIMIT_DEFAULT: "1000000/1m",
    AIEGIS_LOG_LEVEL: "silent",
  });
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
    metrics: new Metrics({ processMetrics: false }),
  });
}

async function perRequestMicros(app: ReturnType<typeof appWith>, ips: number): Promise<number> {
  const env = (i: number) => ({
    incoming: { socket: { remoteAddress: `10.0.${(i % ips) >> 8}.${i % 256}` } },
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < PER_ROUND; i++) {
    const res = await app.request("http://bench/api/health", undefined, env(i) as never);
    if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
  }
  return Number(process.hrtime.bigint() - start) / 1_000 / PER_ROUND;
}

async function main() {
  const on = appWith("on");
  const off = appWith("off");
  const onTimes: number[] = [];
  const offTimes: number[] = [];
  await perRequestMicros(on, 1_000);
  await perRequestMicros(off, 1_000);
  // Alternate A/B rounds so drift on the machine hits both sides alike.
  for (let round = 0; round < ROUNDS; round++) {
    onTimes.push(await perRequestMicros(on, 1_000));
    offTimes.push(await perRequestMicros(off, 1_000));
  }
  const store = new SlidingWindowStore({ limit: 60, windowMs: 60_000 }, systemClock);
  const storeTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) store.increment(`ip-${i % 5_000}`);
    storeTimes.push(Number(process.hrtime.bigint() - start) / 1_000 / 100_000);
  }
  store.shutdown();
  const rows = {
    "GET /api/health, limits off (µs/req)": median(offTimes),
    "GET /api/health, limits on (µs/req)": median(onTimes),
    "rate limiter cost (µs/req)": median(onTimes) - median(offTimes),
    "SlidingWindowStore.increment alone (µs)": median(storeTimes),
  };
  for (const [name, value] of Object.entries(rows)) {
    console.log(`${name.padEnd(44)} ${value.toFixed(2)}`);
  }
}

await main();
