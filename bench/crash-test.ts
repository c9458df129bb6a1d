// Crash test: drives the real server with concurrent registrations, verifications, passport
// issues and revocations, quarantines and protect calls, kills it with SIGKILL at random
// moments, and after every kill checks, in the database file the dead process left behind,
// that every write the server acknowledged is there, that SQLite's integrity check passes and
// that the audit chain verifies; at the end, that every webhook event of an acknowledged write
// reached a loopback receiver at least once.
// Run: npm run crash-test [-- --kills 20 --seed 7]. A small run is in npm test.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { prng } from "../test/helpers/prng.js";
import { type RunningServer, runCli, startServer } from "../test/helpers/server-process.js";

const ADMIN_KEY = "crash-test-admin-key-0123456789abcdef";

/** Everything the server answered with success: each of these must survive any crash. */
type Acknowledged = {
  registered: Map<string, { apiKey: string; email: string }>;
  verified: Set<string>;
  issued: Map<string, string>;
  revoked: Set<string>;
  quarantined: Set<string>;
  protects: number;
};

export type CrashReport = {
  kills: number;
  acknowledged: {
    registered: number;
    verified: number;
    issued: number;
    revoked: number;
    quarantined: number;
    protects: number;
  };
  missing: string[];
  integrity: string[];
  rejectedAfterRestart: number;
  /** `admin audit-verify` after every kill: failures (empty when the chain always verified). */
  audit: string[];
  auditEntries: number;
  /** Webhook events owed for acknowledged writes, and those that never reached the receiver. */
  webhooks: { expected: number; received: number; missing: string[] };
};

/** The webhook events each kind of acknowledged write must produce, keyed `type id`. */
function expectedEvents(ack: Acknowledged): Set<string> {
  const owed = new Set<string>();
  for (const agentId of ack.registered.keys()) owed.add(`agent.registered ${agentId}`);
  for (const agentId of ack.verified) owed.add(`agent.verified ${agentId}`);
  for (const agentId of ack.quarantined) owed.add(`agent.quarantined ${agentId}`);
  for (const passportId of ack.issued.keys()) owed.add(`passport.issued ${passportId}`);
  for (const passportId of ack.revoked) owed.add(`passport.revoked ${passportId}`);
  return owed;
}

const WEBHOOK_EVENTS = [
  "agent.registered",
  "agent.verified",
  "agent.quarantined",
  "passport.issued",
  "passport.revoked",
];

/** A loopback receiver that records every event it is sent as `type id`; always answers 204. */
async function startReceiver(): Promise<{ server: Server; url: string; seen: Set<string> }> {
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      try {
        const event = JSON.parse(body) as { type: string; data: Record<string, string> };
        const id = event.type.startsWith("passport.")
          ? event.data.passport_id
          : event.data.agent_id;
        seen.add(`${event.type} ${id}`);
      } catch {
        // Not an event: nothing to record.
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, seen };
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A killed server answers nothing; a non-JSON answer only matters as a status.
  }
  return { status: res.status, json };
}

/** Verification links by recipient, from the mails in the outbox directory. */
function tokensByEmail(dataDir: string): Map<string, string> {
  const outbox = join(dataDir, "outbox");
  const tokens = new Map<string, string>();
  if (!existsSync(outbox)) return tokens;
  for (const file of readdirSync(outbox).filter((f) => f.endsWith(".eml"))) {
    let text: string;
    try {
      text = readFileSync(join(outbox, file), "utf8");
    } catch {
      continue;
    }
    // Undo quoted-printable soft breaks and escapes, as a mail client would.
    text = text
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/g, (_m, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      );
    const to = /^To: (?:.*<)?([^>\s]+)>?\s*$/im.exec(text)?.[1]?.toLowerCase();
    const token = /verify-email\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
    if (to !== undefined && token !== undefined) tokens.set(to, token);
  }
  return tokens;
}

