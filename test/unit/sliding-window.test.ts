import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { SlidingWindowStore } from "../../src/middleware/rate-limit.js";

describe("SlidingWindowStore", () => {
  test("no window of windowMs ever admits more than the limit (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 10, max: 5_000 }),
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 200 }),
        (limit, windowMs, gaps) => {
          let now = 0;
          const store = new SlidingWindowStore({ limit, windowMs }, { now: () => now });
          const admitted: number[] = [];
          for (const gap of gaps) {
            now += gap;
            if (store.increment("k").totalHits <= limit) admitted.push(now);
          }
          for (let i = 0; i + limit < admitted.length; i++) {
            assert.ok(
              admitted[i + limit]! - admitted[i]! >= windowMs,
              `${limit + 1} admitted within ${windowMs} ms: ${admitted.slice(i, i + limit + 1)}`,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("admits again as soon as the oldest hit leaves the window, and says when", () => {
    let now = 1_000;
    const store = new SlidingWindowStore({ limit: 2, windowMs: 100 }, { now: () => now });
    assert.equal(store.increment("k").totalHits, 1);
    now = 1_050;
    assert.equal(store.increment("k").totalHits, 2);
    const blocked = store.increment("k");
    assert.equal(blocked.totalHits, 3);
    assert.equal(blocked.resetTime?.getTime(), 1_100);
    now = 1_100;
    assert.equal(store.increment("k").totalHits, 2);
  });

  test("keys are independent and idle keys are swept", () => {
    let now = 0;
    const store = new SlidingWindowStore({ limit: 1, windowMs: 10 }, { now: () => now });
    assert.equal(store.increment("a").totalHits, 1);
    assert.equal(store.increment("b").totalHits, 1);
    assert.equal(store.increment("a").totalHits, 2);
    now = 10;
    store.sweep();
    assert.equal(store.size, 0);
  });
});
