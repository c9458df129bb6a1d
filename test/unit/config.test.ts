import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig, parseRateRule } from "../../src/config.js";

describe("config", () => {
  test("defaults serve on 127.0.0.1:8080 with ./var and the reference's limits", () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.dataDir, "./var");
    assert.equal(config.publicUrl, "http://127.0.0.1:8080");
    assert.equal(config.adminKeyHash, null);
    assert.equal(config.maxBody, 65_536);
    assert.equal(config.rateLimits.enabled, true);
    assert.deepEqual(config.rateLimits.rules.protect, { limit: 30, windowMs: 60_000 });
    assert.deepEqual(config.rateLimits.rules.scoreDeep, { limit: 30, windowMs: 3_600_000 });
    assert.deepEqual(config.rateLimits.rules.login, { limit: 5, windowMs: 60_000 });
    assert.deepEqual(config.rateLimits.rules.register, { limit: 5, windowMs: 3_600_000 });
    assert.deepEqual(config.rateLimits.rules.default, { limit: 60, windowMs: 60_000 });
    assert.deepEqual(config.trustedProxies, []);
  });

  test("is frozen all the way down", () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.rateLimits.rules.protect));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  test("a bad value stops start-up with a message naming the variable", () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: "eighty" }, "PORT"],
      [{ PORT: "70000" }, "PORT"],
      [{ AIEGIS_MAX_BODY: "12" }, "AIEGIS_MAX_BODY"],
      [{ AIEGIS_RATE_LIMITS: "maybe" }, "AIEGIS_RATE_LIMITS"],
      [{ AIEGIS_RATE_LIMIT_LOGIN: "five a minute" }, "AIEGIS_RATE_LIMIT_LOGIN"],
      [{ AIEGIS_TRUSTED_PROXIES: "10.0.0.0/33" }, "AIEGIS_TRUSTED_PROXIES"],
      [{ AIEGIS_PUBLIC_URL: "ftp://x" }, "AIEGIS_PUBLIC_URL"],
      [{ AIEGIS_SMTP_URL: "http://mail" }, "AIEGIS_SMTP_URL"],
      [{ AIEGIS_LOG_LEVEL: "loud" }, "AIEGIS_LOG_LEVEL"],
      [{ AIEGIS_METRICS: "yes" }, "AIEGIS_METRICS"],
    ];
    for (const [env, name] of cases) {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && err.message.includes(`${name}:`),
        name,
      );
    }
  });

  test("AIEGIS_METRICS is on by default, and on or off when set", () => {
    assert.equal(loadConfig({}).metrics, true);
    assert.equal(loadConfig({ AIEGIS_METRICS: "on" }).metrics, true);
    assert.equal(loadConfig({ AIEGIS_METRICS: "off" }).metrics, false);
    assert.equal(loadConfig({ AIEGIS_METRICS: "" }).metrics, true);
  });

  test("a short admin key is refused without echoing it", () => {
    const secret = "short-secret-value";
    assert.throws(
      () => loadConfig({ AIEGIS_ADMIN_KEY: secret }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes("AIEGIS_ADMIN_KEY") &&
        !err.message.includes(secret),
    );
  });

  test("keeps only the hash of the admin key", () => {
    const key = "k".repeat(40);
    const config = loadConfig({ AIEGIS_ADMIN_KEY: key });
    assert.equal(config.adminKeyHash?.length, 32);
    assert.ok(!JSON.stringify(config).includes(key));
  });

  test("an empty assignment means unset; public URL follows HOST and PORT", () => {
    const config = loadConfig({ AIEGIS_SMTP_URL: "", PORT: "9000", HOST: "::1" });
    assert.equal(config.smtpUrl, null);
    assert.equal(config.publicUrl, "http://[::1]:9000");
    assert.equal(
      loadConfig({ AIEGIS_PUBLIC_URL: "https://gw.example.com/" }).publicUrl,
      "https://gw.example.com",
    );
  });

  test("rate rules parse counts and windows", () => {
    assert.deepEqual(parseRateRule("30/1m"), { limit: 30, windowMs: 60_000 });
    assert.deepEqual(parseRateRule("5/h"), { limit: 5, windowMs: 3_600_000 });
    assert.deepEqual(parseRateRule("100/10s"), { limit: 100, windowMs: 10_000 });
    for (const bad of [
      "",
      "30",
      "/1m",
      "x/1m",
      "0/1m",
      "5/0m",
      "5/1w",
      "5/8d",
      "-1/1m",
      "1.5/1m",
    ]) {
      assert.equal(parseRateRule(bad), null, bad);
    }
  });
});

describe("config > AIEGIS_WORKERS", () => {
  test("defaults to one process; accepts 1 to 64", () => {
    assert.equal(loadConfig({}).workers, 1);
    assert.equal(loadConfig({ AIEGIS_WORKERS: "4" }).workers, 4);
    assert.equal(loadConfig({ AIEGIS_WORKERS: "64" }).workers, 64);
  });
  test("refuses 0, more than 64 and non-integers, naming the variable", () => {
    for (const value of ["0", "65", "two", "1.5", "-1"]) {
      assert.throws(() => loadConfig({ AIEGIS_WORKERS: value }), /AIEGIS_WORKERS/, value);
    }
  });
});
