import { Metrics } from "../src/metrics.js";
import { inProcessApp, median } from "./in-process-app.js";

const ROUNDS = 41;
const PER_ROUND = 2_000;

function appWith(metricsSwitch: "on" | "off", metrics: Metrics) {
  return inProcessApp({ AIEGIS_METRICS: metricsSwitch, AIEGIS_RATE_LIMITS: "off" }, metrics);
}

async function perRequestMicros(app: ReturnType<typeof appWith>): Promise<number> {
  const env = { incoming: { socket: { remoteAddress: "10.0.0.1" } } } as never;
  const start = process.hrtime.bigint();
  for (let i = 0; i < PER_ROUND; i++) {
    // Two routes and an unknown path, so the label lookups see more than one series.
    const path = i % 3 === 0 ? "/api/health" : i % 3 === 1 ? "/.well-known/jwks.json" : "/nope";
    const res = await app.request(`http://bench${path}`, undefined, env);
    if (res.status !== 200 && res.status !== 404) throw new Error(`unexpected ${res.status}`);
  }
  return Number(process.hrtime.bigint() - start) / 1_000 / PER_ROUND;
}

async function main() {
  const metrics = new Metrics();
  const variants = {
    off: appWith("off", new Metrics({ processMetrics: false })),
    on: appWith("on", new Metrics({ processMetrics: false })),
    // prom-client's process metrics watch GC and the event loop: their cost shows separately.
    onWithProcess: appWith("on", metrics),
  };
  const times = { off: [] as number[], on: [] as number[], onWithProcess: [] as number[] };
  const costs = { on: [] as number[], onWithProcess: [] as number[] };
  for (const app of Object.values(variants)) await perRequestMicros(app);
  // Alternate the variants in every round, and take the median of each round's difference,
  // so drift on the machine (other processes, GC) hits all sides alike.
  for (let round = 0; round < ROUNDS; round++) {
    const off = await perRequestMicros(variants.off);
    const on = await perRequestMicros(variants.on);
    const onWithProcess = await perRequestMicros(variants.onWithProcess);
    times.off.push(off);
    times.on.push(on);
    times.onWithProcess.push(onWithProcess);
    costs.on.push(on - off);
    costs.onWithProcess.push(onWithProcess - off);
  }

  const alone = new Metrics({ processMetrics: false });
  const observeTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 100_000; i++) {
      alone.observeRequest(i % 2 === 0 ? "/api/protect" : "/api/health", "POST", 200, 0.0004);
    }
    observeTimes.push(Number(process.hrtime.bigint() - start) / 1_000 / 100_000);
  }

  const scrapeTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    await metrics.render();
    scrapeTimes.push(Number(process.hrtime.bigint() - start) / 1_000);
  }

  const rows = {
    "in-process GET, metrics off (µs/req)": median(times.off),
    "in-process GET, metrics on (µs/req)": median(times.on),
    "  + process metrics (µs/req)": median(times.onWithProcess),
    "metrics middleware cost (µs/req)": median(costs.on),
    "  with process metrics (µs/req)": median(costs.onWithProcess),
    "Metrics.observeRequest alone (µs)": median(observeTimes),
    "one scrape, GET /metrics render (µs)": median(scrapeTimes),
  };
  for (const [name, value] of Object.entries(rows)) {
    console.log(`${name.padEnd(44)} ${value.toFixed(2)}`);
  }
}

await main();
