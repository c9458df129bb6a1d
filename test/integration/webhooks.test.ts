import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { createLogger } from "../../src/logger.js";
import { RETRY_SCHEDULE_MS, WebhookDispatcher } from "../../src/webhooks/dispatcher.js";
import { secretKeyBytes } from "../../src/webhooks/signing.js";
import {
  ADMIN_KEY,
  jsonOf,
  makeTestApp,
  type Registered,
  registerAgent,
  type TestApp,
} from "../helpers/test-app.js";

type Json = Record<string, unknown>;

/** A request the loopback receiver got. */
type Received = { headers: IncomingHttpHeaders; body: string; path: string };

/** What the receiver answers next: a status and headers, or `hang` (never answers). */
type Reply = { status: number; headers?: Record<string, string> } | "hang";

/** A real HTTP receiver on 127.0.0.1 and a free port; answers 204 unless told otherwise. */
class Receiver {
  readonly received: Received[] = [];
  readonly replies: Reply[] = [];
  fallback: Reply = { status: 204 };
  #server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.received.push({
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          path: req.url ?? "",
        });
        const reply = this.replies.shift() ?? this.fallback;
        if (reply === "hang") return;
        res.writeHead(reply.status, reply.headers).end("ok");
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  /** Bodies received, parsed. */
  events(): Json[] {
    return this.received.map((r) => JSON.parse(r.body) as Json);
  }
}

const receivers: Receiver[] = [];
async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.start();
  receivers.push(r);
  return r;
}
after(async () => {
  for (const r of receivers) await r.stop();
});

/** An app whose webhooks may target loopback, its clock at the real time (signatures are checked against it). */
function webhookApp(): TestApp & { dispatcher: WebhookDispatcher; dispatchLogs: string[] } {
  const t = makeTestApp({ AIEGIS_WEBHOOK_ALLOW_PRIVATE: "1" });
  t.clock.advance(Date.now() - t.clock.now());
  const dispatchLogs: string[] = [];
  const dispatcher = new WebhookDispatcher({
    repo: t.store.webhooks,
    clock: t.clock,
    logger: createLogger("info", { write: (line: string) => void dispatchLogs.push(line) }),
    allowPrivate: true,
    timeoutMs: 2_000,
  });
  return Object.assign(t, { dispatcher, dispatchLogs });
}

async function createHook(
  t: TestApp,
  key: string,
  body: Json,
): Promise<{ webhook_id: string; secret: string } & Json> {
  const res = await t.call("POST", "/api/webhooks", { headers: { "x-api-key": key }, body });
  const json = await jsonOf(res);
  assert.equal(res.status, 201, JSON.stringify(json));
  return json as { webhook_id: string; secret: string } & Json;
}

/** Checks every received request's Standard Webhooks signature with the standardwebhooks library. */
function verifyAll(r: Receiver, secret: string): Json[] {
  const wh = new Webhook(secret);
  return r.received.map((req) => {
    const headers = {
      "webhook-id": String(req.headers["webhook-id"]),
      "webhook-timestamp": String(req.headers["webhook-timestamp"]),
      "webhook-signature": String(req.headers["webhook-signature"]),
    };
    return wh.verify(req.body, headers) as Json;
  });
}

async function quarantine(t: TestApp, agentId: string, action: "quarantine" | "unquarantine") {
  const res = await t.call("POST", `/api/agents/${agentId}/${action}`, {
    headers: { "x-api-key": ADMIN_KEY },
    body: { reason: "secret reason text" },
  });
  assert.equal(res.status, 200);
}

async function issuePassport(t: TestApp, agent: Registered) {
  const res = await t.call("POST", "/api/agent/issue", {
    headers: { "x-api-key": agent.apiKey },
    body: { agent_id: agent.agentId, operator: "Acme", jurisdiction: "EU", policy: "default" },
  });
  const json = await jsonOf(res);
  assert.equal(res.status, 201, JSON.stringify(json));
  return json as { passport: string; passport_id: string };
}

