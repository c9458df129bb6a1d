import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { runCrashTest } from "../../bench/crash-test.js";

describe("e2e: SIGKILL under concurrent load loses nothing acknowledged", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aiegis-e2e-crash-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  // Its own budget: a delivery leased by a killed process waits out its 60 s lease at the end.
  test("3 kills at random moments: acknowledged writes kept, integrity ok, chain verifies, webhooks delivered", {
    timeout: 300_000,
  }, async () => {
    const report = await runCrashTest({
      kills: 3,
      seed: 20261124,
      dataDir,
      minRunMs: 500,
      maxRunMs: 1_500,
    });
    assert.equal(report.kills, 3);
    // The run must have acknowledged enough of each kind for the check to mean something.
    assert.ok(report.acknowledged.registered >= 10, JSON.stringify(report.acknowledged));
    assert.ok(report.acknowledged.verified >= 3, JSON.stringify(report.acknowledged));
    assert.ok(report.acknowledged.issued >= 1, JSON.stringify(report.acknowledged));
    // And on the operator plane (accounts, organization agents, scoped keys).
    const { signups, orgAgents, keysCreated } = report.acknowledged;
    assert.ok(
      signups >= 2 && orgAgents >= 1 && keysCreated >= 1,
      JSON.stringify(report.acknowledged),
    );
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.integrity, []);
    assert.deepEqual(report.audit, []);
    assert.ok(
      report.auditEntries >= report.acknowledged.registered,
      "every registration is audited",
    );
    assert.ok(report.webhooks.expected >= report.acknowledged.registered);
    assert.deepEqual(report.webhooks.missing, []);
  });
});
