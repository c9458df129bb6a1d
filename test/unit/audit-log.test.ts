import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { type AuditBody, canonicalJson, entryHash, GENESIS_HASH } from "../../src/audit/chain.js";
import { verifyStoredLog } from "../../src/audit/jobs.js";
import { auditExcerpt } from "../../src/audit/redact.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { ephemeralKeyring, type Keyring } from "../../src/crypto/signing-keys.js";
import { createLogger } from "../../src/logger.js";
import type { AuditEvent, StoredAuditRow } from "../../src/store/audit-log.js";
import { type DecisionEntry, DecisionLog, decisionWriter } from "../../src/store/decision-log.js";
import { openStore, type Store } from "../../src/store/store.js";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse("2026-01-01T00:00:00Z");
const DAY = 86_400_000;
const silent = createLogger("silent");

function event(i: number, at = T0 + i * 1000): AuditEvent {
  return {
    action: i % 2 === 0 ? "agent.quarantined" : "agent.unquarantined",
    at,
    agentId: `agt_${i % 3}`,
    actor: "adm_test",
    data: { reason: `case ${i}`, n: i, nested: { b: 1, a: [true, null, 0.5] } },
  };
}

type Fixture = {
  path: string;
  store: Store;
  keyring: Keyring;
  /** A second, raw connection to the same file: the tamperer. */
  raw: Database.Database;
  verify: () => ReturnType<typeof verifyStoredLog>;
  sign: (every?: number) => void;
};

/** A file database holding `n` entries and a signed checkpoint every 10. */
function fixture(n = 25): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "aiegis-audit-"));
  dirs.push(dir);
  const path = join(dir, "aiegis.db");
  const store = openStore(path);
  const keyring = ephemeralKeyring(T0);
  for (let i = 1; i <= n; i++) store.audit.append(event(i));
  const sign = (every = 10) =>
    void store.audit.checkpoint({
      key: keyring.active,
      issuer: "https://gateway.test",
      now: T0 + n * 1000,
      every,
    });
  sign();
  const raw = new Database(path);
  return { path, store, keyring, raw, verify: () => verifyStoredLog(store, keyring), sign };
}

function rowAt(raw: Database.Database, seq: number): StoredAuditRow {
  return raw.prepare("SELECT * FROM audit_log WHERE seq = ?").get(seq) as StoredAuditRow;
}

function rehash(row: StoredAuditRow): string {
  return entryHash({ ...row, data: JSON.parse(row.data) } as unknown as AuditBody, row.prev_hash);
}

/** Recomputes the hash (and the next entries' links) from `from` on, as a careful forger would. */
function rechain(raw: Database.Database, from: number): void {
  const rows = raw
    .prepare("SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq")
    .all(from) as StoredAuditRow[];
  let prev = from === 1 ? GENESIS_HASH : rowAt(raw, from - 1).hash;
  for (const row of rows) {
    const hash = rehash({ ...row, prev_hash: prev });
    raw
      .prepare("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?")
      .run(prev, hash, row.seq);
    prev = hash;
  }
}

describe("audit chain", () => {
  test("canonical JSON sorts keys at every level, drops whitespace, keeps JSON numbers", () => {
    assert.equal(
      canonicalJson({ b: [1, { z: "é", a: null }], a: 0.1, c: -0 }),
      '{"a":0.1,"b":[1,{"a":null,"z":"é"}],"c":0}',
    );
    assert.throws(() => canonicalJson({ x: Number.NaN }), TypeError);
  });

  test("each hash is SHA-256 of the entry's canonical JSON followed by the previous hash", () => {
    const f = fixture(3);
    const first = rowAt(f.raw, 1);
    const body = {
      seq: 1,
      at: first.at,
      action: first.action,
      agent_id: first.agent_id,
      actor: first.actor,
      decision: null,
      data: JSON.parse(first.data),
    };
    const expected = createHash("sha256")
      .update(canonicalJson(body) + "0".repeat(64))
      .digest("hex");
    assert.equal(first.prev_hash, GENESIS_HASH);
    assert.equal(first.hash, expected);
    assert.equal(rowAt(f.raw, 2).prev_hash, first.hash);
    assert.equal(first.data, canonicalJson(body.data), "data is stored as canonical JSON");
  });

  test("an untouched log verifies, with a signed checkpoint every N entries", () => {
    const f = fixture(25);
    const verdict = f.verify();
    assert.deepEqual(
      { ok: verdict.ok, entries: verdict.entries, checkpoints: verdict.checkpoints },
      { ok: true, entries: 25, checkpoints: 2 },
    );
    assert.deepEqual(
      f.store.audit.checkpoints().map((c) => c.size),
      [10, 20],
    );
    assert.equal(verdict.first_bad, undefined);
  });

  test("a final checkpoint covers the head; a second one at the same size is not added", () => {
    const f = fixture(25);
    const made = f.store.audit.checkpoint({
      key: f.keyring.active,
      issuer: "https://gateway.test",
      now: T0,
      every: 10,
      final: true,
    });
    assert.deepEqual(
      made.map((c) => c.size),
      [25],
    );
    const again = f.store.audit.checkpoint({
      key: f.keyring.active,
      issuer: "https://gateway.test",
      now: T0,
      every: 10,
      final: true,
    });
    assert.deepEqual(again, []);
    assert.equal(f.verify().ok, true);
  });
});