function count(t: TestApp, table: string): number {
  return t.store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
}

describe("webhook endpoints: CRUD, ownership, the secret shown once", () => {
  test("create, list, delete; the secret appears once and never in clear in the database", async () => {
    const t = webhookApp();
    const agent = await registerAgent(t);
    const created = await createHook(t, agent.apiKey, {
      url: "https://93.184.215.14/hooks/aiegis",
      events: ["passport.issued", "passport.revoked"],
      description: "ops pager",
    });
    assert.match(created.webhook_id, /^whk_/);
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(created.agent_id, agent.agentId);
    assert.deepEqual(created.events, ["passport.issued", "passport.revoked"]);
    assert.equal(created.status, "enabled");

    const listed = await t.call("GET", "/api/webhooks", { headers: { "x-api-key": agent.apiKey } });
    const listText = await listed.text();
    assert.equal(listed.status, 200);
    assert.ok(!listText.includes(created.secret));
    assert.ok(!listText.includes("secret"), "no secret member at all");
    const list = JSON.parse(listText) as { webhooks: Json[] };
    assert.deepEqual(
      list.webhooks.map((w) => w.webhook_id),
      [created.webhook_id],
    );

    // At rest: sealed, neither the secret nor its key bytes appear in any column.
    const row = t.store.db
      .prepare("SELECT * FROM webhook_endpoints WHERE id = ?")
      .get(created.webhook_id) as Record<string, unknown>;
    const raw = Buffer.from(JSON.stringify(row) + String(row.secret_sealed?.toString()));
    assert.ok(!raw.includes(created.secret));
    assert.ok(!(row.secret_sealed as Buffer).includes(secretKeyBytes(created.secret)));
    assert.equal(t.store.webhooks.secretOf(created.webhook_id), created.secret);
    assert.ok(!t.logs.join("\n").includes(created.secret), "the secret is never logged");

    const del = await t.call("DELETE", `/api/webhooks/${created.webhook_id}`, {
      headers: { "x-api-key": agent.apiKey },
    });
    assert.equal(del.status, 200);
    assert.deepEqual(await jsonOf(del), { webhook_id: created.webhook_id, deleted: true });
    const again = await t.call("DELETE", `/api/webhooks/${created.webhook_id}`, {
      headers: { "x-api-key": agent.apiKey },
    });
    assert.equal(again.status, 404);
    assert.equal(count(t, "webhook_endpoints"), 0);

    // Both changes are in the audit log, with the URL's origin only (a path may hold a token).
    const audited = t.store.db
      .prepare(
        "SELECT action, agent_id AS agentId, data FROM audit_log WHERE action LIKE 'webhook.%' ORDER BY seq",
      )
      .all() as { action: string; agentId: string; data: string }[];
    assert.deepEqual(
      audited.map((e) => [e.action, e.agentId]),
      [
        ["webhook.created", agent.agentId],
        ["webhook.deleted", agent.agentId],
      ],
    );
    assert.equal(JSON.parse(audited[0]!.data).origin, "https://93.184.215.14");
    assert.ok(!audited[0]!.data.includes("/hooks/aiegis"));
  });

  test("another agent (even of the same owner) gets 404; an admin may act on any endpoint", async () => {
    const t = webhookApp();
    const owner = await registerAgent(t);
    const sibling = await registerAgent(t);
    const stranger = await registerAgent(t, { overrides: { owner_email: "eve@example.org" } });
    const hook = await createHook(t, owner.apiKey, {
      url: "https://93.184.215.14/h",
      events: ["agent.quarantined"],
    });
    for (const other of [sibling, stranger]) {
      const headers = { "x-api-key": other.apiKey };
      for (const [method, path] of [
        ["DELETE", `/api/webhooks/${hook.webhook_id}`],
        ["POST", `/api/webhooks/${hook.webhook_id}/test`],
        ["GET", `/api/webhooks/${hook.webhook_id}/deliveries`],
      ] as const) {
        const res = await t.call(method, path, {
          headers,
          body: method === "POST" ? {} : undefined,
        });
        const json = await jsonOf(res);
        assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(json)}`);
        assert.equal(json.code, "NOT_FOUND");
      }
      const list = await jsonOf(await t.call("GET", "/api/webhooks", { headers }));
      assert.deepEqual(list.webhooks, []);
    }
    // An agent key cannot register for another agent.
    const foreign = await t.call("POST", "/api/webhooks", {
      headers: { "x-api-key": owner.apiKey },
      body: {
        url: "https://93.184.215.14/h",
        events: ["agent.verified"],
        agent_id: stranger.agentId,
      },
    });
    assert.equal(foreign.status, 403);
    assert.equal((await jsonOf(foreign)).error, "agent_id mismatch");

    // Admin: sees every endpoint, its own global ones included, and may delete any.
    const global = await createHook(t, ADMIN_KEY, {
      url: "https://93.184.215.14/all",
      events: ["agent.registered"],
    });
    assert.equal(global.agent_id, null);
    const adminList = await jsonOf(
      await t.call("GET", "/api/webhooks", { headers: { "x-api-key": ADMIN_KEY } }),
    );
    assert.deepEqual(
      (adminList.webhooks as Json[]).map((w) => w.webhook_id),
      [hook.webhook_id, global.webhook_id],
    );
    const ping = await t.call("POST", `/api/webhooks/${hook.webhook_id}/test`, {
      headers: { "x-api-key": ADMIN_KEY },
      body: {},
    });
    assert.equal(ping.status, 202);
    const del = await t.call("DELETE", `/api/webhooks/${hook.webhook_id}`, {
      headers: { "x-api-key": ADMIN_KEY },
    });
    assert.equal(del.status, 200);
  });

  test("refuses non-https, private, loopback, link-local and metadata URLs, and bad bodies (400)", async () => {
    const t = makeTestApp();
    const agent = await registerAgent(t);
    const post = (body: Json) =>
      t.call("POST", "/api/webhooks", { headers: { "x-api-key": agent.apiKey }, body });
    for (const url of [
      "http://93.184.215.14/h",
      "https://127.0.0.1/h",
      "https://localhost:8443/h",
      "https://10.1.2.3/h",
      "https://192.168.0.10/h",
      "https://169.254.169.254/latest/meta-data/",
      "https://100.100.100.200/",
      "https://[::1]/h",
      "https://[::ffff:127.0.0.1]/h",
      "https://[fd00:ec2::254]/",
      "https://[fe80::1]/",
      "https://0x7f000001/",
      "https://user:pw@93.184.215.14/h",
      "not a url",
    ]) {
      const res = await post({ url, events: ["agent.verified"] });
      const json = await jsonOf(res);
      assert.equal(res.status, 400, `${url}: ${JSON.stringify(json)}`);
      assert.equal(json.code, "VALIDATION_FAILED");
      assert.equal((json.details as Json[])[0]!.field, "url", url);
      assert.match(String(json.request_id), /^req_/);
    }
    for (const body of [
      { url: "https://93.184.215.14/h", events: [] },
      { url: "https://93.184.215.14/h", events: ["agent.deleted"] },
      { url: "https://93.184.215.14/h", events: ["ping"] },
      { url: "https://93.184.215.14/h", events: ["agent.verified", "agent.verified"] },
      { url: "https://93.184.215.14/h" },
      { url: "https://93.184.215.14/h", events: ["agent.verified"], secret: "whsec_mine" },
    ]) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal(count(t, "webhook_endpoints"), 0);
  });
});

describe("webhook delivery", () => {
  let r: Receiver;
  before(async () => {
    r = await receiver();
  });

  test("every event type reaches a loopback receiver, signed (verified with standardwebhooks)", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const admin = await createHook(t, ADMIN_KEY, {
      url: `${r.url}/admin`,
      events: [
        "agent.registered",
        "agent.verified",
        "agent.quarantined",
        "agent.unquarantined",
        "passport.issued",
        "passport.revoked",
        "protect.blocked",
        "protect.warned",
      ],
    });
    const agent = await registerAgent(t);
    const passport = await issuePassport(t, agent);
    const revoked = await t.call("POST", "/registry/revoke", {
      headers: { "x-api-key": agent.apiKey },
      body: { agent_id: agent.agentId, passport_id: passport.passport_id, reason: "leaked" },
    });
    assert.equal(revoked.status, 200);
    const protect = async (body: Json) => {
      const res = await t.call("POST", "/api/protect", {
        headers: { "x-api-key": agent.apiKey },
        body,
      });
      const json = await jsonOf(res);
      return { decision: json.decision, requestId: String(json.request_id) };
    };
    const blocked = await protect({ action: "read_file", target: "/etc/passwd" });
    assert.equal(blocked.decision, "BLOCK");
    const warned = await protect({ action: "read_file", target: ".env" });
    assert.equal(warned.decision, "WARN");
    const allowed = await protect({ action: "read_file", target: "README.md" });
    assert.equal(allowed.decision, "ALLOW");
    t.decisionLog.flush();
    await quarantine(t, agent.agentId, "quarantine");
    await quarantine(t, agent.agentId, "unquarantine");
    const ping = await t.call("POST", `/api/webhooks/${admin.webhook_id}/test`, {
      headers: { "x-api-key": ADMIN_KEY },
    });
    assert.equal(ping.status, 202);
    const pingJson = await jsonOf(ping);
    assert.match(String(pingJson.event_id), /^msg_/);

    // Nothing was sent in the request path: only the dispatcher sends.
    assert.equal(r.received.length, 0);
    assert.equal(await t.dispatcher.tick(), 9);
    const events = verifyAll(r, admin.secret);
    assert.deepEqual(
      events.map((e) => e.type),
      [
        "agent.registered",
        "agent.verified",
        "passport.issued",
        "passport.revoked",
        "protect.blocked",
        "protect.warned",
        "agent.quarantined",
        "agent.unquarantined",
        "ping",
      ],
    );
    const byType = new Map(events.map((e) => [String(e.type), e.data as Json]));
    assert.deepEqual(byType.get("agent.registered"), { agent_id: agent.agentId });
    assert.deepEqual(byType.get("passport.revoked"), {
      agent_id: agent.agentId,
      passport_id: passport.passport_id,
      revocation_id: 1,
    });
    assert.equal(byType.get("protect.blocked")!.request_id, blocked.requestId);
    assert.equal(byType.get("protect.warned")!.request_id, warned.requestId);
    assert.deepEqual(byType.get("ping"), { webhook_id: admin.webhook_id });
    // Ids and timestamps only: no token, no free text, no request text.
    const all = r.received.map((x) => x.body).join("\n");
    for (const secretish of [
      passport.passport,
      "secret reason text",
      "/etc/passwd",
      "leaked",
      agent.apiKey,
    ]) {
      assert.ok(!all.includes(secretish), secretish);
    }
    for (const req of r.received) {
      assert.match(String(req.headers["webhook-id"]), /^msg_/);
      assert.equal(req.headers["content-type"], "application/json");
      assert.equal(req.path, "/admin");
    }
    // Delivered: nothing more to send.
    assert.equal(t.store.webhooks.backlog(), 0);
    assert.equal(await t.dispatcher.tick(), 0);
    const metrics = await (await t.call("GET", "/metrics")).text();
    assert.match(metrics, /aiegis_queue_length\{queue="webhook_outbox"\} 0/);
  });

  test("an agent's endpoint gets its own agent's events only", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const mine = await registerAgent(t);
    const other = await registerAgent(t);
    const hook = await createHook(t, mine.apiKey, {
      url: `${r.url}/mine`,
      events: ["passport.issued", "agent.quarantined"],
    });
    await issuePassport(t, other);
    await quarantine(t, other.agentId, "quarantine");
    const issued = await issuePassport(t, mine);
    await t.dispatcher.tick();
    const events = verifyAll(r, hook.secret);
    assert.deepEqual(
      events.map((e) => [e.type, (e.data as Json).passport_id]),
      [["passport.issued", issued.passport_id]],
    );
    // Its own quarantine still reaches it (its key is refused, its endpoint is not).
    await quarantine(t, mine.agentId, "quarantine");
    await t.dispatcher.tick();
    assert.deepEqual(verifyAll(r, hook.secret).at(-1), {
      type: "agent.quarantined",
      timestamp: new Date(t.clock.now()).toISOString(),
      data: { agent_id: mine.agentId, automatic: false },
    });
  });

  test("score.completed: a deep assessment queues it in its own transaction", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const agent = await registerAgent(t);
    const hook = await createHook(t, agent.apiKey, {
      url: `${r.url}/score`,
      events: ["score.completed"],
    });
    const scored = await t.call("POST", "/api/score/deep", {
      headers: { "x-api-key": agent.apiKey },
      body: { description: "Books meeting rooms and finds free slots for the sales team." },
    });
    assert.equal(scored.status, 201);
    const assessmentId = String((await jsonOf(scored)).assessment_id);
    await t.dispatcher.tick();
    assert.deepEqual(
      verifyAll(r, hook.secret).map((e) => [e.type, e.data]),
      [["score.completed", { agent_id: agent.agentId, assessment_id: assessmentId }]],
    );
    // An assessment that is not stored emits nothing: the event rolls back with it.
    t.store.db.exec(
      "CREATE TEMP TRIGGER refuse_assessments BEFORE INSERT ON assessments BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    const failed = await t.call("POST", "/api/score/deep", {
      headers: { "x-api-key": agent.apiKey },
      body: { description: "Books meeting rooms and finds free slots for the sales team." },
    });
    assert.equal(failed.status, 500);
    t.store.db.exec("DROP TRIGGER refuse_assessments");
    assert.equal(
      (
        t.store.db
          .prepare("SELECT count(*) AS n FROM webhook_events WHERE type = 'score.completed'")
          .get() as { n: number }
      ).n,
      1,
    );
  });

  test("a secret that cannot be decrypted is a failed attempt, not a stalled outbox", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const agent = await registerAgent(t);
    const hook = await createHook(t, agent.apiKey, {
      url: `${r.url}/k`,
      events: ["passport.issued"],
    });
    // The sealed secret no longer opens (as if keys/webhook-secrets.key had been replaced).
    t.store.db
      .prepare("UPDATE webhook_endpoints SET secret_sealed = randomblob(60) WHERE id = ?")
      .run(hook.webhook_id);
    await issuePassport(t, agent);
    assert.equal(await t.dispatcher.tick(), 1);
    assert.equal(r.received.length, 0);
    const json = await jsonOf(
      await t.call("GET", `/api/webhooks/${hook.webhook_id}/deliveries`, {
        headers: { "x-api-key": agent.apiKey },
      }),
    );
    const log = (json.deliveries as Json[])[0]!.attempt_log as Json[];
    assert.match(String(log[0]!.error), /cannot be decrypted/);
  });

  test("a 500 is retried after the backoff, with the same webhook-id, then succeeds", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const agent = await registerAgent(t);
    const hook = await createHook(t, agent.apiKey, {
      url: `${r.url}/retry`,
      events: ["passport.issued"],
    });
    r.replies.push({ status: 500 });
    await issuePassport(t, agent);
    assert.equal(await t.dispatcher.tick(), 1);
    assert.equal(r.received.length, 1);
    assert.equal(t.store.webhooks.backlog(), 1);
    // The first retry waits 5 s ± 20%: not yet at 3 s, surely by 7 s.
    t.clock.advance(3_000);
    assert.equal(await t.dispatcher.tick(), 0);
    t.clock.advance(4_000);
    assert.equal(await t.dispatcher.tick(), 1);
    assert.equal(r.received.length, 2);
    assert.equal(r.received[0]!.headers["webhook-id"], r.received[1]!.headers["webhook-id"]);
    verifyAll(r, hook.secret);
    assert.equal(t.store.webhooks.backlog(), 0);

    const res = await t.call("GET", `/api/webhooks/${hook.webhook_id}/deliveries`, {
      headers: { "x-api-key": agent.apiKey },
    });
    const json = await jsonOf(res);
    assert.equal(res.status, 200);
    const [delivery] = json.deliveries as Json[];
    assert.equal(delivery!.type, "passport.issued");
    assert.equal(delivery!.status, "delivered");
    assert.equal(delivery!.attempts, 2);
    const log = delivery!.attempt_log as Json[];
    assert.deepEqual(
      log.map((a) => [a.attempt, a.status_code, a.error]),
      [
        [1, 500, "HTTP 500"],
        [2, 204, null],
      ],
    );
    assert.ok(
      log.every((a) => typeof a.started_at === "string" && typeof a.duration_ms === "number"),
    );
  });

  test("Retry-After is honoured", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const agent = await registerAgent(t);
    await createHook(t, agent.apiKey, { url: `${r.url}/busy`, events: ["passport.issued"] });
    r.replies.push({ status: 503, headers: { "retry-after": "120" } });
    await issuePassport(t, agent);
    await t.dispatcher.tick();
    // The schedule alone would retry within 6 s; the receiver asked for two minutes.
    t.clock.advance(60_000);
    assert.equal(await t.dispatcher.tick(), 0);
    t.clock.advance(61_000);
    assert.equal(await t.dispatcher.tick(), 1);
    assert.equal(r.received.length, 2);
  });

  test("a timeout and a connection refusal are failed attempts", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const agent = await registerAgent(t);
    const hook = await createHook(t, agent.apiKey, {
      url: `${r.url}/slow`,
      events: ["passport.issued"],
    });
    r.replies.push("hang");
    await issuePassport(t, agent);
    const quick = new WebhookDispatcher({
      repo: t.store.webhooks,
      clock: t.clock,
      logger: createLogger("silent"),
      allowPrivate: true,
      timeoutMs: 200,
    });
    await quick.tick();
    const json = await jsonOf(
      await t.call("GET", `/api/webhooks/${hook.webhook_id}/deliveries`, {
        headers: { "x-api-key": agent.apiKey },
      }),
    );
    const [delivery] = json.deliveries as Json[];
    assert.equal(delivery!.status, "pending");
    const [attempt] = delivery!.attempt_log as Json[];
    assert.equal(attempt!.status_code, null);
    assert.match(String(attempt!.error), /timed out/);
  });

  test("send time re-checks the address: a loopback URL is refused when private targets are not allowed", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const agent = await registerAgent(t);
    const hook = await createHook(t, agent.apiKey, {
      url: `${r.url}/x`,
      events: ["passport.issued"],
    });
    await issuePassport(t, agent);
    const strict = new WebhookDispatcher({
      repo: t.store.webhooks,
      clock: t.clock,
      logger: createLogger("silent"),
      allowPrivate: false,
    });
    assert.equal(await strict.tick(), 1);
    assert.equal(r.received.length, 0);
    const json = await jsonOf(
      await t.call("GET", `/api/webhooks/${hook.webhook_id}/deliveries`, {
        headers: { "x-api-key": agent.apiKey },
      }),
    );
    const log = (json.deliveries as Json[])[0]!.attempt_log as Json[];
    assert.match(String(log[0]!.error), /loopback/);
  });

  test("an endpoint is disabled once every attempt failed; the event is recorded and logged", async () => {
    r.received.length = 0;
    const t = webhookApp();
    const failing = await receiver();
    failing.fallback = { status: 500 };
    const agent = await registerAgent(t);
    const watcher = await createHook(t, ADMIN_KEY, {
      url: `${r.url}/watch`,
      events: ["endpoint.disabled"],
    });
    const hook = await createHook(t, agent.apiKey, {
      url: `${failing.url}/down`,
      events: ["passport.issued"],
    });
    await issuePassport(t, agent);
    for (let attempt = 1; attempt <= RETRY_SCHEDULE_MS.length + 1; attempt++) {
      assert.equal(await t.dispatcher.tick(), 1, `attempt ${attempt}`);
      t.clock.advance((RETRY_SCHEDULE_MS[attempt - 1] ?? 0) * 1.25);
    }
    assert.equal(failing.received.length, RETRY_SCHEDULE_MS.length + 1);
    const list = await jsonOf(
      await t.call("GET", "/api/webhooks", { headers: { "x-api-key": agent.apiKey } }),
    );
    const [view] = list.webhooks as Json[];
    assert.equal(view!.status, "disabled");
    assert.match(String(view!.disabled_reason), /every attempt/);
    const deliveries = await jsonOf(
      await t.call("GET", `/api/webhooks/${hook.webhook_id}/deliveries`, {
        headers: { "x-api-key": agent.apiKey },
      }),
    );
    const [delivery] = deliveries.deliveries as Json[];
    assert.equal(delivery!.status, "failed");
    assert.equal(delivery!.attempts, RETRY_SCHEDULE_MS.length + 1);
    assert.ok(t.dispatchLogs.some((l) => l.includes("webhook endpoint disabled")));
    // The disabling is an event: stored, and sent to an endpoint that subscribed to it.
    assert.equal(
      t.store.db
        .prepare("SELECT count(*) FROM webhook_events WHERE type = 'endpoint.disabled'")
        .pluck()
        .get(),
      1,
    );
    await t.dispatcher.tick();
    // (The clock is days ahead of real time here, so the library's freshness check would refuse it.)
    assert.equal(r.received.length, 1);
    assert.equal(r.received[0]!.path, "/watch");
    assert.ok(watcher.secret.startsWith("whsec_"));
    const [disabledEvent] = r.events();
    assert.equal(disabledEvent!.type, "endpoint.disabled");
    assert.equal((disabledEvent!.data as Json).webhook_id, hook.webhook_id);
    // A disabled endpoint receives nothing more, and cannot be pinged.
    await issuePassport(t, agent);
    assert.equal(await t.dispatcher.tick(), 0);
    const ping = await t.call("POST", `/api/webhooks/${hook.webhook_id}/test`, {
      headers: { "x-api-key": agent.apiKey },
      body: {},
    });
    assert.equal(ping.status, 409);
  });

  test("an endpoint that recovered is not disabled when an old delivery runs out", async () => {
    const t = webhookApp();
    const flaky = await receiver();
    const agent = await registerAgent(t);
    await createHook(t, agent.apiKey, { url: `${flaky.url}/f`, events: ["passport.issued"] });
    // The first event keeps failing; a later one gets through.
    flaky.fallback = { status: 500 };
    await issuePassport(t, agent);
    await t.dispatcher.tick();
    t.clock.advance(1_000);
    await issuePassport(t, agent);
    flaky.replies.push({ status: 500 }, { status: 200 });
    // The first retry of event 1 is at 4–6 s; event 2 is due now.
    await t.dispatcher.tick();
    for (let attempt = 2; attempt <= RETRY_SCHEDULE_MS.length + 1; attempt++) {
      t.clock.advance((RETRY_SCHEDULE_MS[attempt - 2] ?? 0) * 1.25);
      await t.dispatcher.tick();
    }
    const [view] = (
      await jsonOf(await t.call("GET", "/api/webhooks", { headers: { "x-api-key": agent.apiKey } }))
    ).webhooks as Json[];
    assert.equal(view!.status, "enabled");
    // One of the two ran out of attempts (the other got through): the endpoint stays enabled.
    assert.deepEqual(
      t.store.db.prepare("SELECT status FROM webhook_deliveries ORDER BY status").pluck().all(),
      ["delivered", "failed"],
    );
  });
});

describe("webhook outbox: transactional and leased", () => {
  test("the event is written in the change's transaction: a registration that fails leaves no event", async () => {
    const t = webhookApp();
    await createHook(t, ADMIN_KEY, { url: "http://127.0.0.1:9/x", events: ["agent.registered"] });
    await registerAgent(t);
    assert.equal(count(t, "webhook_events"), 1);
    // The token insert, after the agent and its event, fails: all of it rolls back.
    t.store.db.exec(
      "CREATE TEMP TRIGGER fail_token BEFORE INSERT ON verification_tokens BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    const res = await t.call("POST", "/api/register", {
      body: {
        agent_name: "doomed",
        agent_type: "assistant",
        description: "An agent whose registration fails halfway through.",
        owner_name: "Ada",
        owner_email: "ada@example.com",
      },
    });
    assert.equal(res.status, 500);
    assert.equal(count(t, "webhook_events"), 1);
    assert.equal(count(t, "webhook_deliveries"), 1);
    assert.equal(count(t, "agents"), 1);
  });

  test("and the other way round: when the outbox write fails, the change does not happen", async () => {
    const t = webhookApp();
    const agent = await registerAgent(t);
    await createHook(t, agent.apiKey, { url: "http://127.0.0.1:9/x", events: ["passport.issued"] });
    t.store.db.exec(
      "CREATE TEMP TRIGGER fail_outbox BEFORE INSERT ON webhook_deliveries BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    const res = await t.call("POST", "/api/agent/issue", {
      headers: { "x-api-key": agent.apiKey },
      body: { agent_id: agent.agentId, operator: "Acme", jurisdiction: "EU", policy: "default" },
    });
    assert.equal(res.status, 500);
    assert.equal(count(t, "passports"), 0);
    assert.equal(count(t, "webhook_events"), 0);
  });

  test("two dispatchers on one database never send a delivery twice at once", async () => {
    const t = webhookApp();
    const r = await receiver();
    r.fallback = { status: 200 };
    const agent = await registerAgent(t);
    const hook = await createHook(t, agent.apiKey, {
      url: `${r.url}/l`,
      events: ["passport.issued"],
    });
    for (let i = 0; i < 10; i++) await issuePassport(t, agent);
    const second = new WebhookDispatcher({
      repo: t.store.webhooks,
      clock: t.clock,
      logger: createLogger("silent"),
      allowPrivate: true,
      batchSize: 4,
    });
    const [a, b] = await Promise.all([t.dispatcher.tick(), second.tick()]);
    assert.equal(a + b, 10);
    assert.equal(r.received.length, 10);
    assert.equal(new Set(r.received.map((x) => x.headers["webhook-id"])).size, 10);
    verifyAll(r, hook.secret);
    // A lease taken and not released keeps others off until it runs out.
    await issuePassport(t, agent);
    const now = t.clock.now();
    assert.equal(t.store.webhooks.claim(now, now + 60_000, 10).length, 1);
    assert.equal(t.store.webhooks.claim(now, now + 60_000, 10).length, 0);
    assert.equal(t.store.webhooks.claim(now + 60_000, now + 120_000, 10).length, 1);
  });

  test("the backlog gauge counts pending deliveries", async () => {
    const t = webhookApp();
    const agent = await registerAgent(t);
    await createHook(t, agent.apiKey, { url: "http://127.0.0.1:9/x", events: ["passport.issued"] });
    await issuePassport(t, agent);
    await issuePassport(t, agent);
    const metrics = await (await t.call("GET", "/metrics")).text();
    assert.match(metrics, /aiegis_queue_length\{queue="webhook_outbox"\} 2/);
  });
});
