import assert from "node:assert/strict";
import type { Worker } from "node:cluster";
import { EventEmitter } from "node:events";
import { describe, test } from "node:test";
import { RateLimitClient, rateLimitServer } from "../../src/cluster-rate-limit.js";
import { GatewayError } from "../../src/errors.js";
import { FakeClock } from "../helpers/test-app.js";

/** A worker process and the primary's handle on it, joined by an in-memory channel. */
function channel() {
  const workerSide = new EventEmitter() as EventEmitter & { send?: (m: unknown) => boolean };
  const primarySide = new EventEmitter() as EventEmitter & {
    send: (m: unknown) => boolean;
    isConnected: () => boolean;
  };
  workerSide.send = (m) => {
    setImmediate(() => primarySide.emit("message", structuredClone(m)));
    return true;
  };
  primarySide.send = (m) => {
    setImmediate(() => workerSide.emit("message", structuredClone(m)));
    return true;
  };
  primarySide.isConnected = () => true;
  return { workerSide, primarySide: primarySide as unknown as Worker };
}

describe("cluster rate limits", () => {
  test("two workers share one count: the limit is admitted once, not once per worker", async () => {
    const server = rateLimitServer({ default: { limit: 5, windowMs: 60_000 } }, new FakeClock(0));
    const a = channel();
    const b = channel();
    server.attach(a.primarySide);
    server.attach(b.primarySide);
    const stores = [
      new RateLimitClient(a.workerSide).store("default"),
      new RateLimitClient(b.workerSide).store("default"),
    ];
    const hits: number[] = [];
    for (let i = 0; i < 10; i++) hits.push((await stores[i % 2]!.increment("1.2.3.4")).totalHits);
    assert.deepEqual(hits.slice(0, 5), [1, 2, 3, 4, 5]);
    assert.ok(
      hits.slice(5).every((h) => h > 5),
      hits.join(","),
    );
    assert.equal((await stores[0]!.increment("5.6.7.8")).totalHits, 1, "other clients apart");
    server.shutdown();
  });

  test("an unknown limiter counts as over the limit (fail closed)", async () => {
    const server = rateLimitServer({}, new FakeClock(0));
    const a = channel();
    server.attach(a.primarySide);
    const info = await new RateLimitClient(a.workerSide).store("nope").increment("k");
    assert.ok(info.totalHits > 1_000_000);
    server.shutdown();
  });

  test("no answer from the primary is a 503, never an admitted request", async () => {
    const silent = new EventEmitter() as EventEmitter & { send?: (m: unknown) => boolean };
    silent.send = () => true;
    const store = new RateLimitClient(silent, 10).store("default");
    await assert.rejects(
      Promise.resolve(store.increment("k")),
      (err) => err instanceof GatewayError && err.code === "UNAVAILABLE",
    );
    const closed = new EventEmitter() as EventEmitter & { send?: (m: unknown) => boolean };
    closed.send = () => {
      throw new Error("channel closed");
    };
    await assert.rejects(
      Promise.resolve(new RateLimitClient(closed).store("default").increment("k")),
      (err) => err instanceof GatewayError && err.code === "UNAVAILABLE",
    );
  });
});
