import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { databasePath, openStore } from "../../src/store/store.js";

// Another process's decision log commits every few milliseconds; this thread plays it.
const WRITER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 5000");
const insert = db.prepare(
  "INSERT INTO decisions (request_id, agent_id, action, decision, findings, score, latency_us, policy_id, policy_hash, at) VALUES (?, 'a', 'x', 'ALLOW', '[]', 0, 1, 'default', 'h', 0)",
);
let stop = false;
parentPort.on("message", () => { stop = true; });
// Like DecisionLog: batches of inserts in one IMMEDIATE transaction.
let n = 0;
const batch = db.transaction(() => { for (let i = 0; i < 20; i++) insert.run("r" + n++); });
const loop = () => {
  batch.immediate();
  if (stop) { db.close(); parentPort.postMessage("done"); } else setImmediate(loop);
};
parentPort.postMessage("ready");
loop();
`;

test("read-then-write transactions wait for another process's writes instead of failing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aiegis-contention-"));
  const store = openStore(databasePath(dir));
  const writer = new Worker(WRITER, {
    eval: true,
    workerData: {
      path: databasePath(dir),
      module: createRequire(import.meta.url).resolve("better-sqlite3"),
    },
  });
  try {
    await new Promise((ready) => writer.once("message", ready));
    const now = Date.now();
    store.db
      .prepare(
        `INSERT INTO agents (id, name, name_key, type, description, owner_name, owner_email, created_at, verified_at)
         VALUES ('agt_contention00000000000', 'n', 'n', 't', 'description long enough', 'o', 'o@x.test', ?, ?)`,
      )
      .run(now, now);
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) {
      try {
        store.passports.revoke({
          agentId: "agt_contention00000000000",
          reason: "r",
          actor: "test",
          at: now + i,
        });
        store.agents.quarantine({
          agentId: "agt_contention00000000000",
          reason: "r",
          actor: "t",
          at: now + i,
        });
        store.agents.unquarantine({
          agentId: "agt_contention00000000000",
          reason: "r",
          actor: "t",
          at: now + i,
        });
      } catch (err) {
        failures.push((err as { code?: string }).code ?? String(err));
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    writer.postMessage("stop");
    await new Promise((done) => writer.once("message", done));
    await writer.terminate();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