/**
 * Runs the workload until `signal` is aborted; every success is recorded in `ack` only after
 * its response arrived, so what is recorded is exactly what the server acknowledged.
 */
async function workload(
  base: string,
  dataDir: string,
  ack: Acknowledged,
  random: () => number,
  round: number,
  signal: AbortSignal,
): Promise<void> {
  let n = 0;
  const admin = { "x-api-key": ADMIN_KEY };
  const pick = <T>(items: readonly T[]): T | undefined =>
    items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
  const actor = async (id: number) => {
    while (!signal.aborted) {
      try {
        const roll = random();
        if (roll < 0.3) {
          const name = `crash-${round}-${id}-${n++}`;
          const email = `${name}@example.com`;
          const res = await call(base, "POST", "/api/register", {
            agent_name: name,
            agent_type: "assistant",
            description: "An agent registered by the crash test.",
            owner_name: "Crash Test",
            owner_email: email,
          });
          if (res.status === 201) {
            ack.registered.set(String(res.json.agent_id), {
              apiKey: String(res.json.api_key),
              email,
            });
          }
        } else if (roll < 0.5) {
          const tokens = tokensByEmail(dataDir);
          const pending = [...ack.registered].filter(
            ([agentId, a]) => !ack.verified.has(agentId) && tokens.has(a.email),
          );
          const chosen = pick(pending);
          if (chosen !== undefined) {
            const token = tokens.get(chosen[1].email)!;
            const res = await fetch(`${base}/api/verify-email?token=${token}`, {
              signal: AbortSignal.timeout(10_000),
            });
            if (res.status === 200) ack.verified.add(chosen[0]);
          }
        } else if (roll < 0.65) {
          const agentId = pick([...ack.verified].filter((a) => !ack.quarantined.has(a)));
          if (agentId !== undefined) {
            const res = await call(
              base,
              "POST",
              "/api/agent/issue",
              {
                agent_id: agentId,
                operator: "Crash Corp",
                jurisdiction: "EU",
                policy: "default",
                ttl_s: 86_400,
              },
              { "x-api-key": ack.registered.get(agentId)!.apiKey },
            );
            if (res.status === 201) ack.issued.set(String(res.json.passport_id), agentId);
          }
        } else if (roll < 0.75) {
          const passportId = pick([...ack.issued.keys()].filter((p) => !ack.revoked.has(p)));
          if (passportId !== undefined) {
            const agentId = ack.issued.get(passportId)!;
            const res = await call(
              base,
              "POST",
              "/registry/revoke",
              { agent_id: agentId, passport_id: passportId, reason: "crash test" },
              admin,
            );
            if (res.status === 200) ack.revoked.add(passportId);
          }
        } else if (roll < 0.8) {
          const agentId = pick([...ack.verified].filter((a) => !ack.quarantined.has(a)));
          if (agentId !== undefined) {
            const res = await call(
              base,
              "POST",
              `/api/agents/${agentId}/quarantine`,
              { reason: "crash test" },
              admin,
            );
            if (res.status === 200) ack.quarantined.add(agentId);
          }
        } else {
          const agentId = pick([...ack.verified].filter((a) => !ack.quarantined.has(a)));
          if (agentId !== undefined) {
            const res = await call(
              base,
              "POST",
              "/api/protect",
              { action: "read_file", target: "docs/readme.md", content: "summarise the readme" },
              { "x-api-key": ack.registered.get(agentId)!.apiKey },
            );
            if (res.status === 200) ack.protects++;
          }
        }
      } catch {
        // The server was killed mid-request: nothing was acknowledged.
        if (signal.aborted) return;
        await sleep(5);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, i) => actor(i)));
}