describe("audit tamper detection (changes made directly in the database file)", () => {
  test("an edited entry is the first bad entry", () => {
    const f = fixture();
    f.raw.prepare("UPDATE audit_log SET data = ? WHERE seq = 7").run('{"reason":"nothing"}');
    assert.deepEqual(f.verify().first_bad?.seq, 7);
    assert.match(String(f.verify().first_bad?.reason), /hash mismatch/);
  });

  test("an edited column other than data (decision, actor, time) is caught too", () => {
    for (const [column, value] of [
      ["decision", "ALLOW"],
      ["actor", "someone-else"],
      ["at", T0],
      ["agent_id", "agt_other"],
      ["action", "agent.verified"],
    ] as const) {
      const f = fixture();
      f.raw.prepare(`UPDATE audit_log SET ${column} = ? WHERE seq = 13`).run(value);
      assert.equal(f.verify().first_bad?.seq, 13, column);
    }
  });

  test("an edit whose own hash was recomputed breaks the link to the next entry", () => {
    const f = fixture();
    const row = rowAt(f.raw, 7);
    const data = '{"reason":"nothing"}';
    const hash = rehash({ ...row, data });
    f.raw.prepare("UPDATE audit_log SET data = ?, hash = ? WHERE seq = 7").run(data, hash);
    const verdict = f.verify();
    assert.equal(verdict.first_bad?.seq, 8);
    assert.match(String(verdict.first_bad?.reason), /prev_hash/);
  });

  test("a rewritten chain (every later hash recomputed) is caught by the signed checkpoint", () => {
    const f = fixture();
    f.raw.prepare("UPDATE audit_log SET data = ? WHERE seq = 7").run('{"reason":"nothing"}');
    rechain(f.raw, 7);
    const verdict = f.verify();
    assert.equal(verdict.first_bad?.seq, 10, "the first checkpoint after the edit");
    assert.match(String(verdict.first_bad?.reason), /signed checkpoint/);
  });

  test("a deleted entry is reported at its seq", () => {
    const f = fixture();
    f.raw.prepare("DELETE FROM audit_log WHERE seq = 12").run();
    assert.deepEqual(f.verify().first_bad, { seq: 12, reason: "missing: the entry was deleted" });
  });

  test("deleted oldest entries are reported at seq 1", () => {
    const f = fixture();
    f.raw.prepare("DELETE FROM audit_log WHERE seq <= 3").run();
    const verdict = f.verify();
    assert.equal(verdict.first_bad?.seq, 1);
    assert.match(String(verdict.first_bad?.reason), /missing/);
  });

  test("reordered entries are caught at the first moved one", () => {
    const f = fixture();
    const swap = f.raw.transaction(() => {
      f.raw.prepare("UPDATE audit_log SET seq = -1 WHERE seq = 5").run();
      f.raw.prepare("UPDATE audit_log SET seq = 5 WHERE seq = 6").run();
      f.raw.prepare("UPDATE audit_log SET seq = 6 WHERE seq = -1").run();
    });
    swap();
    assert.equal(f.verify().first_bad?.seq, 5);
  });

  test("a forged entry appended without the chain's hash is the first bad entry", () => {
    const f = fixture();
    const last = rowAt(f.raw, 25);
    f.raw
      .prepare(
        `INSERT INTO audit_log (seq, at, action, agent_id, actor, decision, data, prev_hash, hash)
         VALUES (26, ?, 'agent.verified', 'agt_x', NULL, NULL, '{}', ?, ?)`,
      )
      .run(T0, last.hash, "f".repeat(64));
    assert.equal(f.verify().first_bad?.seq, 26);
  });

  test("a forged entry inserted in the middle (with a correct hash of its own) breaks the next", () => {
    const f = fixture();
    // Make room at seq 15 by moving every later entry up one, from the end.
    for (let seq = 25; seq >= 15; seq--) {
      f.raw.prepare("UPDATE audit_log SET seq = ? WHERE seq = ?").run(seq + 1, seq);
    }
    const prev = rowAt(f.raw, 14).hash;
    const forged = {
      seq: 15,
      at: T0,
      action: "agent.unquarantined",
      agent_id: "agt_1",
      actor: "adm_test",
      decision: null,
      data: "{}",
      prev_hash: prev,
    };
    f.raw
      .prepare(
        `INSERT INTO audit_log (seq, at, action, agent_id, actor, decision, data, prev_hash, hash)
         VALUES (@seq, @at, @action, @agent_id, @actor, @decision, @data, @prev_hash, @hash)`,
      )
      .run({ ...forged, hash: rehash({ ...forged, hash: "" }) });
    const verdict = f.verify();
    assert.equal(
      verdict.first_bad?.seq,
      16,
      "the forged entry itself is consistent; its successor is not",
    );
  });

  test("truncation below the latest checkpoint is reported after the last entry left", () => {
    const f = fixture();
    f.raw.prepare("DELETE FROM audit_log WHERE seq > 15").run();
    const verdict = f.verify();
    assert.equal(verdict.first_bad?.seq, 16);
    assert.match(String(verdict.first_bad?.reason), /truncated: a checkpoint covers 20 entries/);
  });

  test("a checkpoint with a forged signature, another key's, or a changed row is refused", () => {
    const forgedSignature = fixture();
    const cp = forgedSignature.store.audit.checkpoints()[0]!;
    const flipped = `${cp.token.slice(0, -2)}${cp.token.endsWith("AA") ? "BA" : "AA"}`;
    forgedSignature.raw
      .prepare("UPDATE audit_checkpoints SET token = ? WHERE size = 10")
      .run(flipped);
    assert.deepEqual(forgedSignature.verify().first_bad, {
      seq: 10,
      reason: "checkpoint signature is invalid",
    });

    const otherKey = fixture();
    const outsider = ephemeralKeyring(T0);
    otherKey.raw.prepare("DELETE FROM audit_checkpoints").run();
    otherKey.store.audit.checkpoint({
      key: outsider.active,
      issuer: "https://gateway.test",
      now: T0,
      every: 10,
    });
    assert.match(String(otherKey.verify().first_bad?.reason), /unknown key/);

    const changedRow = fixture();
    changedRow.raw.prepare("UPDATE audit_checkpoints SET size = 11 WHERE size = 10").run();
    assert.deepEqual(changedRow.verify().first_bad, {
      seq: 11,
      reason: "checkpoint row differs from what was signed",
    });
  });

  test("not detected: tail truncation or a well-formed append after the last checkpoint", () => {
    // Documented limits: only a signed checkpoint pins the head, so entries after it can be
    // dropped, or appended by someone who recomputes the chain, without a trace.
    const truncated = fixture();
    truncated.raw.prepare("DELETE FROM audit_log WHERE seq > 20").run();
    assert.equal(truncated.verify().ok, true);
    const appended = fixture();
    const last = rowAt(appended.raw, 25);
    const forged = {
      seq: 26,
      at: T0,
      action: "agent.verified",
      agent_id: "agt_x",
      actor: null,
      decision: null,
      data: "{}",
      prev_hash: last.hash,
    };
    appended.raw
      .prepare(
        `INSERT INTO audit_log (seq, at, action, agent_id, actor, decision, data, prev_hash, hash)
         VALUES (@seq, @at, @action, @agent_id, @actor, @decision, @data, @prev_hash, @hash)`,
      )
      .run({ ...forged, hash: rehash({ ...forged, hash: "" }) });
    assert.equal(appended.verify().ok, true);
  });
});

