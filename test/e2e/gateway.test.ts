import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { hashSecret } from "../../src/crypto/api-key.js";
import { type RunningServer, runCli, startServer } from "../helpers/server-process.js";

/** Undoes quoted-printable soft breaks and escapes, as a mail client would. */
function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

async function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("e2e: the real server process", () => {
  let dataDir: string;
  let server: RunningServer;
  const issuedKeys: string[] = [];
  let exitCode: number | null = null;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "aiegis-e2e-"));
  });

  after(async () => {
    if (server !== undefined) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("admin CLI creates a key that is printed once and stored as a hash", async () => {
    const result = await runCli(["admin", "create-key", "--name", "ops"], {
      AIEGIS_DATA_DIR: dataDir,
    });
    assert.equal(result.code, 0, result.stderr);
    const created = JSON.parse(result.stdout.split("\n")[0] ?? "") as {
      api_key: string;
      id: string;
    };
    assert.match(created.api_key, /^ak_/);
    issuedKeys.push(created.api_key);
  });

  test("register → mail in the outbox → verify → login → health → SIGTERM", async () => {
    server = await startServer({ AIEGIS_DATA_DIR: dataDir, AIEGIS_LOG_LEVEL: "info" });
    const base = server.url;

    const health = await fetch(`${base}/api/health`);
    assert.equal(health.status, 200);
    const healthBody = (await health.json()) as Record<string, unknown>;
    assert.equal(healthBody.status, "ok");
    assert.equal(typeof healthBody.uptime_s, "number");

    const registered = await post(base, "/api/register", {
      agent_name: "e2e-bot",
      agent_type: "assistant",
      description: "End-to-end test agent that reads tickets.",
      owner_name: "Test Owner",
      owner_email: "owner@example.com",
    });
    assert.equal(registered.status, 201);
    const { agent_id, api_key } = (await registered.json()) as {
      agent_id: string;
      api_key: string;
    };
    issuedKeys.push(api_key);

    const outbox = join(dataDir, "outbox");
    const mails = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
    assert.equal(mails.length, 1);
    const mail = decodeQuotedPrintable(readFileSync(join(outbox, mails[0]!), "utf8"));
    assert.match(mail, /^To: owner@example\.com$/m);
    const link = mail.match(/(http:\/\/\S+\/api\/verify-email\?token=[A-Za-z0-9_-]+)/)?.[1];
    assert.ok(link, `no verification link in:\n${mail}`);
    assert.ok(link.startsWith(base), `link ${link} does not point at ${base}`);
    // The log is written asynchronously: give it a moment to reach stdout.
    for (let i = 0; i < 50 && !server.output().includes(link); i++) await sleep(100);
    assert.ok(server.output().includes(link), "the outbox link is logged");

    const loginBefore = await post(base, "/api/agents/login", {
      email: "owner@example.com",
      api_key,
    });
    assert.equal(loginBefore.status, 403);

    const verified = await fetch(link);
    assert.equal(verified.status, 200);
    assert.deepEqual(await verified.json(), { status: "ok", agent_id });

    const login = await post(base, "/api/agents/login", { email: "owner@example.com", api_key });
    assert.equal(login.status, 200);
    assert.deepEqual(await login.json(), { status: "ok", agent_id });

    const me = await fetch(`${base}/api/agents/me`, {
      headers: { authorization: `Bearer ${api_key}` },
    });
    assert.equal(me.status, 200);

    const blocked = await post(
      base,
      "/api/protect",
      { action: "read_file", target: "/etc/passwd" },
      { "x-api-key": api_key },
    );
    assert.equal(blocked.status, 200);
    assert.equal(((await blocked.json()) as { decision: string }).decision, "BLOCK");
    const allowed = await post(
      base,
      "/api/protect",
      { action: "read_file", target: "docs/index.md" },
      { "x-api-key": api_key },
    );
    assert.equal(((await allowed.json()) as { decision: string }).decision, "ALLOW");
    const health2 = (await (await fetch(`${base}/api/health`)).json()) as { layers: number };
    assert.equal(health2.layers, 12);

    const rotated = await post(base, "/api/agents/me/rotate-key", {}, { "x-api-key": api_key });
    assert.equal(rotated.status, 200);
    issuedKeys.push(((await rotated.json()) as { api_key: string }).api_key);

    const quarantined = await post(
      base,
      `/api/agents/${agent_id}/quarantine`,
      { reason: "e2e" },
      {
        "x-api-key": issuedKeys[0]!,
      },
    );
    assert.equal(quarantined.status, 200);

    const notFound = await fetch(`${base}/nope`);
    assert.equal(notFound.status, 404);
    assert.match(notFound.headers.get("content-type") ?? "", /json/);

    exitCode = await server.stop();
    assert.equal(exitCode, 0, server.output());
    assert.match(server.output(), /"msg":"stopped"/);
    // Decisions queued in memory were written before the process exited.
    const db = new Database(join(dataDir, "aiegis.db"), { readonly: true });
    const rows = db
      .prepare("SELECT decision FROM decisions WHERE agent_id = ? ORDER BY seq")
      .all(agent_id);
    db.close();
    assert.deepEqual(rows, [{ decision: "BLOCK" }, { decision: "ALLOW" }]);
  });

  test("SIGTERM lets an in-flight request finish before the process exits", async () => {
    server = await startServer({ AIEGIS_DATA_DIR: dataDir });
    const url = new URL(`${server.url}/api/register`);
    const body = JSON.stringify({
      agent_name: "slow-bot",
      agent_type: "assistant",
      description: "Arrives in two halves around a SIGTERM.",
      owner_name: "Test Owner",
      owner_email: "owner@example.com",
    });
    const response = new Promise<{ status: number; text: string }>((done, fail) => {
      const req = request(
        url,
        {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => done({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", (err) =>
        fail(new Error(`in-flight request failed: ${err.message}\n${server.output()}`)),
      );
      req.flushHeaders();
      req.write(body.slice(0, 20));
      // Generous delays: the server must have parsed the headers before SIGTERM for the
      // request to count as in flight.
      setTimeout(() => {
        server.child.kill("SIGTERM");
        setTimeout(() => req.end(body.slice(20)), 500);
      }, 1_000);
    });
    const { status, text } = await response;
    assert.equal(status, 201, text);
    issuedKeys.push((JSON.parse(text) as { api_key: string }).api_key);
    assert.equal(await server.stop(), 0);
  });

  test("no issued plaintext key is in the database files or the logs", () => {
    assert.equal(issuedKeys.length, 4);
    const files = readdirSync(dataDir).filter((f) => f.startsWith("aiegis.db"));
    assert.ok(files.includes("aiegis.db"));
    const stored = Buffer.concat(files.map((f) => readFileSync(join(dataDir, f))));
    const logs = server.output();
    for (const key of issuedKeys) {
      assert.equal(stored.indexOf(key), -1, "plaintext key in the database");
      assert.equal(
        stored.indexOf(key.slice(11)),
        -1,
        "key material beyond the prefix in the database",
      );
      assert.ok(!logs.includes(key.slice(11)), "key material in the logs");
      // The scan is meaningful: each key's hash is there.
      assert.notEqual(stored.indexOf(hashSecret(key)), -1, "hash of an issued key not found");
    }
  });

  test("a bad environment variable stops start-up with a message naming it", async () => {
    const result = await runCli([], { AIEGIS_DATA_DIR: dataDir, PORT: "eighty" });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /PORT: PORT must be an integer/);
  });
});

describe("e2e: a crash loses nothing that was acknowledged", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aiegis-crash-"));
  const adminKey = "crash-test-admin-key-0123456789abcdef";
  let server: RunningServer | undefined;

  after(async () => {
    if (server !== undefined) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("registration, verification and quarantine survive SIGKILL", async () => {
    const env = { AIEGIS_DATA_DIR: dataDir, AIEGIS_ADMIN_KEY: adminKey };
    server = await startServer(env);
    const registered = await post(server.url, "/api/register", {
      agent_name: "crash-bot",
      agent_type: "assistant",
      description: "Registered right before the process is killed.",
      owner_name: "Test Owner",
      owner_email: "crash@example.com",
    });
    assert.equal(registered.status, 201);
    const { agent_id, api_key } = (await registered.json()) as {
      agent_id: string;
      api_key: string;
    };
    const mail = readdirSync(join(dataDir, "outbox")).find((f) => f.endsWith(".eml"));
    assert.ok(mail);
    const text = decodeQuotedPrintable(readFileSync(join(dataDir, "outbox", mail), "utf8"));
    const token = text.match(/token=([A-Za-z0-9_-]+)/)?.[1];
    assert.ok(token);
    const verified = await fetch(`${server.url}/api/verify-email?token=${token}`);
    assert.equal(verified.status, 200);
    const quarantined = await post(
      server.url,
      `/api/agents/${agent_id}/quarantine`,
      { reason: "crash test" },
      { "x-api-key": adminKey },
    );
    assert.equal(quarantined.status, 200);

    // No shutdown hook runs: whatever was acknowledged must already be on disk.
    server.child.kill("SIGKILL");
    await server.stop();

    server = await startServer(env);
    const login = await post(server.url, "/api/agents/login", {
      email: "crash@example.com",
      api_key,
    });
    assert.equal(login.status, 403);
    assert.equal(((await login.json()) as { error: string }).error, "Agent quarantined");
    const reused = await fetch(`${server.url}/api/verify-email?token=${token}`);
    assert.equal(reused.status, 400, "the used token stays used");
    const unquarantined = await post(
      server.url,
      `/api/agents/${agent_id}/unquarantine`,
      { reason: "crash test over" },
      { "x-api-key": adminKey },
    );
    assert.equal(unquarantined.status, 200);
    const after = await post(server.url, "/api/agents/login", {
      email: "crash@example.com",
      api_key,
    });
    assert.equal(after.status, 200, "the verification survived too");
  });
});
