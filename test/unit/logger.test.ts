import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { accessLogger, createLogger } from "../../src/logger.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger("info", {
    write: (line: string) => void lines.push(JSON.parse(line)),
  });
  return { logger, lines };
}

describe("logger", () => {
  test("secrets that reach a log call are censored, at the top level and one level down", () => {
    const { logger, lines } = capture();
    logger.info({ api_key: "ak_secret", req: { headers: { authorization: "Bearer t" } } }, "x");
    logger.info({ agent: { token: "tok", password: "pw" } }, "y");
    assert.equal(lines[0]?.api_key, "[redacted]");
    assert.deepEqual(lines[0]?.req, { headers: { authorization: "[redacted]" } });
    assert.deepEqual(lines[1]?.agent, { token: "[redacted]", password: "[redacted]" });
  });

  test("lines carry an ISO time that moves with the clock, the service and the level", async () => {
    const { logger, lines } = capture();
    logger.info("first");
    await new Promise((wake) => setTimeout(wake, 5));
    logger.info("second");
    const [first, second] = lines.map((line) => line.time as string);
    assert.match(first ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(second ?? "") > Date.parse(first ?? ""), "not frozen at the first stamp");
    assert.ok(Math.abs(Date.parse(second ?? "") - Date.now()) < 1_000);
    assert.equal(lines[0]?.service, "aiegis");
    assert.equal(lines[0]?.level, "info");
  });

  test("the access logger writes to the same place with the same fields, without the redaction pass", () => {
    const { logger, lines } = capture();
    const access = accessLogger(logger);
    access.info({ req_id: "req_1", path: "/api/protect", status: 200 }, "request");
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.service, "aiegis");
    assert.equal(lines[0]?.path, "/api/protect");
    // The parent keeps redacting after a child without redaction was made from it.
    logger.info({ token: "t" }, "z");
    assert.equal(lines[1]?.token, "[redacted]");
  });
});
