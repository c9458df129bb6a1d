import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type RunningServer, runCli, startServer } from "../helpers/server-process.js";

const ADMIN_KEY = "e2e-admin-key-0123456789-abcdefghijklmnopqrstuv";
const WORKERS = 2;

/** A response, with when its request started and when its answer was read (performance.now()). */
type Reply = { status: number; body: Record<string, unknown>; startedAt: number; endedAt: number };

let ipCounter = 0;
/** A fresh client address per call (the server trusts 127.0.0.1 as a proxy), unless given. */
function nextIp(): string {
  ipCounter++;
  return `198.51.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

/**
 * One request on a new connection (agent: false), so the cluster spreads requests over its
 * workers instead of pinning a keep-alive socket to one of them.
 */
function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        headers: {
          "x-forwarded-for": nextIp(),
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          try {
            const endedAt = performance.now();
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), startedAt, endedAt });
          } catch (err) {
            reject(new Error(`not JSON (${res.statusCode}): ${text.slice(0, 200)} ${err}`));
          }
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

describe(`e2e: passports across ${WORKERS} workers sharing one port and one database`, () => {
  let dataDir: string;
  let server: RunningServer;
  let base: string;
  let agentId: string;
  let apiKey: string;
  /** Every passport handed out, to prove none reaches a log or a database file. */
  const tokens: string[] = [];

  before(
    async () => {
      dataDir = mkdtempSync(join(tmpdir(), "aiegis-e2e-cluster-"));
      server = await startServer(
        {
          AIEGIS_DATA_DIR: dataDir,
          AIEGIS_WORKERS: String(WORKERS),
          AIEGIS_ADMIN_KEY: ADMIN_KEY,
          AIEGIS_TRUSTED_PROXIES: "127.0.0.1",
          AIEGIS_RATE_LIMIT_DEFAULT: "10/1m",
          AIEGIS_RATE_LIMIT_PROTECT: "1000000/1m",
          AIEGIS_AUTO_QUARANTINE: "3/10m",
          AIEGIS_LOG_LEVEL: "info",
        },
        { startTimeoutMs: 120_000 },
      );
      base = server.url;
      ({ agentId, apiKey } = await registerVerified("cluster-bot"));
    },
    { timeout: 300_000 },
  );

  /** Registers an agent and clicks the link of the verification mail in the outbox. */
  async function registerVerified(name: string): Promise<{ agentId: string; apiKey: string }> {
    const registered = await call(base, "POST", "/api/register", {
      agent_name: name,
      agent_type: "assistant",
      description: "End-to-end agent for the multi-process passport test.",
      owner_name: "Owner",
      owner_email: "owner@example.com",
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const id = String(registered.body.agent_id);
    const outbox = join(dataDir, "outbox");
    const mail = readdirSync(outbox)
      .filter((f) => f.endsWith(".eml"))
      .map((f) => decodeQuotedPrintable(readFileSync(join(outbox, f), "utf8")))
      .find((text) => text.includes(id));
    const link = mail?.match(/https?:\/\/\S+\/api\/verify-email\?token=[A-Za-z0-9_-]+/)?.[0];
    assert.ok(link, `no verification mail for ${id}`);
    const verified = await call(base, "GET", new URL(link).pathname + new URL(link).search);
    assert.equal(verified.status, 200);
    return { agentId: id, apiKey: String(registered.body.api_key) };
  }

  after(async () => {
    if (server !== undefined) assert.equal(await server.stop(), 0, server.output().slice(-2000));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The server's error log lines, for assertion messages. */
  function serverErrors(): string {
    return server
      .output()
      .split("\n")
      .filter((line) => line.includes('"level":"error"') || line.includes('"level":"fatal"'))
      .join("\n");
  }

  async function issuePassport(): Promise<{ passport: string; passport_id: string; kid: string }> {
    const res = await call(
      base,
      "POST",
      "/api/agent/issue",
      { agent_id: agentId, operator: "Acme", jurisdiction: "EU", policy: "read-only" },
      { "x-api-key": apiKey },
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    tokens.push(String(res.body.passport));
    return res.body as { passport: string; passport_id: string; kid: string };
  }

  test("the first verify or protect call that starts after the revoke's 200 fails, in every worker", async () => {
    const { passport, passport_id } = await issuePassport();
    const replies: { kind: "verify" | "protect"; reply: Reply }[] = [];
    let stop = false;
    const verifier = async (n: number) => {
      while (!stop) {
        if (n % 2 === 0) {
          replies.push({
            kind: "verify",
            reply: await call(base, "POST", "/api/agent/verify", { passport }),
          });
        } else {
          replies.push({
            kind: "protect",
            reply: await call(
              base,
              "POST",
              "/api/protect",
              { action: "read_file", target: "docs/a.md" },
              { "x-api-key": apiKey, "x-agent-passport": passport },
            ),
          });
        }
      }
    };
    const loops = Array.from({ length: 16 }, (_, n) => verifier(n));
    await sleep(1_500);
    const revoked = await call(
      base,
      "POST",
      "/registry/revoke",
      { agent_id: agentId, passport_id, reason: "stolen" },
      { "x-api-key": apiKey },
    );
    const acknowledgedAt = performance.now();
    assert.equal(revoked.status, 200, `${JSON.stringify(revoked.body)}\n${serverErrors()}`);
    assert.equal(revoked.body.revoked, 1);
    await sleep(1_500);
    stop = true;
    await Promise.all(loops);

    // Calls in flight while the revoke ran may go either way; the rest may not.
    const before = replies.filter((r) => r.reply.endedAt < revoked.startedAt);
    const afterAck = replies.filter((r) => r.reply.startedAt > acknowledgedAt);
    assert.ok(before.length >= 20, `only ${before.length} calls before the revoke`);
    assert.ok(afterAck.length >= 20, `only ${afterAck.length} calls after the revoke`);
    for (const { kind, reply } of before) {
      if (kind === "verify") assert.equal(reply.body.valid, true, JSON.stringify(reply.body));
      else assert.equal(reply.status, 200, JSON.stringify(reply.body));
    }
    for (const { kind, reply } of afterAck) {
      if (kind === "verify") {
        assert.deepEqual(reply.body, { valid: false, reason: "revoked" });
      } else {
        assert.equal(reply.status, 403, JSON.stringify(reply.body));
        assert.equal(reply.body.reason, "revoked");
        assert.equal(reply.body.decision, "DENY");
      }
    }
    // Both workers answered passport calls (each logs its requests with its worker id).
    await sleep(300);
    const workers = new Set(
      server
        .output()
        .split("\n")
        .filter((line) => line.includes('"path":"/api/agent/verify"'))
        .map((line) => (JSON.parse(line) as { worker: number }).worker),
    );
    assert.equal(workers.size, WORKERS, `verify served by workers ${[...workers]}`);
  });

  test("a quarantine reaches every worker's passports at once", async () => {
    const { passport } = await issuePassport();
    const set = async (action: "quarantine" | "unquarantine") => {
      const res = await call(
        base,
        "POST",
        `/api/agents/${agentId}/${action}`,
        { reason: "e2e" },
        { "x-api-key": ADMIN_KEY },
      );
      assert.equal(res.status, 200, `${JSON.stringify(res.body)}\n${serverErrors()}`);
    };
    const burst = () =>
      Promise.all(
        Array.from({ length: 8 }, () => call(base, "POST", "/api/agent/verify", { passport })),
      );
    for (const r of await burst()) assert.equal(r.body.valid, true);
    await set("quarantine");
    for (const r of await burst()) {
      assert.deepEqual(r.body, { valid: false, reason: "agent_quarantined" });
    }
    await set("unquarantine");
    for (const r of await burst()) assert.equal(r.body.valid, true);
  });

  test("auto-quarantine counts BLOCKs across workers: 3 in 10 min quarantine, wherever they land", async () => {
    const bot = await registerVerified("blocked-bot");
    const attack = () =>
      call(
        base,
        "POST",
        "/api/protect",
        { action: "read_file", target: "/etc/passwd" },
        { "x-api-key": bot.apiKey },
      );
    for (let i = 0; i < 3; i++) {
      const res = await attack();
      assert.equal(res.status, 200);
      assert.equal(res.body.decision, "BLOCK");
    }
    for (let i = 0; i < 2 * WORKERS; i++) {
      const res = await attack();
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error, "Agent quarantined");
    }
  });

  test("rate limits are shared: 10/min per IP across the workers, not 10 per worker", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3 * WORKERS * 10; i++) {
      statuses.push(
        (await call(base, "GET", "/api/health", undefined, { "x-forwarded-for": "203.0.113.9" }))
          .status,
      );
    }
    assert.equal(statuses.filter((s) => s === 200).length, 10, statuses.join(","));
    assert.equal(statuses.filter((s) => s === 429).length, statuses.length - 10);
  });

  test("one /metrics scrape answers with every worker's series, whichever worker takes it", async () => {
    // New connections each time, so the scrapes land on different workers.
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${base}/metrics`, { headers: { connection: "close" } });
      assert.equal(res.status, 200);
      const text = await res.text();
      const workers = new Set(
        [...text.matchAll(/^aiegis_protect_decisions_total\{[^}]*worker="(\d+)"/gm)].map(
          (m) => m[1],
        ),
      );
      assert.equal(workers.size, WORKERS, `series of workers ${[...workers]} in scrape ${i}`);
      for (const w of workers) seen.add(w ?? "");
    }
    assert.equal(seen.size, WORKERS);
  });

  test("admin rotate-signing-key: the new key signs next, both stay published, old passports verify", async () => {
    const before = await issuePassport();
    const rotated = await runCli(["admin", "rotate-signing-key"], { AIEGIS_DATA_DIR: dataDir });
    assert.equal(rotated.code, 0, rotated.stderr);
    const { kid } = JSON.parse(rotated.stdout.split("\n")[0]!) as { kid: string };
    assert.notEqual(kid, before.kid);
    assert.equal(statSync(join(dataDir, "keys", `${kid}.json`)).mode & 0o777, 0o600);
    for (let i = 0; i < 2 * WORKERS; i++) {
      const next = await issuePassport();
      assert.equal(next.kid, kid, "every worker signs with the new key");
      const verdict = await call(base, "POST", "/api/agent/verify", { passport: next.passport });
      assert.equal(verdict.body.valid, true, JSON.stringify(verdict.body));
    }
    for (let i = 0; i < 2 * WORKERS; i++) {
      const jwks = await call(base, "GET", "/.well-known/jwks.json");
      const kids = (jwks.body.keys as { kid: string }[]).map((k) => k.kid);
      assert.ok(kids.includes(kid) && kids.includes(before.kid), kids.join(","));
      const old = await call(base, "POST", "/api/agent/verify", { passport: before.passport });
      assert.equal(old.body.valid, true);
    }
  });

  test("a worker killed mid-run is replaced and the port keeps answering", {
    timeout: 300_000,
  }, async () => {
    const workerLines = () =>
      server
        .output()
        .split("\n")
        .filter((line) => line.includes('"msg":"worker listening"') && line.includes('"worker":0'))
        .map((line) => JSON.parse(line) as { pid: number; worker_id: number });
    const before = workerLines();
    const victim = before.at(-1);
    assert.ok(victim, "the supervisor logged its workers");
    process.kill(victim.pid, "SIGKILL");
    // Starting a worker compiles every layer: slow on a busy machine, so wait up to 2 minutes.
    for (let i = 0; i < 1_200 && workerLines().length === before.length; i++) await sleep(100);
    assert.equal(workerLines().length, before.length + 1, "a new worker started");
    assert.ok(server.output().includes('"msg":"worker died; starting another"'));
    const { passport } = await issuePassport();
    for (let i = 0; i < 2 * WORKERS; i++) {
      const res = await call(base, "POST", "/api/agent/verify", { passport });
      assert.equal(res.body.valid, true);
    }
  });

  test("no passport token is in the logs or the database files", async () => {
    await sleep(300);
    assert.ok(tokens.length > 5);
    const files = readdirSync(dataDir)
      .filter((f) => f.startsWith("aiegis.db"))
      .map((f) => readFileSync(join(dataDir, f)).toString("latin1"));
    const output = server.output();
    for (const token of tokens) {
      // The signature alone is unique to the token and would be enough to find it.
      const signature = token.slice(token.lastIndexOf(".") + 1);
      assert.ok(!output.includes(signature), "a token reached the logs");
      for (const file of files)
        assert.ok(!file.includes(signature), "a token reached the database");
    }
  });
});

describe("e2e: a cluster whose workers cannot start", () => {
  test("stops with exit code 1 instead of restarting them in a loop", {
    timeout: 300_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "aiegis-e2e-busy-"));
    const blocker = createServer();
    await new Promise<void>((ready) => blocker.listen(0, "127.0.0.1", ready));
    const address = blocker.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const result = await runCli(["serve"], {
        AIEGIS_DATA_DIR: dataDir,
        AIEGIS_WORKERS: "2",
        HOST: "127.0.0.1",
        PORT: String(port),
      });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, /worker failed to start; stopping/);
      assert.doesNotMatch(result.stdout, /worker died; starting another/);
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
