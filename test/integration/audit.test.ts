import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { createLocalJWKSet, jwtVerify } from "jose";
import { CHECKPOINT_TYP } from "../../src/audit/chain.js";
import { startAuditJobs } from "../../src/audit/jobs.js";
import { issueApiKey } from "../../src/crypto/api-key.js";
import { DirectoryKeyring, generateSigningKey } from "../../src/crypto/signing-keys.js";
import { createLogger } from "../../src/logger.js";
import { databasePath, openStore } from "../../src/store/store.js";
import { runCli, startServer } from "../helpers/server-process.js";
import { tempDirs } from "../helpers/temp-dir.js";
import {
  ADMIN_KEY,
  jsonOf,
  makeTestApp,
  type Registered,
  registerAgent,
  type TestApp,
} from "../helpers/test-app.js";

type Entry = {
  seq: number;
  at: number;
  time: string;
  action: string;
  agent_id: string | null;
  actor: string | null;
  decision: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
};

const tempDir = tempDirs("aiegis-audit-it-");

const admin = { "x-api-key": ADMIN_KEY };

async function get(t: TestApp, path: string, headers: Record<string, string> = admin) {
  const res = await t.call("GET", path, { headers });
  return { res, body: await jsonOf(res) };
}

async function list(t: TestApp, query = "", headers = admin): Promise<Entry[]> {
  const { res, body } = await get(t, `/api/audit?limit=500${query}`, headers);
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.entries as Entry[];
}

function protect(t: TestApp, agent: Registered, target: string) {
  return t.call("POST", "/api/protect", {
    headers: { "x-api-key": agent.apiKey },
    body: { action: "read_file", target },
  });
}

type Scenario = {
  t: TestApp;
  a: Registered;
  b: Registered;
  c: Registered;
  /** a's key after rotation. */
  aKey: string;
  /** The clock at the start of the second phase (quarantines). */
  phase2: number;
};

/** Every kind of recorded event, in two phases a minute apart. */
async function scenario(): Promise<Scenario> {
  const t = makeTestApp({ AIEGIS_AUTO_QUARANTINE: "2/10m" });
  const a = await registerAgent(t);
  const b = await registerAgent(t);
  const c = await registerAgent(t, { overrides: { owner_email: "eve@example.org" } });
  const failed = await t.call("POST", "/api/agents/login", {
    body: { email: "mallory@example.com", api_key: a.apiKey },
  });
  assert.equal(failed.status, 401);
  const rotated = await t.call("POST", "/api/agents/me/rotate-key", {
    headers: { "x-api-key": a.apiKey },
    body: {},
  });
  const aKey = String((await jsonOf(rotated)).api_key);
  assert.equal((await protect(t, { ...a, apiKey: aKey }, "README.md")).status, 200);
  assert.equal((await protect(t, { ...a, apiKey: aKey }, "/etc/shadow")).status, 200);
  const issued = await t.call("POST", "/api/agent/issue", {
    headers: admin,
    body: { agent_id: b.agentId, operator: "Acme", jurisdiction: "EU", policy: "default" },
  });
  assert.equal(issued.status, 201);
  const revoked = await t.call("POST", "/registry/revoke", {
    headers: { "x-api-key": b.apiKey },
    body: { agent_id: b.agentId, reason: "rotated out" },
  });
  assert.equal(revoked.status, 200);
  const adminKey = issueApiKey();
  t.store.apiKeys.createAdmin(
    { id: "adm_it", name: "ops", hash: adminKey.hash, prefix: adminKey.prefix },
    t.clock.now(),
    { actor: "cli" },
  );
  assert.ok(t.store.apiKeys.revokeAdmin("adm_it", t.clock.now(), { actor: "cli" }));

  t.clock.advance(60_000);
  const phase2 = t.clock.now();
  // Two BLOCKs within ten minutes: auto-quarantine.
  for (const target of ["/etc/passwd", "~/.ssh/id_rsa"]) {
    assert.equal((await protect(t, c, target)).status, 200);
  }
  for (const action of ["quarantine", "unquarantine"]) {
    const res = await t.call("POST", `/api/agents/${b.agentId}/${action}`, {
      headers: admin,
      body: { reason: `manual ${action}` },
    });
    assert.equal(res.status, 200);
  }
  const lifted = await t.call("POST", `/api/agents/${c.agentId}/unquarantine`, {
    headers: admin,
    body: { reason: "reviewed" },
  });
  assert.equal(lifted.status, 200);
  t.decisionLog.flush();
  return { t, a, b, c, aKey, phase2 };
}