/** Checks the dead server's database file against what it acknowledged. */
function checkDatabase(
  path: string,
  ack: Acknowledged,
): { missing: string[]; integrity: string[] } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma("integrity_check") as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .filter((r) => r !== "ok");
    const missing: string[] = [];
    const agent = db.prepare(
      "SELECT verified_at AS v, quarantined_at AS q FROM agents WHERE id = ?",
    );
    const passport = db.prepare("SELECT revoked_at AS r FROM passports WHERE id = ?");
    for (const agentId of ack.registered.keys()) {
      const row = agent.get(agentId) as { v: number | null; q: number | null } | undefined;
      if (row === undefined) missing.push(`registration ${agentId}`);
      else {
        if (ack.verified.has(agentId) && row.v === null) missing.push(`verification ${agentId}`);
        if (ack.quarantined.has(agentId) && row.q === null) missing.push(`quarantine ${agentId}`);
      }
    }
    for (const passportId of ack.issued.keys()) {
      const row = passport.get(passportId) as { r: number | null } | undefined;
      if (row === undefined) missing.push(`passport ${passportId}`);
      else if (ack.revoked.has(passportId) && row.r === null)
        missing.push(`revocation ${passportId}`);
    }
    return { missing, integrity };
  } finally {
    db.close();
  }
}

/** Kills the server `kills` times at random moments under load and checks every time. */
export async function runCrashTest(options: {
  kills: number;
  seed: number;
  dataDir: string;
  minRunMs?: number;
  maxRunMs?: number;
  /** How long the last start may take to deliver every owed webhook event. */
  deliveryWaitMs?: number;
  onKill?: (i: number, report: CrashReport) => void;
}): Promise<CrashReport> {
  const random = prng(options.seed);
  const ack: Acknowledged = {
    registered: new Map(),
    verified: new Set(),
    issued: new Map(),
    revoked: new Set(),
    quarantined: new Set(),
    protects: 0,
  };
  const report: CrashReport = {
    kills: 0,
    acknowledged: {
      registered: 0,
      verified: 0,
      issued: 0,
      revoked: 0,
      quarantined: 0,
      protects: 0,
    },
    missing: [],
    integrity: [],
    rejectedAfterRestart: 0,
    audit: [],
    auditEntries: 0,
    webhooks: { expected: 0, received: 0, missing: [] },
  };
  const receiver = await startReceiver();
  const env = {
    AIEGIS_DATA_DIR: options.dataDir,
    AIEGIS_ADMIN_KEY: ADMIN_KEY,
    AIEGIS_RATE_LIMITS: "off",
    AIEGIS_AUTO_QUARANTINE: "off",
    // The receiver listens on loopback.
    AIEGIS_WEBHOOK_ALLOW_PRIVATE: "1",
  };
  const minRun = options.minRunMs ?? 300;
  const maxRun = options.maxRunMs ?? 2_000;
  let server: RunningServer | undefined;
  try {
    for (let i = 0; i < options.kills; i++) {
      server = await startServer(env, { startTimeoutMs: 60_000 });
      if (i === 0) {
        const hook = await call(
          server.url,
          "POST",
          "/api/webhooks",
          { url: receiver.url, events: WEBHOOK_EVENTS },
          { "x-api-key": ADMIN_KEY },
        );
        if (hook.status !== 201) throw new Error(`webhook registration failed: ${hook.status}`);
      }
      // Revoked passports stay rejected after a restart (the server's own view, not only the file).
      for (const passportId of [...ack.revoked].slice(-3)) {
        const agentId = ack.issued.get(passportId)!;
        const res = await call(server.url, "GET", `/registry/revocations?limit=1000`);
        const listed = (res.json.revocations as { passport_id: string }[] | undefined) ?? [];
        if (!listed.some((r) => r.passport_id === passportId)) {
          report.missing.push(`revocation ${passportId} of ${agentId} not listed after restart`);
        } else report.rejectedAfterRestart++;
      }
      const stop = new AbortController();
      const running = workload(server.url, options.dataDir, ack, random, i, stop.signal);
      await sleep(minRun + random() * (maxRun - minRun));
      // No shutdown hook runs: whatever was acknowledged must already be on disk.
      server.child.kill("SIGKILL");
      await server.stop();
      stop.abort();
      await running;
      report.kills++;
      const { missing, integrity } = checkDatabase(join(options.dataDir, "aiegis.db"), ack);
      report.missing.push(...missing);
      report.integrity.push(...integrity);
      const verified = await runCli(["admin", "audit-verify"], {
        AIEGIS_DATA_DIR: options.dataDir,
      });
      try {
        const verdict = JSON.parse(verified.stdout) as { ok: boolean; entries: number };
        report.auditEntries = verdict.entries;
        if (verified.code !== 0 || !verdict.ok)
          report.audit.push(`after kill ${i + 1}: ${verified.stdout.trim()}`);
      } catch {
        report.audit.push(
          `after kill ${i + 1}: audit-verify said ${verified.stdout}${verified.stderr}`,
        );
      }
      report.acknowledged = {
        registered: ack.registered.size,
        verified: ack.verified.size,
        issued: ack.issued.size,
        revoked: ack.revoked.size,
        quarantined: ack.quarantined.size,
        protects: ack.protects,
      };
      options.onKill?.(i + 1, report);
      server = undefined;
    }
    // Last start: the dispatcher delivers what the killed processes left in the outbox (a
    // delivery leased by a killed process waits for its lease to run out, 60 s).
    server = await startServer(env, { startTimeoutMs: 60_000 });
    const owed = expectedEvents(ack);
    const deadline = Date.now() + (options.deliveryWaitMs ?? 120_000);
    const unseen = () => [...owed].filter((e) => !receiver.seen.has(e));
    while (unseen().length > 0 && Date.now() < deadline) await sleep(500);
    report.webhooks = {
      expected: owed.size,
      received: owed.size - unseen().length,
      missing: unseen(),
    };
  } finally {
    if (server !== undefined) await server.stop();
    receiver.server.close();
  }
  return report;
}

