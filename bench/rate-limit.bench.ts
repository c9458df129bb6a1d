import { systemClock } from "../src/clock.js";
import { SlidingWindowStore } from "../src/middleware/rate-limit.js";
import { inProcessApp, median } from "./in-process-app.js";

const ROUNDS = 15;
const PER_ROUND = 4_000;

function appWith(rateLimits: "on" | "off") {
  return inProcessApp({
    AIEGIS_RATE_LIMITS: rateLimits,
    // High enough never to trip: we measure bookkeeping, not rejections.
    AIEGIS_RATE_LIMIT_DEFAULT: "1000000/1m",
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