describe("audit log: what is recorded", () => {
  test("every decision and operator action is appended, chained, and the chain verifies", async () => {
    const { t, a, b, c } = await scenario();
    const entries = await list(t);
    const actions = entries.map((e) => e.action);
    for (const action of [
      "agent.registered",
      "agent.verified",
      "agent.login_failed",
      "agent.key_rotated",
      "protect.decision",
      "passport.issued",
      "passport.revoked",
      "admin_key.created",
      "admin_key.revoked",
      "agent.quarantined",
      "agent.unquarantined",
    ]) {
      assert.ok(actions.includes(action), `${action} missing from ${actions.join(", ")}`);
    }
    assert.deepEqual(
      entries.map((e) => e.seq),
      entries.map((_e, i) => i + 1),
    );
    for (let i = 1; i < entries.length; i++) {
      assert.equal(entries[i]!.prev_hash, entries[i - 1]!.hash);
    }
    const registered = entries.filter((e) => e.action === "agent.registered");
    assert.deepEqual(
      registered.map((e) => e.agent_id),
      [a.agentId, b.agentId, c.agentId],
    );
    // The wrong e-mail with a right key names the agent, never the address tried.
    const failure = entries.find((e) => e.action === "agent.login_failed")!;
    assert.equal(failure.agent_id, a.agentId);
    assert.equal(failure.data.reason, "INVALID_CREDENTIALS");
    assert.ok(!JSON.stringify(entries).includes("mallory"));
    assert.ok(!JSON.stringify(entries).includes("@example."), "no owner e-mail in the log");
    const auto = entries.find((e) => e.action === "agent.quarantined" && e.agent_id === c.agentId);
    assert.equal(auto?.actor, "auto-quarantine");
    assert.match(String(auto?.data.request_id), /^req_/);
    const blocked = entries.find((e) => e.decision === "BLOCK")!;
    assert.equal(blocked.action, "protect.decision");
    assert.equal(blocked.data.tool, "read_file");
    assert.match(String(blocked.data.target_sha256), /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(entries).includes("/etc/"), "request text never enters the log");
    const cli = entries.filter((e) => e.action.startsWith("admin_key."));
    assert.deepEqual(
      cli.map((e) => [e.action, e.actor, e.data.key_id]),
      [
        ["admin_key.created", "cli", "adm_it"],
        ["admin_key.revoked", "cli", "adm_it"],
      ],
    );
    const { body } = await get(t, "/api/audit/verify");
    assert.equal(body.ok, true, JSON.stringify(body));
    assert.equal(body.entries, entries.length);
  });

  test("an operator action and its audit entry commit or roll back together", async () => {
    const t = makeTestApp();
    const a = await registerAgent(t);
    const before = t.store.audit.head().size;
    // A failing write after the audit append inside the same transaction undoes both.
    t.store.db.exec(
      `CREATE TRIGGER fail_revocation BEFORE INSERT ON revocations BEGIN SELECT RAISE(ABORT, 'boom'); END`,
    );
    assert.throws(() =>
      t.store.passports.revoke({ agentId: a.agentId, reason: "x", actor: "t", at: 1 }),
    );
    assert.equal(t.store.audit.head().size, before);
    t.store.db.exec(
      `CREATE TRIGGER fail_quarantine BEFORE INSERT ON audit_log WHEN NEW.action = 'agent.quarantined' BEGIN SELECT RAISE(ABORT, 'boom'); END`,
    );
    const res = await t.call("POST", `/api/agents/${a.agentId}/quarantine`, {
      headers: admin,
      body: { reason: "x" },
    });
    assert.equal(res.status, 500);
    assert.equal(
      t.store.agents.byId(a.agentId)?.quarantinedAt,
      null,
      "no quarantine without its entry",
    );
  });
});

