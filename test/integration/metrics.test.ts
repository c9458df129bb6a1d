import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Metrics } from "../../src/metrics.js";
import { jsonOf, makeTestApp, registerAgent, type TestApp } from "../helpers/test-app.js";

type Sample = { name: string; labels: Record<string, string>; value: number };

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/** Parses the Prometheus text format strictly: a line that does not parse fails the test. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      assert.match(
        line,
        new RegExp(`^# (HELP ${NAME} .*|TYPE ${NAME} (counter|gauge|histogram|summary|untyped))$`),
        line,
      );
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const [, name, labelText = "", valueText] = match;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const label = LABEL.exec(labelText);
      assert.ok(label, `bad labels in: ${line}`);
      labels[label[1]!] = label[2]!;
    }
    const value = valueText === "+Inf" ? Infinity : Number(valueText);
    assert.ok(!Number.isNaN(value), `bad value in: ${line}`);
    samples.push({ name: name!, labels, value });
  }
  return samples;
}

/** The one sample of `name` whose labels include `labels`; 0 when there is none. */
function seriesValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value ?? 0;
}

async function scrape(t: TestApp): Promise<Sample[]> {
  const res = await t.call("GET", "/metrics");
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

describe("GET /metrics", () => {
  test("answers the Prometheus text format with every gateway metric", async () => {
    const t = makeTestApp();
    const samples = await scrape(t);
    const names = new Set(samples.map((s) => s.name));
    for (const name of [
      "aiegis_protect_decisions_total",
      "aiegis_auto_quarantines_total",
      "aiegis_queue_length",
    ]) {
      assert.ok(names.has(name), `${name} missing`);
    }
    for (const decision of ["ALLOW", "WARN", "BLOCK"]) {
      assert.equal(seriesValue(samples, "aiegis_protect_decisions_total", { decision }), 0);
    }
    assert.equal(seriesValue(samples, "aiegis_queue_length", { queue: "decision_log" }), 0);
  });

  test("a protect BLOCK counts the decision and each finding by layer and code", async () => {
    const t = makeTestApp();
    const { apiKey } = await registerAgent(t);
    const res = await t.call("POST", "/api/protect", {
      headers: { "x-api-key": apiKey },
      body: { action: "read_file", target: "/etc/passwd" },
    });
    const body = await jsonOf(res);
    assert.equal(body.decision, "BLOCK");
    const threats = body.threats_found as { layer: string; code: string; severity: string }[];
    const samples = await scrape(t);
    assert.equal(seriesValue(samples, "aiegis_protect_decisions_total", { decision: "BLOCK" }), 1);
    assert.equal(seriesValue(samples, "aiegis_protect_decisions_total", { decision: "ALLOW" }), 0);
    assert.ok(threats.length > 0);
    for (const { layer, code, severity } of threats) {
      const expected = threats.filter((x) => x.layer === layer && x.code === code).length;
      assert.equal(
        seriesValue(samples, "aiegis_protect_findings_total", { layer, code, severity }),
        expected,
        `${layer}/${code}`,
      );
    }
    // The decision is queued for the log until the next batch: the gauge sees it.
    assert.equal(seriesValue(samples, "aiegis_queue_length", { queue: "decision_log" }), 1);
    assert.equal(
      seriesValue(samples, "aiegis_http_requests_total", {
        route: "/api/protect",
        method: "POST",
        status: "200",
      }),
      1,
    );
    assert.equal(
      seriesValue(samples, "aiegis_http_request_duration_seconds_count", { route: "/api/protect" }),
      1,
    );
  });

  test("auto-quarantines and DENY answers are counted", async () => {
    const t = makeTestApp({ AIEGIS_AUTO_QUARANTINE: "2/10m" });
    const { apiKey } = await registerAgent(t);
    const headers = { "x-api-key": apiKey };
    for (let i = 0; i < 3; i++) {
      await t.call("POST", "/api/protect", {
        headers,
        body: { action: "read_file", target: "/etc/shadow" },
      });
    }
    const samples = await scrape(t);
    assert.equal(seriesValue(samples, "aiegis_auto_quarantines_total"), 1);
    assert.equal(seriesValue(samples, "aiegis_protect_decisions_total", { decision: "BLOCK" }), 2);
    assert.equal(
      seriesValue(samples, "aiegis_denied_total", { code: "AGENT_QUARANTINED", status: "403" }),
      1,
    );
  });

  test("a 429 counts as rate-limited by its limiter; scrapes are never limited", async () => {
    const t = makeTestApp({ AIEGIS_RATE_LIMITS: "on", AIEGIS_RATE_LIMIT_DEFAULT: "2/1m" });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await t.call("GET", "/api/health")).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    for (let i = 0; i < 5; i++) await scrape(t);
    const samples = await scrape(t);
    assert.equal(seriesValue(samples, "aiegis_rate_limited_total", { limiter: "default" }), 1);
    assert.equal(
      seriesValue(samples, "aiegis_http_requests_total", { route: "/api/health", status: "429" }),
      1,
    );
  });

  test("routes are labelled by pattern, unknown paths and methods by a fixed label", async () => {
    const t = makeTestApp();
    await t.call("GET", "/api/nope/secret-looking-path-123");
    await t.call("POST", "/api/agents/agt_0000000000000000000000/quarantine", { body: {} });
    await t.call("BREW", "/api/health");
    const samples = await scrape(t);
    const routes = new Set(
      samples.filter((s) => s.name === "aiegis_http_requests_total").map((s) => s.labels.route),
    );
    assert.ok(routes.has("unmatched"), [...routes].join(" "));
    assert.ok(routes.has("/api/agents/:id/quarantine"), [...routes].join(" "));
    for (const route of routes) assert.doesNotMatch(String(route), /secret|agt_/);
    assert.equal(
      seriesValue(samples, "aiegis_http_requests_total", { route: "unmatched", status: "404" }),
      1,
    );
    assert.equal(
      seriesValue(samples, "aiegis_http_requests_total", { route: "/api/health", method: "OTHER" }),
      1,
    );
  });

  test("each app counts on its own registry", async () => {
    const a = makeTestApp();
    const b = makeTestApp();
    await a.call("GET", "/api/health");
    const samples = await scrape(b);
    assert.equal(seriesValue(samples, "aiegis_http_requests_total", { route: "/api/health" }), 0);
  });

  test("AIEGIS_METRICS=off answers 404 in the error envelope", async () => {
    const t = makeTestApp({ AIEGIS_METRICS: "off" });
    const res = await t.call("GET", "/metrics");
    assert.equal(res.status, 404);
    const body = await jsonOf(res);
    assert.equal(body.code, "NOT_FOUND");
    assert.equal(body.request_id, res.headers.get("x-request-id"));
  });

  test("a scrape answered elsewhere (a cluster's primary) is served as is, and its failure is a 503", async () => {
    let fail = false;
    const metrics = new Metrics({
      processMetrics: false,
      scrapeVia: (own) => async () => {
        if (fail) throw new Error("primary gone");
        return `${await own.metrics()}# from the primary\n`;
      },
    });
    const t = makeTestApp({}, { metrics });
    const ok = await t.call("GET", "/metrics");
    assert.equal(ok.status, 200);
    const text = await ok.text();
    assert.match(text, /^aiegis_protect_decisions_total\{decision="ALLOW"\} 0$/m);
    assert.match(text, /# from the primary\n$/);
    fail = true;
    const down = await t.call("GET", "/metrics");
    assert.equal(down.status, 503);
    const body = await jsonOf(down);
    assert.equal(body.code, "UNAVAILABLE");
    assert.doesNotMatch(JSON.stringify(body), /primary gone/, "the cause stays internal");
  });

  test("other methods get 405 with Allow", async () => {
    const t = makeTestApp();
    const res = await t.call("POST", "/metrics", { body: {} });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
  });
});