describe("audit retention", () => {
  test("pruning stops at a checkpoint; the signed checkpoint anchors the rest, which verifies", () => {
    const dir = mkdtempSync(join(tmpdir(), "aiegis-audit-"));
    dirs.push(dir);
    const store = openStore(join(dir, "aiegis.db"));
    const keyring = ephemeralKeyring(T0);
    // One entry a day for 400 days (a fake clock: times are given, not read).
    for (let day = 0; day < 400; day++) store.audit.append(event(day + 1, T0 + day * DAY));
    const now = T0 + 400 * DAY;
    store.audit.checkpoint({ key: keyring.active, issuer: "x", now, every: 50 });
    const result = store.audit.prune(now, 180 * DAY);
    // Days 0…219 are past 180 days; the last checkpoint within them is at 200.
    assert.deepEqual(result, { deleted: 200, through: 200 });
    const rows = [...store.audit.rows()];
    assert.equal(rows[0]!.seq, 201);
    assert.equal(
      rows[0]!.prev_hash,
      store.audit.checkpoints().find((c) => c.size === 200)?.head_hash,
    );
    assert.ok(rows.every((r) => r.seq <= 400 || r.action === "audit.pruned"));
    const pruned = rows.at(-1)!;
    assert.equal(pruned.action, "audit.pruned");
    assert.deepEqual(JSON.parse(pruned.data).through_seq, 200);
    // Entries 201…220 are older than the cutoff but kept: no checkpoint at 220 to anchor them.
    assert.ok(rows.some((r) => r.seq === 220 && r.at < now - 180 * DAY));
    const verdict = verifyStoredLog(store, keyring);
    assert.deepEqual({ ok: verdict.ok, entries: verdict.entries }, { ok: true, entries: 201 });
    assert.deepEqual(store.audit.prune(now, 180 * DAY), { deleted: 0, through: null });

    // Still tamper-evident after pruning: a deletion right after the anchor is caught.
    const raw = new Database(join(dir, "aiegis.db"));
    raw.prepare("DELETE FROM audit_log WHERE seq = 201").run();
    assert.equal(verifyStoredLog(store, keyring).first_bad?.seq, 201);
    raw.close();
    store.close();
  });

  test("pruning everything keeps the chain going from the last pruned hash", () => {
    const store = openStore(":memory:");
    const keyring = ephemeralKeyring(T0);
    for (let i = 1; i <= 20; i++) store.audit.append(event(i, T0));
    store.audit.checkpoint({ key: keyring.active, issuer: "x", now: T0, every: 10 });
    const head = store.audit.head();
    assert.deepEqual(store.audit.prune(T0 + 365 * DAY, DAY), { deleted: 20, through: 20 });
    const [only] = [...store.audit.rows()];
    assert.equal(only?.seq, 21);
    assert.equal(only?.prev_hash, head.hash);
    assert.equal(verifyStoredLog(store, keyring).ok, true);
  });

  test("a checkpoint that no longer matches its entry stops pruning (the evidence is kept)", () => {
    const store = openStore(":memory:");
    const keyring = ephemeralKeyring(T0);
    for (let i = 1; i <= 20; i++) store.audit.append(event(i, T0));
    store.audit.checkpoint({ key: keyring.active, issuer: "x", now: T0, every: 10 });
    store.db.prepare("UPDATE audit_log SET hash = ? WHERE seq = 20").run("0".repeat(64));
    assert.deepEqual(store.audit.prune(T0 + 365 * DAY, DAY), { deleted: 0, through: null });
    // The match is checked only at the newest anchor; the older checkpoint is not used either.
    assert.equal([...store.audit.rows()].length, 20);
  });

  test("AIEGIS_AUDIT_RETENTION_DAYS defaults to 180 and a bad value names the variable", () => {
    assert.deepEqual(loadConfig({}).audit, {
      retentionDays: 180,
      checkpointEvery: 1000,
      excerpts: false,
    });
    assert.equal(loadConfig({ AIEGIS_AUDIT_RETENTION_DAYS: "365" }).audit.retentionDays, 365);
    for (const bad of ["0", "abc", "-5", "1.5"]) {
      assert.throws(
        () => loadConfig({ AIEGIS_AUDIT_RETENTION_DAYS: bad }),
        (err: unknown) =>
          err instanceof ConfigError && /AIEGIS_AUDIT_RETENTION_DAYS/.test(err.message),
      );
    }
    assert.throws(() => loadConfig({ AIEGIS_AUDIT_CHECKPOINT_EVERY: "0" }), ConfigError);
  });
});

