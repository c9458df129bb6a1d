import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { openDatabase } from "../../src/store/db.js";
import { MIGRATIONS } from "../../src/store/migrations.js";

describe("database", () => {
  const dir = mkdtempSync(join(tmpdir(), "aiegis-db-"));
  const path = join(dir, "aiegis.db");
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a file database runs in WAL mode with synchronous=FULL and every migration applied", () => {
    const db = openDatabase(path);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    // 2 = FULL: the WAL is fsynced at every commit, so an acknowledged write survives a power cut.
    assert.equal(db.pragma("synchronous", { simple: true }), 2);
    assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
    assert.equal(db.pragma("user_version", { simple: true }), MIGRATIONS.length);
    db.close();
  });

  test("reopening applies nothing twice and keeps the data", () => {
    const first = openDatabase(path);
    const tables = first
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all();
    first.close();
    const second = openDatabase(path);
    assert.deepEqual(
      second.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all(),
      tables,
    );
    assert.equal(second.pragma("user_version", { simple: true }), MIGRATIONS.length);
    second.close();
  });

  test("a schema newer than this build is refused instead of being used blindly", () => {
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    assert.throws(() => openDatabase(path), /newer than this build knows/);
  });
});
