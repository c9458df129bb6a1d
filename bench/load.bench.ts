// Load bench: the real gateway (child process) beside a bare Hono baseline, loaded by the same
// generator (autocannon) in the same run, alternating A/B rounds so machine drift hits both.
// Run: npm run bench (full) or npm run bench:quick (≤ 60 s subset). Writes bench/results/latest.{json,md}.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { postJson, provisionAgent } from "../test/helpers/provision.js";
import { ROOT, type RunningServer, startServer } from "../test/helpers/server-process.js";
import { type Lateness, type RoundResult, runOpenLoop } from "./open-loop.js";

// autocannon ships no types; only the part of its API used here is described.
type AutocannonRequest = {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
};
type AutocannonOptions = {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  pipelining?: number;
  requests: AutocannonRequest[];
};
type AutocannonResult = {
  requests: { total: number; average: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
};
type AutocannonInstance = {
  on(
    event: "response",
    fn: (client: unknown, status: number, bytes: number, ms: number) => void,
  ): void;
  then: Promise<AutocannonResult>["then"];
};
const autocannon = createRequire(import.meta.url)("autocannon") as (
  options: AutocannonOptions,
) => AutocannonInstance;

const QUICK = process.argv.includes("--quick");
const ONLY_AT = process.argv.indexOf("--only");
const ONLY: string[] | null =
  ONLY_AT === -1 ? null : (process.argv[ONLY_AT + 1] ?? "").split(",").map((s) => s.trim());
const ROUNDS = QUICK ? 1 : 2;
const DURATION_S = QUICK ? 2 : 10;
// Untimed load before the first measured round, so JIT and caches are warm on both servers.
const WARM_UP_S = QUICK ? 1 : 5;
const CORPUS_DIR = resolve(ROOT, "../shared/corpus");
const RESULTS_DIR = resolve(ROOT, "bench/results");
const BARE = resolve(ROOT, "bench/bare-server.ts");

type Target = "gateway" | "bare";
type Load = { connections: number; overallRate?: number; label: string };
type Scenario = {
  name: string;
  load: Load;
  method: "GET" | "POST";
  path: string;
  /** Bodies cycled through, one per request; the bare server gets the same ones. */
  bodies?: string[];
  headers?: Record<string, string>;
  /** Which gateway to load: the single process one, or AIEGIS_WORKERS=2. */
  gateway: "single" | "workers2";
};

type Stats = {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  reqPerS: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Open-loop rounds: the generator's own worst p99 send delay (ms), part of every latency. */
  senderLateP99?: number;
  /** Every response's latency in log buckets: [upper bound ms, count], empty buckets left out. */
  histogram: [number, number][];
};

/** Bucket upper bounds in ms: four per power of two from 1/64 ms, as HdrHistogram's log view. */
const BUCKETS = Array.from({ length: 4 * 22 }, (_, i) => 2 ** (i / 4 - 6));

/** Counts sorted latencies into BUCKETS (anything above the last bound lands in the last). */
function histogram(sorted: Float64Array): [number, number][] {
  const counts = new Array<number>(BUCKETS.length).fill(0);
  let b = 0;
  for (const v of sorted) {
    while (b < BUCKETS.length - 1 && v > BUCKETS[b]!) b++;
    counts[b]!++;
  }
  return BUCKETS.flatMap((le, i): [number, number][] =>
    counts[i]! > 0 ? [[Number(le.toPrecision(4)), counts[i]!]] : [],
  );
}

// A typical action: about 300 bytes of JSON, which the pipeline ALLOWs.
const TYPICAL = JSON.stringify({
  action: "read_file",
  target: "docs/guides/getting-started.md",
  content:
    "Summarise the onboarding guide for the new team members and list the three setup steps they need to follow before their first deployment.",
  params: { encoding: "utf8", max_bytes: 65536 },
  context: { source: "user", session_id: "sess_bench_0001" },
});

// 64 KB of tool output: plain prose, under the gateway's 65,536-byte AIEGIS_MAX_BODY with the envelope.
const LARGE = JSON.stringify({
  action: "summarize",
  content: "The quarterly report lists revenue by region and the plans for next year. ".repeat(
    Math.floor(64_000 / 74),
  ),
  context: { source: "tool_output" },
});

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function corpusBodies(): string[] | null {
  if (!existsSync(CORPUS_DIR)) return null;
  const bodies: string[] = [];
  for (const file of readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()) {
    for (const line of readFileSync(join(CORPUS_DIR, file), "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const body = JSON.stringify((JSON.parse(line) as { request: unknown }).request);
      // Over-limit cases are 413 by design; they would count as unexpected status codes.
      if (Buffer.byteLength(body) < 65_000) bodies.push(body);
    }
  }
  return bodies;
}

/**
 * Stops collecting a started server's output. The helper keeps appending every access-log line
 * to one string and searching it, which under load would burn the generator's CPU (quadratic).
 * The pipe keeps flowing (removing "data" handlers does not pause it), so the child never blocks.
 */
function quietAfterStart(server: RunningServer): RunningServer {
  server.child.stdout?.removeAllListeners("data");
  server.child.stderr?.removeAllListeners("data");
  server.child.stdout?.resume();
  server.child.stderr?.resume();
  return server;
}

type Round = { samples: number[]; result: RoundResult; lateness?: Lateness };

/**
 * One round, latencies from every response (p95 exact, not p97.5): fixed-rate scenarios run
 * open-loop, timed from each request's scheduled send; saturation runs closed-loop autocannon.
 */
async function runRound(
  url: string,
  scenario: Scenario,
  headers: Record<string, string>,
  duration = DURATION_S,
): Promise<Round> {
  const rate = scenario.load.overallRate;
  if (rate !== undefined) {
    return runOpenLoop({
      url,
      method: scenario.method,
      path: scenario.path,
      headers,
      bodies: scenario.bodies,
      rate,
      durationS: duration,
      connections: scenario.load.connections,
    });
  }
  const bodies = scenario.bodies;
  let next = 0;
  const request: AutocannonRequest = {
    method: scenario.method,
    path: scenario.path,
    headers: { ...(bodies ? { "content-type": "application/json" } : {}), ...headers },
  };
  if (bodies !== undefined && bodies.length === 1) request.body = bodies[0];
  else if (bodies !== undefined) {
    request.setupRequest = (req) => {
      req.body = bodies[next++ % bodies.length];
      return req;
    };
  }
  const samples: number[] = [];
  const instance = autocannon({
    url,
    connections: scenario.load.connections,
    duration,
    requests: [request],
  });
  instance.on("response", (_client, _status, _bytes, ms) => {
    samples.push(ms);
  });
  const result = await instance;
  return { samples, result };
}

function summarise(rounds: Round[]): Stats {
  const all = Float64Array.from(rounds.flatMap((r) => r.samples)).sort();
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  let seconds = 0;
  for (const { result } of rounds) {
    for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
      statusCodes[code] = (statusCodes[code] ?? 0) + count;
    }
    requests += result.requests.total;
    seconds += result.duration;
  }
  const sum = (key: "errors" | "timeouts" | "non2xx") =>
    rounds.reduce((n, r) => n + r.result[key], 0);
  return {
    p50: percentile(all, 0.5),
    p95: percentile(all, 0.95),
    p99: percentile(all, 0.99),
    max: all.length > 0 ? all[all.length - 1]! : Number.NaN,
    reqPerS: seconds > 0 ? requests / seconds : 0,
    requests,
    errors: sum("errors"),
    timeouts: sum("timeouts"),
    non2xx: sum("non2xx"),
    statusCodes,
    histogram: histogram(all),
    ...(rounds.some((r) => r.lateness !== undefined)
      ? { senderLateP99: Math.max(...rounds.map((r) => r.lateness?.p99 ?? 0)) }
      : {}),
  };
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "–");
const ratio = (a: number, b: number) =>
  b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : "–";

type Row = { scenario: string; load: string; gateway: Stats; bare: Stats };

function tableLines(rows: Row[]): string[] {
  const header = [
    "scenario",
    "load",
    "target",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "req/s",
    "errors/non-2xx",
    "p95 gw/bare",
    "req/s gw/bare",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) {
    for (const target of ["gateway", "bare"] as const) {
      const s = row[target];
      lines.push(
        `| ${[
          row.scenario,
          row.load,
          target,
          ms(s.p50),
          ms(s.p95),
          ms(s.p99),
          ms(s.max),
          Math.round(s.reqPerS).toLocaleString("en-US"),
          `${s.errors + s.timeouts}/${s.non2xx}`,
          target === "gateway" ? ratio(row.gateway.p95, row.bare.p95) : "",
          target === "gateway" ? ratio(row.gateway.reqPerS, row.bare.reqPerS) : "",
        ].join(" | ")} |`,
      );
    }
  }
  return lines;
}

function gitCommit(): string {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT })
      .toString()
      .trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: ROOT }).toString().trim();
    return dirty === "" ? sha : `${sha} (uncommitted changes)`;
  } catch {
    return "unknown";
  }
}