function decision(i: number): DecisionEntry {
  return {
    requestId: `req_${i}`,
    agentId: "agt_1",
    action: "read_file",
    target: "/etc/passwd",
    content: "secret sk_live_abcdef and ada@example.com",
    decision: i % 2 === 0 ? "BLOCK" : "ALLOW",
    findings: [{ layer: "path", code: "SENSITIVE_FILE", severity: "BLOCK", confidence: 0.95 }],
    score: 0.95,
    latencyUs: 140,
    policyId: "default",
    policyHash: "h",
    at: T0 + i,
  };
}

describe("audit of decisions", () => {
  test("each decision is chained in its batch's transaction, as digests; a replay adds nothing", () => {
    const store = openStore(":memory:");
    const log = new DecisionLog(store.db, silent);
    for (let i = 1; i <= 3; i++) log.record(decision(i));
    log.flush();
    const entries = store.audit.query({ action: "protect.decision" }, 0, 10);
    assert.equal(entries.length, 3);
    assert.equal(entries[1]?.decision, "BLOCK");
    assert.equal(entries[0]?.data.request_id, "req_1");
    const text = JSON.stringify([...store.audit.rows()]);
    assert.ok(!text.includes("/etc/passwd") && !text.includes("sk_live") && !text.includes("ada@"));
    assert.equal(
      entries[0]?.data.target_sha256,
      createHash("sha256").update("/etc/passwd").digest("hex"),
    );
    // The writer committed but its confirmation was lost: the same batch is written again.
    const write = decisionWriter(store.db);
    const replay = [1, 2, 3].map((i) => {
      const { target, content, findings, ...rest } = decision(i);
      return {
        ...rest,
        targetSha256: "x",
        contentSha256: null,
        findings: JSON.stringify(findings),
      };
    });
    write(replay);
    assert.equal([...store.audit.rows()].length, 3);
    assert.equal(verifyStoredLog(store, ephemeralKeyring(T0)).ok, true);
    store.close();
  });

  test("AIEGIS_AUDIT_EXCERPTS=on keeps redacted excerpts of at most 200 characters", () => {
    assert.equal(loadConfig({ AIEGIS_AUDIT_EXCERPTS: "on" }).audit.excerpts, true);
    const store = openStore(":memory:");
    const log = new DecisionLog(store.db, silent, { excerpts: true });
    log.record({
      ...decision(1),
      target: "mail ada@example.com",
      content: `use key ak_${"Q".repeat(43)} and password=hunter2 card 4111 1111 1111 1111 ${"words ".repeat(60)}`,
    });
    log.record({ ...decision(2), content: undefined });
    log.flush();
    const [first, second] = store.audit.query({ action: "protect.decision" }, 0, 10);
    assert.equal(first?.data.target_excerpt, "mail [email]");
    const content = String(first?.data.content_excerpt);
    assert.ok(content.startsWith("use key [secret] and password=[secret] card [number] words"));
    assert.equal(Array.from(content).length, 201, "200 characters and an ellipsis");
    assert.equal(second?.data.content_excerpt, null);
    assert.equal(verifyStoredLog(store, ephemeralKeyring(T0)).ok, true);
    // Off (the default): digests only.
    const plain = openStore(":memory:");
    const digestsOnly = new DecisionLog(plain.db, silent);
    digestsOnly.record(decision(1));
    digestsOnly.flush();
    const [entry] = plain.audit.query({}, 0, 1);
    assert.ok(!("target_excerpt" in (entry?.data ?? {})));
    assert.equal(auditExcerpt(undefined), null);
    store.close();
    plain.close();
  });

  test("a writer thread and operator actions on other connections append to one chain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aiegis-audit-"));
    dirs.push(dir);
    const path = join(dir, "aiegis.db");
    const store = openStore(path);
    const other = openStore(path);
    const log = new DecisionLog(store.db, silent, { writerThread: path, maxBatch: 25 });
    for (let i = 1; i <= 500; i++) {
      log.record(decision(i));
      if (i % 5 === 0) (i % 10 === 0 ? store : other).audit.append(event(i));
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await log.close();
    const keyring = ephemeralKeyring(T0);
    store.audit.checkpoint({ key: keyring.active, issuer: "x", now: T0, every: 100, final: true });
    const verdict = verifyStoredLog(other, keyring);
    assert.deepEqual(
      { ok: verdict.ok, entries: verdict.entries, fellBack: log.fellBack },
      { ok: true, entries: 600, fellBack: false },
    );
    other.close();
    store.close();
  });
});
