import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hostileFailures, runHostile } from "../../bench/hostile-http.js";
import { provisionAgent } from "../helpers/provision.js";
import { type RunningServer, startServer } from "../helpers/server-process.js";

/** Sends raw bytes and resolves with everything the server sent until it closed. */
function raw(url: string, bytes: Buffer | string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((done) => {
    let text = "";
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("close", () => done(text));
    socket.on("error", () => undefined);
  });
}

function envelope(answer: string): Record<string, unknown> {
  return JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
}

describe("e2e: hostile HTTP input against the real server", () => {
  let dataDir: string;
  let server: RunningServer;
  let apiKey: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "aiegis-e2e-hostile-"));
    server = await startServer({
      AIEGIS_DATA_DIR: dataDir,
      AIEGIS_RATE_LIMITS: "off",
      AIEGIS_AUTO_QUARANTINE: "off",
    });
    ({ apiKey } = await provisionAgent(server.url, dataDir));
  });

  after(async () => {
    if (server !== undefined) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("unparseable HTTP gets a 400 in the error envelope, not Node's bare status line", async () => {
    const answer = await raw(server.url, "\u0001\u0002 not http at all\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /content-type: application\/json/i);
    const body = envelope(answer);
    assert.equal(body.code, "MALFORMED_HTTP");
    assert.match(String(body.request_id), /^req_/);
  });

  test("oversized headers get a 431 in the error envelope", async () => {
    const answer = await raw(
      server.url,
      `GET /api/health HTTP/1.1\r\nHost: t\r\nX-Filler: ${"a".repeat(64_000)}\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.equal(envelope(answer).code, "HEADERS_TOO_LARGE");
  });

  test("1,500 hostile requests of every family: no 5xx, no crash, still healthy, memory bounded", async () => {
    const report = await runHostile(server, apiKey, { count: 1_500, seed: 20261124 });
    assert.equal(report.sent, 1_500);
    assert.ok(Object.keys(report.byKind).length >= 10, JSON.stringify(report.byKind));
    assert.deepEqual(hostileFailures(report, 256), [], JSON.stringify(report));
    assert.doesNotMatch(server.output(), /"msg":"unhandled error"/);
  });
});
