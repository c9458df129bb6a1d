import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { verifyStoredLog } from "../../src/audit/jobs.js";
import { DirectoryKeyring } from "../../src/crypto/signing-keys.js";
import { createLogger } from "../../src/logger.js";
import { openDatabase } from "../../src/store/db.js";
import { type DecisionEntry, DecisionLog } from "../../src/store/decision-log.js";
import { openStore } from "../../src/store/store.js";

const dir = mkdtempSync(join(tmpdir(), "aiegis-decisions-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function entry(i: number): DecisionEntry {
  return {
    requestId: `req_${i}`,
    agentId: "agt_1",
    action: "read_file",
    target: `/tmp/${i}`,
    content: undefined,
    decision: i % 3 === 0 ? "BLOCK" : "ALLOW",
    findings: [],
    score: 0,
    latencyUs: 12,
    policyId: "default",
    policyHash: "h",
    at: 1_700_000_000_000 + i,
  };
}

const silent = createLogger("silent");

describe("decision log", () => {
  test("a writer thread commits every batch; close() waits for it", async () => {
    const path = join(dir, "thread.db");
    const db = openDatabase(path);
    const log = new DecisionLog(db, silent, { writerThread: path, maxBatch: 50 });
    for (let i = 0; i < 1_000; i++) log.record(entry(i));
    assert.ok(log.pending > 0);
    await log.close();
    assert.equal(log.pending, 0);
    assert.equal(log.fellBack, false, "the thread, not the fallback, wrote them");
    const count = db.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number };
    assert.equal(count.n, 1_000);
    assert.equal(log.byRequestId("req_999")?.targetSha256?.length, 64);
    db.close();
  });

  test("the writer thread signs due audit checkpoints in its batches, and they verify", async () => {
    const dataDir = mkdtempSync(join(dir, "checkpoints-"));
    const path = join(dataDir, "aiegis.db");
    const keyring = new DirectoryKeyring(dataDir, Date.now());
    const store = openStore(path);
    const log = new DecisionLog(store.db, silent, {
      writerThread: path,
      maxBatch: 7,
      checkpoints: { dataDir, issuer: "https://gateway.test", every: 10 },
    });
    for (let i = 0; i < 25; i++) log.record(entry(i));
    await log.close();
    assert.equal(log.fellBack, false);
    assert.deepEqual(
      store.audit.checkpoints().map((c) => [c.size, c.kid]),
      [
        [10, keyring.active.kid],
        [20, keyring.active.kid],
      ],
    );
    const verdict = verifyStoredLog(store, keyring);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    assert.equal(verdict.entries, 25);
    store.close();
  });

  test("a writer thread that cannot start hands its batches back to the main thread", async () => {
    const path = join(dir, "main.db");
    const db = openDatabase(path);
    // A directory where the database file should be: the thread's connection fails.
    const bad = join(dir, "not-a-file.db");
    mkdirSync(bad);
    const log = new DecisionLog(db, silent, { writerThread: bad, flushIntervalMs: 1 });
    for (let i = 0; i < 10; i++) log.record(entry(i));
    log.flush();
    for (let i = 0; i < 200 && log.pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await log.close();
    assert.equal(log.fellBack, true);
    const count = db.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number };
    assert.equal(count.n, 10);
    db.close();
  });

  test("a batch written twice is stored once", () => {
    const db = openDatabase(":memory:");
    const log = new DecisionLog(db, silent);
    log.record(entry(1));
    log.flush();
    log.record(entry(1));
    log.flush();
    const count = db.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number };
    assert.equal(count.n, 1);
    db.close();
  });
});
