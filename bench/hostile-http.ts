// Hostile-input run: thousands of malformed or hostile HTTP requests sent over raw sockets to a
// running gateway. Every answer must be a 4xx or 2xx; a 5xx, a crash or unbounded memory fails
// the run. Run: npm run fuzz:http [-- --count 50000 --seed 7]. A small run is in npm test.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { prng } from "../test/helpers/prng.js";
import { provisionAgent } from "../test/helpers/provision.js";
import { type RunningServer, startServer } from "../test/helpers/server-process.js";

type Random = () => number;
const int = (r: Random, n: number) => Math.floor(r() * n);
const pick = <T>(r: Random, items: readonly T[]): T => items[int(r, items.length)]!;

/** One hostile exchange: raw bytes to send (in pieces, with pauses when slow). */
export type Attack = Readonly<{ kind: string; pieces: readonly Buffer[]; pauseMs: number }>;

const PATHS = [
  "/api/protect",
  "/api/register",
  "/api/agents/login",
  "/api/agent/issue",
  "/api/agent/verify",
  "/registry/revoke",
  "/api/verify-email/resend",
  "/api/agents/me/rotate-key",
  "/api/score/free",
  "/api/health",
  "/metrics",
  "/api/agents",
] as const;

function randomBytes(r: Random, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = int(r, 256);
  return out;
}

function randomJsonValue(r: Random, depth: number): unknown {
  const k = depth > 4 ? int(r, 5) : int(r, 8);
  switch (k) {
    case 0:
      return null;
    case 1:
      return pick(r, [true, false]);
    case 2:
      return pick(r, [0, -1, 1e308, -1e-308, 2 ** 53 + 1, 3.5]);
    case 3:
      return pick(r, ["", "a".repeat(int(r, 3000)), "\u202e\u0000\ud800", "../../etc/passwd", "ﬁ"]);
    case 4:
      return pick(r, ["read_file", "shell_command", "http_request", "__proto__"]);
    case 5:
      return Array.from({ length: int(r, 5) }, () => randomJsonValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < int(r, 6); i++) {
        o[
          pick(r, [
            "action",
            "target",
            "content",
            "params",
            "context",
            "agent_id",
            "x",
            "constructor",
            "prototype",
            "__proto__",
            "passport",
            "email",
            "api_key",
          ])
        ] = randomJsonValue(r, depth + 1);
      }
      return o;
    }
  }
}

/** A well-formed request head with `body` (sent as one piece). */
function request(
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: Buffer,
  chunked = false,
): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (chunked) lines.push("Transfer-Encoding: chunked");
  else lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