async function main() {
  const { values } = parseArgs({
    options: {
      kills: { type: "string", default: "20" },
      seed: { type: "string", default: String(Date.now() % 1_000_000) },
    },
  });
  const dataDir = mkdtempSync(join(tmpdir(), "aiegis-crash-"));
  const started = Date.now();
  const kills = Number(values.kills);
  console.log(`crash test: ${kills} SIGKILLs under load, seed ${values.seed}`);
  try {
    const report = await runCrashTest({
      kills,
      seed: Number(values.seed),
      dataDir,
      onKill: (i, r) =>
        console.log(
          `  kill ${i}: acknowledged so far ${JSON.stringify(r.acknowledged)}, missing ${r.missing.length}, integrity problems ${r.integrity.length}`,
        ),
    });
    console.log(
      `\n${report.kills} kills in ${((Date.now() - started) / 1000).toFixed(0)} s. Acknowledged and found after every kill: ` +
        `${report.acknowledged.registered} registrations, ${report.acknowledged.verified} verifications, ` +
        `${report.acknowledged.issued} passports issued, ${report.acknowledged.revoked} revocations, ` +
        `${report.acknowledged.quarantined} quarantines (plus ${report.acknowledged.protects} protect calls answered). ` +
        `Missing: ${report.missing.length}. PRAGMA integrity_check: ${report.integrity.length === 0 ? "ok every time" : report.integrity.join("; ")}. ` +
        `Revocations listed again after restarts: ${report.rejectedAfterRestart}. ` +
        `Audit chain: ${report.audit.length === 0 ? "verified after every kill" : report.audit.join("; ")} (${report.auditEntries} entries). ` +
        `Webhook events owed for acknowledged writes: ${report.webhooks.expected}, received at least once: ${report.webhooks.received}.`,
    );
    const failures = [
      ...report.missing,
      ...report.integrity,
      ...report.audit,
      ...report.webhooks.missing.map((e) => `webhook event never delivered: ${e}`),
    ];
    if (failures.length > 0) {
      console.log(`FAILED:\n${failures.slice(0, 20).join("\n")}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