async function main() {
  const servers: RunningServer[] = [];
  // Children die with us even on an uncaught error or Ctrl-C: no server outlives the run.
  const killAll = () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill("SIGKILL");
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  const dataDir = mkdtempSync(join(tmpdir(), "aiegis-bench-"));
  const started = Date.now();
  try {
    const gatewayEnv = {
      AIEGIS_DATA_DIR: dataDir,
      AIEGIS_RATE_LIMITS: "off",
      AIEGIS_AUTO_QUARANTINE: "off",
      // "info" is what startServer waits for (the "listening" line) and what operators run.
      AIEGIS_LOG_LEVEL: "info",
    };
    const gateway = quietAfterStart(await startServer(gatewayEnv));
    servers.push(gateway);
    const bare = quietAfterStart(await startServer({}, { script: BARE }));
    servers.push(bare);
    const { apiKey, passport } = await provisionAgent(gateway.url, dataDir);
    const auth = { "x-api-key": apiKey };

    // The typical action must be an ALLOW, or the comparison with the bare ALLOW is unfair.
    const probe = await postJson(`${gateway.url}/api/protect`, JSON.parse(TYPICAL), auth);
    if (probe.decision !== "ALLOW") throw new Error(`typical action is ${String(probe.decision)}`);

    const corpus = corpusBodies();
    if (corpus === null) console.log(`note: ${CORPUS_DIR} not found; corpus replay skipped`);
    const scenarios: Scenario[] = [
      {
        name: "(a) fixed rate, ~300 B",
        load: { connections: 10, overallRate: 1_000, label: "1,000 req/s" },
        method: "POST",
        path: "/api/protect",
        bodies: [TYPICAL],
        gateway: "single",
      },
      {
        name: "(a) fixed rate, ~300 B",
        load: { connections: 25, overallRate: 5_000, label: "5,000 req/s" },
        method: "POST",
        path: "/api/protect",
        bodies: [TYPICAL],
        gateway: "single",
      },
      {
        name: "(b) saturation, ~300 B",
        load: { connections: 10, label: "10 conns" },
        method: "POST",
        path: "/api/protect",
        bodies: [TYPICAL],
        gateway: "single",
      },
      {
        name: "(b) saturation, ~300 B",
        load: { connections: 50, label: "50 conns" },
        method: "POST",
        path: "/api/protect",
        bodies: [TYPICAL],
        gateway: "single",
      },
      {
        name: "(c) 64 KB content",
        load: { connections: 10, overallRate: 200, label: "200 req/s" },
        method: "POST",
        path: "/api/protect",
        bodies: [LARGE],
        gateway: "single",
      },
      ...(corpus === null
        ? []
        : [
            {
              name: `(d) corpus replay (${corpus.length} cases)`,
              load: { connections: 10, overallRate: 1_000, label: "1,000 req/s" },
              method: "POST",
              path: "/api/protect",
              bodies: corpus,
              gateway: "single",
            } satisfies Scenario,
          ]),
      {
        name: "(e) GET /api/health",
        load: { connections: 10, label: "10 conns" },
        method: "GET",
        path: "/api/health",
        gateway: "single",
      },
      {
        name: "(f) with X-Agent-Passport",
        load: { connections: 10, overallRate: 1_000, label: "1,000 req/s" },
        method: "POST",
        path: "/api/protect",
        bodies: [TYPICAL],
        headers: { "x-agent-passport": passport },
        gateway: "single",
      },
      {
        name: "(g) AIEGIS_WORKERS=2",
        load: { connections: 50, label: "50 conns" },
        method: "POST",
        path: "/api/protect",
        bodies: [TYPICAL],
        gateway: "workers2",
      },
    ];

    // The quick subset drops the 10-connection saturation run to stay under 60 s.
    const quick = QUICK
      ? scenarios.filter((s) => !(s.name.startsWith("(b)") && s.load.connections === 10))
      : scenarios;
    // --only a,f runs the scenarios with those letters, e.g. to chase one regression.
    const selected = ONLY === null ? quick : quick.filter((s) => ONLY.includes(s.name.slice(1, 2)));
    const warmUp = (url: string) =>
      runRound(
        url,
        { ...scenarios[0]!, load: { connections: 10, label: "warm-up" } },
        auth,
        WARM_UP_S,
      );
    await warmUp(gateway.url);
    await warmUp(bare.url);
    const rows: Row[] = [];
    let workers2: RunningServer | undefined;
    for (const scenario of selected) {
      let gatewayUrl = gateway.url;
      if (scenario.gateway === "workers2") {
        // The single-process gateway stays idle; the cluster shares its data dir and agent.
        if (workers2 === undefined) {
          workers2 = quietAfterStart(await startServer({ ...gatewayEnv, AIEGIS_WORKERS: "2" }));
          servers.push(workers2);
          await warmUp(workers2.url);
        }
        gatewayUrl = workers2.url;
      }
      const rounds: Record<Target, Round[]> = {
        gateway: [],
        bare: [],
      };
      for (let round = 0; round < ROUNDS; round++) {
        // A/B alternation: gateway, bare, gateway, bare…
        for (const target of ["gateway", "bare"] as const) {
          const url = target === "gateway" ? gatewayUrl : bare.url;
          rounds[target].push(
            await runRound(url, scenario, {
              ...(scenario.bodies ? auth : {}),
              ...scenario.headers,
            }),
          );
          await sleep(QUICK ? 100 : 250);
        }
      }
      const row = {
        scenario: scenario.name,
        load: scenario.load.label,
        gateway: summarise(rounds.gateway),
        bare: summarise(rounds.bare),
      };
      rows.push(row);
      console.log(
        `${row.scenario} @ ${row.load}: gateway p95 ${ms(row.gateway.p95)} ms, ${Math.round(row.gateway.reqPerS)} req/s; bare p95 ${ms(row.bare.p95)} ms, ${Math.round(row.bare.reqPerS)} req/s`,
      );
    }

    const problems = rows.flatMap((r) =>
      (["gateway", "bare"] as const)
        .filter((t) => r[t].errors + r[t].timeouts + r[t].non2xx > 0)
        .map(
          (t) =>
            `${r.scenario} @ ${r.load} (${t}): ${r[t].errors} errors, ${r[t].timeouts} timeouts, ${r[t].non2xx} non-2xx, status codes ${JSON.stringify(r[t].statusCodes)}`,
        ),
    );
    const machine = {
      cpu: cpus()[0]?.model ?? "unknown",
      cpus: cpus().length,
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      os: `${platform()} ${release()}`,
    };
    const meta = {
      command: QUICK ? "npm run bench:quick" : "npm run bench",
      date: new Date().toISOString(),
      node: process.version,
      commit: gitCommit(),
      machine,
      roundsPerTarget: ROUNDS,
      durationSPerRound: DURATION_S,
      wallClockS: Math.round((Date.now() - started) / 1000),
      generator:
        "fixed rates: open-loop node:http generator (bench/open-loop.ts); saturation: autocannon; one process for both targets, A/B alternating rounds",
      coordinatedOmission: `corrected in fixed-rate scenarios: latency runs from each request's scheduled send, so a stalled server's queue shows (the generator's 1 ms timer sends up to ${ms(
        Math.max(
          0,
          ...rows.flatMap((r) => [r.gateway.senderLateP99 ?? 0, r.bare.senderLateP99 ?? 0]),
        ),
      )} ms late at p99, which counts in both targets' figures); saturation runs are closed-loop by nature`,
    };
    const table = tableLines(rows);
    console.log(`\n${table.join("\n")}`);
    console.log(`\nnote: ${meta.coordinatedOmission}.`);
    console.log(
      problems.length === 0
        ? "errors and unexpected status codes: none"
        : `PROBLEMS:\n${problems.join("\n")}`,
    );

    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(
      join(RESULTS_DIR, "latest.json"),
      `${JSON.stringify({ meta, rows, problems }, null, 2)}\n`,
    );
    const md = [
      "# aiegis load benchmark",
      "",
      `Command: \`${meta.command}\` · ${meta.date} · commit ${meta.commit} · Node ${meta.node}`,
      "",
      `Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}; generator on the same machine.`,
      "",
      `${ROUNDS} round(s) of ${DURATION_S} s per target and scenario, alternating gateway and bare Hono. Latencies in ms, percentiles over every response of all rounds.`,
      "",
      ...table,
      "",
      `Coordinated omission is ${meta.coordinatedOmission}.`,
      "",
      problems.length === 0
        ? "Errors and unexpected status codes: none."
        : `Problems:\n\n${problems.map((p) => `- ${p}`).join("\n")}`,
      "",
    ].join("\n");
    writeFileSync(join(RESULTS_DIR, "latest.md"), md);
    console.log(`wrote bench/results/latest.json and latest.md (${meta.wallClockS} s)`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