describe("GET /api/audit", () => {
  test("filters: agent_id, decision, action, since and until (ISO or epoch ms)", async () => {
    const { t, c, phase2 } = await scenario();
    const all = await list(t);
    const ofC = await list(t, `&agent_id=${c.agentId}`);
    assert.ok(ofC.length >= 5);
    assert.ok(ofC.every((e) => e.agent_id === c.agentId));
    const blocks = await list(t, "&decision=BLOCK");
    assert.equal(blocks.length, 3);
    assert.ok(blocks.every((e) => e.action === "protect.decision" && e.decision === "BLOCK"));
    const quarantines = await list(t, "&action=agent.quarantined");
    assert.equal(quarantines.length, 2);
    const cBlocks = await list(t, `&agent_id=${c.agentId}&decision=BLOCK`);
    assert.equal(cBlocks.length, 2);
    const iso = new Date(phase2).toISOString();
    const late = await list(t, `&since=${encodeURIComponent(iso)}`);
    assert.deepEqual(
      late.map((e) => e.seq),
      all.filter((e) => e.at >= phase2).map((e) => e.seq),
    );
    assert.ok(late.length > 0 && late.length < all.length);
    const early = await list(t, `&until=${phase2}`);
    assert.equal(early.length + late.length, all.length);
    assert.ok(early.every((e) => e.at < phase2));
    assert.deepEqual(await list(t, `&since=${phase2}&until=${phase2}`), []);
  });

  test("cursor pagination walks every entry once; limit at most 500", async () => {
    const { t } = await scenario();
    const all = await list(t);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "" : `&cursor=${cursor}`;
      const { res, body } = await get(t, `/api/audit?limit=4${query}`);
      assert.equal(res.status, 200);
      const page = body.entries as Entry[];
      assert.ok(page.length <= 4);
      seen.push(...page.map((e) => e.seq));
      cursor = body.next_cursor as string | null;
    } while (cursor !== null);
    assert.deepEqual(
      seen,
      all.map((e) => e.seq),
    );
  });

  test("strict query validation in the error envelope", async () => {
    const t = makeTestApp();
    const cases: [string, string][] = [
      ["foo=1", "foo"],
      ["limit=501", "limit"],
      ["limit=0", "limit"],
      ["decision=MAYBE", "decision"],
      ["action=protect", "action"],
      ["since=yesterday", "since"],
      ["until=2026-13-45T00:00:00Z", "until"],
      ["cursor=bm9wZQ", "cursor"],
    ];
    for (const [query, field] of cases) {
      const { res, body } = await get(t, `/api/audit?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(body.code, "VALIDATION_FAILED");
      assert.match(String(body.request_id), /^req_/);
      const details = body.details as { field: string }[];
      assert.ok(
        details.some((d) => d.field === field),
        `${query}: ${JSON.stringify(details)}`,
      );
    }
    const { res } = await get(t, "/api/audit/verify?full=1");
    assert.equal(res.status, 400);
    const exported = await t.call("GET", "/api/audit/export?limit=5", { headers: admin });
    assert.equal(exported.status, 400, "the export takes no limit: it streams everything");
  });

  test("an agent key sees its owner's agents' entries, never another owner's; an admin key sees all", async () => {
    const { t, a, b, c, aKey } = await scenario();
    const own = await list(t, "", { "x-api-key": aKey });
    assert.ok(own.length >= 5);
    // b has the same owner as a; c belongs to someone else.
    assert.deepEqual(new Set(own.map((e) => e.agent_id)), new Set([a.agentId, b.agentId]));
    const onlyA = await list(t, `&agent_id=${a.agentId}`, { "x-api-key": aKey });
    assert.ok(onlyA.length > 0 && onlyA.every((e) => e.agent_id === a.agentId));
    assert.ok(onlyA.length < own.length);
    const { res, body } = await get(t, `/api/audit?agent_id=${c.agentId}`, { "x-api-key": aKey });
    assert.equal(res.status, 403);
    assert.equal(body.code, "AGENT_ID_MISMATCH");
    const unknown = await get(t, "/api/audit?agent_id=agt_doesnotexist", { "x-api-key": aKey });
    assert.equal(unknown.res.status, 403);
    const all = await list(t);
    assert.ok(new Set(all.map((e) => e.agent_id)).size > 3);
    for (const path of ["/api/audit/export", "/api/audit/verify"]) {
      const denied = await get(t, path, { "x-api-key": aKey });
      assert.equal(denied.res.status, 403);
      assert.equal(denied.body.code, "FORBIDDEN");
    }
  });
});

describe("GET /api/audit/export", () => {
  test("streams every matching entry as JSON lines, in pages", async () => {
    const { t } = await scenario();
    // More than two export pages of 500.
    for (let i = 0; i < 1_100; i++) {
      t.store.audit.append({
        action: "agent.unquarantined",
        at: t.clock.now(),
        agentId: "agt_bulk",
        data: { i },
      });
    }
    const all: Entry[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "" : `&cursor=${cursor}`;
      const { body } = await get(t, `/api/audit?limit=500${query}`);
      all.push(...(body.entries as Entry[]));
      cursor = body.next_cursor as string | null;
    } while (cursor !== null);
    const res = await t.call("GET", "/api/audit/export", { headers: admin });
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get("content-type")), /^application\/x-ndjson/);
    assert.match(String(res.headers.get("x-request-id")), /^req_/);
    const text = await res.text();
    assert.ok(text.endsWith("\n"));
    const lines = text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Entry);
    assert.deepEqual(lines, all);
    const blocks = await t.call("GET", "/api/audit/export?decision=BLOCK", { headers: admin });
    const blockLines = (await blocks.text()).trimEnd().split("\n");
    assert.equal(blockLines.length, 3);
    assert.ok(blockLines.every((l) => (JSON.parse(l) as Entry).decision === "BLOCK"));
    const none = await t.call("GET", "/api/audit/export?agent_id=agt_nobody", { headers: admin });
    assert.equal(await none.text(), "");
  });
});

describe("checkpoints and verification", () => {
  test("checkpoints every N entries and at close; jose verifies them against the JWKS", async () => {
    const { t } = await scenario();
    const config = { ...t.config, audit: { ...t.config.audit, checkpointEvery: 5 } };
    const logger = createLogger("silent");
    const jobs = startAuditJobs({ ...t, config, logger }, { checkpointMs: 60_000 });
    jobs.checkpoint();
    const size = t.store.audit.head().size;
    const periodic = t.store.audit.checkpoints().map((cp) => cp.size);
    assert.deepEqual(
      periodic,
      Array.from({ length: Math.floor(size / 5) }, (_v, i) => (i + 1) * 5),
    );
    jobs.close();
    const { body } = await get(t, "/api/audit/verify");
    assert.equal(body.ok, true, JSON.stringify(body));
    const latest = body.latest_checkpoint as { size: number; token: string; head_hash: string };
    assert.equal(latest.size, size, "the final checkpoint covers the head");
    const jwks = await jsonOf(await t.call("GET", "/.well-known/jwks.json"));
    const { payload, protectedHeader } = await jwtVerify(
      latest.token,
      createLocalJWKSet(jwks as never),
      { issuer: t.config.publicUrl, typ: CHECKPOINT_TYP },
    );
    assert.equal(protectedHeader.alg, "EdDSA");
    assert.equal(payload.size, size);
    const head = (await list(t)).find((e) => e.seq === size);
    assert.equal(payload.head_hash, head?.hash);
    assert.equal(payload.head_hash, latest.head_hash);
  });

  test("a key that signed a checkpoint stays in the JWKS after rotation", async () => {
    const store = openStore(":memory:");
    const [old, unused, current] = [1, 2, 3].map((n) => generateSigningKey(n * 1000)) as [
      ReturnType<typeof generateSigningKey>,
      ReturnType<typeof generateSigningKey>,
      ReturnType<typeof generateSigningKey>,
    ];
    const before = makeTestApp({}, { store, keyring: { active: old, all: [old] } });
    await registerAgent(before);
    store.audit.checkpoint({ key: old, issuer: "x", now: 1, every: 1, final: true });
    const after = makeTestApp(
      {},
      { store, keyring: { active: current, all: [current, unused, old] } },
    );
    const jwks = (await jsonOf(await after.call("GET", "/.well-known/jwks.json"))) as {
      keys: { kid: string }[];
    };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [current.kid, old.kid].sort());
    const { body } = await get(after, "/api/audit/verify");
    assert.equal(body.ok, true, JSON.stringify(body));
  });

  test("GET /api/audit/verify reports the first bad entry after a change in the database", async () => {
    const { t } = await scenario();
    t.store.db.prepare("UPDATE audit_log SET actor = 'nobody' WHERE seq = 4").run();
    const { res, body } = await get(t, "/api/audit/verify");
    assert.equal(res.status, 200);
    assert.equal(body.ok, false);
    assert.deepEqual((body.first_bad as { seq: number }).seq, 4);
  });

  test("npm run audit:verify (admin audit-verify) exits 0 on a sound log and 1 on a tampered one", async () => {
    const dir = tempDir();
    const created = await runCli(["admin", "create-key", "--name", "ops"], {
      AIEGIS_DATA_DIR: dir,
    });
    assert.equal(created.code, 0, created.stderr);
    const store = openStore(databasePath(dir));
    const keyring = new DirectoryKeyring(dir, Date.now());
    for (let i = 0; i < 9; i++)
      store.audit.append({ action: "agent.verified", at: i, data: { i } });
    store.audit.checkpoint({ key: keyring.active, issuer: "x", now: 1, every: 5, final: true });
    store.close();
    const sound = await runCli(["admin", "audit-verify"], { AIEGIS_DATA_DIR: dir });
    assert.equal(sound.code, 0, sound.stderr);
    const verdict = JSON.parse(sound.stdout) as { ok: boolean; entries: number };
    assert.deepEqual({ ok: verdict.ok, entries: verdict.entries }, { ok: true, entries: 10 });
    const first = JSON.parse(sound.stdout.split("\n")[0]!) as Record<string, unknown>;
    assert.equal(first.checkpoints, 2);
    const raw = new Database(databasePath(dir));
    raw.prepare("DELETE FROM audit_log WHERE seq = 3").run();
    raw.close();
    const broken = await runCli(["admin", "audit-verify"], { AIEGIS_DATA_DIR: dir });
    assert.equal(broken.code, 1);
    assert.deepEqual((JSON.parse(broken.stdout) as { first_bad: unknown }).first_bad, {
      seq: 3,
      reason: "missing: the entry was deleted",
    });
  });

  test("the real server signs a checkpoint at the head when it shuts down", async () => {
    const dir = tempDir();
    const server = await startServer({ AIEGIS_DATA_DIR: dir, AIEGIS_ADMIN_KEY: ADMIN_KEY });
    try {
      const res = await fetch(`${server.url}/api/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          agent_name: "shutdown-bot",
          agent_type: "assistant",
          description: "Checks that a checkpoint is signed at shutdown.",
          owner_name: "Ada",
          owner_email: "ada@example.com",
        }),
      });
      assert.equal(res.status, 201);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const store = openStore(databasePath(dir));
    const head = store.audit.head();
    assert.equal(head.size, 1);
    assert.deepEqual(
      store.audit.checkpoints().map((cp) => [cp.size, cp.head_hash]),
      [[1, head.hash]],
    );
    store.close();
  });
});