/** The attack families; each returns the bytes for one exchange. */
export function makeAttack(r: Random, apiKey: string): Attack {
  const auth: Record<string, string> = pick<Record<string, string>>(r, [
    { "x-api-key": apiKey },
    {},
    { authorization: `Bearer ${apiKey}x` },
  ]);
  const json = { "Content-Type": "application/json", ...auth };
  const path = pick(r, PATHS);
  const kind = pick(r, [
    "random-bytes",
    "random-body",
    "truncated-json",
    "deep-json",
    "huge-header",
    "invalid-utf8",
    "oversize-chunked",
    "mutated-json",
    "bad-request-line",
    "slow-body",
    "bad-content-type",
    "duplicate-headers",
  ] as const);
  const one = (bytes: Buffer): Attack => ({ kind, pieces: [bytes], pauseMs: 0 });
  switch (kind) {
    case "random-bytes":
      return one(randomBytes(r, 1 + int(r, 4096)));
    case "random-body":
      return one(request("POST", path, json, randomBytes(r, int(r, 3000))));
    case "truncated-json": {
      const text = Buffer.from(JSON.stringify(randomJsonValue(r, 0) ?? {}));
      const cut = text.subarray(0, int(r, text.length + 1));
      // Declares the full length but sends less and closes: the body never ends.
      const head = request("POST", path, json, text).subarray(0, -text.length);
      return { kind, pieces: [head, cut], pauseMs: 0 };
    }
    case "deep-json": {
      const depth = 10 + int(r, 20_000);
      const open = pick(r, ["[", '{"a":']);
      const close = open === "[" ? "]" : "}";
      const body = Buffer.from(open.repeat(depth) + (r() < 0.5 ? close.repeat(depth) : ""));
      return one(request("POST", path, json, body));
    }
    case "huge-header":
      return one(
        request(
          "GET",
          path,
          { ...auth, "X-Filler": "a".repeat(8_000 + int(r, 120_000)) },
          Buffer.alloc(0),
        ),
      );
    case "invalid-utf8": {
      const body = Buffer.concat([
        Buffer.from('{"action":"read_file","target":"'),
        pick(r, [
          Buffer.from([0xc3, 0x28]),
          Buffer.from([0xed, 0xa0, 0x80]),
          Buffer.from([0xff]),
          Buffer.from([0xf4, 0x90, 0x80, 0x80]),
        ]),
        Buffer.from('"}'),
      ]);
      return one(request("POST", path, json, body));
    }
    case "oversize-chunked": {
      const chunk = Buffer.from(`${(16_384).toString(16)}\r\n${"a".repeat(16_384)}\r\n`);
      const head = request("POST", path, json, Buffer.alloc(0), true);
      // 2 MiB of chunks: past every body limit of the gateway.
      return { kind, pieces: [head, ...Array.from({ length: 128 }, () => chunk)], pauseMs: 0 };
    }
    case "mutated-json": {
      const base: Record<string, unknown> = {
        action: "read_file",
        target: "docs/readme.md",
        content: "summarise it",
        params: { encoding: "utf8" },
      };
      for (let i = 0; i < 1 + int(r, 3); i++) {
        const key = pick(r, [...Object.keys(base), "agent_id", "__proto__", "extra"]);
        if (r() < 0.3) delete base[key];
        else base[key] = randomJsonValue(r, 2);
      }
      return one(request("POST", path, json, Buffer.from(JSON.stringify(base))));
    }
    case "bad-request-line":
      return one(
        Buffer.from(
          `${pick(r, ["GET", "POST", "BREW", "G\u0000T", ""])} ${pick(r, ["/api/%", "/api/%ZZ", "//..//", "*", `/api/protect?${"%".repeat(int(r, 50))}`, "/\u00ff"])} ${pick(r, ["HTTP/1.1", "HTTP/9.9", "", "HTTP/1.1 extra"])}\r\nHost: x\r\n\r\n`,
          "latin1",
        ),
      );
    case "slow-body": {
      const body = Buffer.from(JSON.stringify({ action: "read_file", target: "a.md" }));
      const head = request("POST", path, json, body).subarray(0, -body.length);
      const pieces = [head];
      for (let i = 0; i < body.length; i += 4) pieces.push(body.subarray(i, i + 4));
      return { kind, pieces, pauseMs: 5 };
    }
    case "bad-content-type":
      return one(
        request(
          "POST",
          path,
          {
            ...auth,
            "Content-Type": pick(r, [
              "text/plain",
              "application/json; charset=latin1",
              "multipart/form-data; boundary=x",
              "application/json\u0000",
            ]),
          },
          Buffer.from('{"action":"read_file"}'),
        ),
      );
    case "duplicate-headers":
      return one(
        Buffer.concat([
          Buffer.from(
            `POST ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: ${pick(r, ["2", "3", "-1", "1e3"])}\r\nx-api-key: ${apiKey}\r\nx-api-key: ak_other\r\n\r\n{}`,
            "latin1",
          ),
        ]),
      );
  }
}

/** What the server answered: the status of the first response, or null when none came. */
function exchange(url: URL, attack: Attack, timeoutMs: number): Promise<number | null> {
  return new Promise((done) => {
    let raw = "";
    let settled = false;
    const socket = connect(Number(url.port), url.hostname);
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      done(status ? Number(status[1]) : null);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk) => {
      raw += chunk.toString("latin1");
      // One status line is all we need; waiting for the close would keep slow attacks long.
      if (/^HTTP\/1\.[01] \d{3}/.test(raw) && raw.includes("\r\n\r\n")) finish();
    });
    socket.on("close", finish);
    socket.on("error", finish);
    socket.on("connect", async () => {
      for (const piece of attack.pieces) {
        if (settled || socket.destroyed) return;
        socket.write(piece);
        if (attack.pauseMs > 0) await sleep(attack.pauseMs);
      }
      // Half-close after a truncated body: the server sees the body end early.
      if (attack.kind === "truncated-json") socket.end();
    });
  });
}

export type HostileReport = {
  sent: number;
  byStatus: Record<string, number>;
  byKind: Record<string, { sent: number; noAnswer: number; fiveXx: number }>;
  fiveXx: number;
  noAnswer: number;
  crashed: boolean;
  healthyAfter: boolean;
  rssMiB: { start: number; peak: number; end: number };
};

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Sends `count` attacks, `concurrency` at a time, to the running `server`. */
export async function runHostile(
  server: RunningServer,
  apiKey: string,
  options: {
    count: number;
    seed: number;
    concurrency?: number;
    onProgress?: (done: number) => void;
  },
): Promise<HostileReport> {
  const url = new URL(server.url);
  const random = prng(options.seed);
  const pid = server.child.pid;
  const report: HostileReport = {
    sent: 0,
    byStatus: {},
    byKind: {},
    fiveXx: 0,
    noAnswer: 0,
    crashed: false,
    healthyAfter: false,
    rssMiB: { start: rssMiB(pid), peak: 0, end: 0 },
  };
  let next = 0;
  const worker = async () => {
    while (next < options.count && !report.crashed) {
      next++;
      const attack = makeAttack(random, apiKey);
      const status = await exchange(url, attack, 5_000);
      report.sent++;
      const kind = report.byKind[attack.kind] ?? { sent: 0, noAnswer: 0, fiveXx: 0 };
      report.byKind[attack.kind] = kind;
      kind.sent++;
      const label = status === null ? "none" : String(status);
      report.byStatus[label] = (report.byStatus[label] ?? 0) + 1;
      if (status === null) {
        report.noAnswer++;
        kind.noAnswer++;
      } else if (status >= 500) {
        report.fiveXx++;
        kind.fiveXx++;
      }
      if (report.sent % 1000 === 0) {
        report.rssMiB.peak = Math.max(report.rssMiB.peak, rssMiB(pid));
        options.onProgress?.(report.sent);
      }
      if (server.child.exitCode !== null || server.child.signalCode !== null) report.crashed = true;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  report.rssMiB.end = rssMiB(pid);
  report.rssMiB.peak = Math.max(report.rssMiB.peak, report.rssMiB.end);
  try {
    report.healthyAfter = (await fetch(`${server.url}/api/health`)).status === 200;
  } catch {
    report.healthyAfter = false;
  }
  report.crashed ||= server.child.exitCode !== null || server.child.signalCode !== null;
  return report;
}

/** The failures a report shows; empty when the run passed. */
export function hostileFailures(report: HostileReport, maxRssGrowthMiB: number): string[] {
  const failures: string[] = [];
  if (report.fiveXx > 0) failures.push(`${report.fiveXx} responses with a 5xx status`);
  if (report.crashed) failures.push("the server process exited");
  if (!report.healthyAfter) failures.push("/api/health did not answer 200 afterwards");
  const growth = report.rssMiB.end - report.rssMiB.start;
  if (growth > maxRssGrowthMiB) {
    failures.push(`resident memory grew by ${growth.toFixed(0)} MiB (bound ${maxRssGrowthMiB})`);
  }
  return failures;
}

async function main() {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: "50000" },
      seed: { type: "string", default: String(Date.now() % 1_000_000) },
      concurrency: { type: "string", default: "32" },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  const dataDir = mkdtempSync(join(tmpdir(), "aiegis-hostile-"));
  const server = await startServer({
    AIEGIS_DATA_DIR: dataDir,
    AIEGIS_RATE_LIMITS: "off",
    AIEGIS_AUTO_QUARANTINE: "off",
    // "info" is what startServer waits for (the "listening" line).
    AIEGIS_LOG_LEVEL: "info",
  });
  // The child's output is not needed after start-up; keep the pipe flowing without storing it.
  server.child.stdout?.removeAllListeners("data");
  server.child.stderr?.removeAllListeners("data");
  server.child.stdout?.resume();
  server.child.stderr?.resume();
  const started = Date.now();
  try {
    const { apiKey } = await provisionAgent(server.url, dataDir);
    console.log(`hostile run: ${count} requests, seed ${seed}, against ${server.url}`);
    const report = await runHostile(server, apiKey, {
      count,
      seed,
      concurrency: Number(values.concurrency),
      onProgress: (done) => {
        if (done % 10_000 === 0) console.log(`  ${done} sent`);
      },
    });
    console.log("\n| attack | sent | no answer | 5xx |\n|---|---|---|---|");
    for (const [kind, k] of Object.entries(report.byKind).sort()) {
      console.log(`| ${kind} | ${k.sent} | ${k.noAnswer} | ${k.fiveXx} |`);
    }
    console.log(`\nstatuses: ${JSON.stringify(report.byStatus)}`);
    console.log(
      `sent ${report.sent} in ${((Date.now() - started) / 1000).toFixed(0)} s · 5xx ${report.fiveXx} · crashed ${report.crashed} · healthy after ${report.healthyAfter} · RSS MiB start ${report.rssMiB.start.toFixed(0)} peak ${report.rssMiB.peak.toFixed(0)} end ${report.rssMiB.end.toFixed(0)}`,
    );
    const failures = hostileFailures(report, 256);
    if (failures.length > 0) {
      console.log(`FAILED: ${failures.join("; ")}`);
      process.exitCode = 1;
    } else {
      console.log("passed: no 5xx, no crash, memory bounded");
    }
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
