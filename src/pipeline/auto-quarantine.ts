import type { Clock } from "../clock.js";
import type { RateRule } from "../config.js";
import { SlidingWindowStore } from "../middleware/rate-limit.js";

/**
 * Counts BLOCK decisions per agent in a sliding window; `recordBlock` says when the agent
 * has reached the threshold and must be quarantined. Counts live in memory: a restart
 * forgives earlier BLOCKs (the decision log keeps them).
 */
export class AutoQuarantine {
  readonly #window: SlidingWindowStore;
  readonly #rule: RateRule;

  constructor(rule: RateRule, clock: Clock) {
    this.#rule = rule;
    this.#window = new SlidingWindowStore(rule, clock);
    this.#window.init();
  }

  /** Records one BLOCK; true when this one brings the agent to the threshold. */
  recordBlock(agentId: string): boolean {
    const { totalHits } = this.#window.increment(agentId);
    if (totalHits < this.#rule.limit) return false;
    this.#window.resetKey(agentId);
    return true;
  }

  describe(): string {
    return `${this.#rule.limit} BLOCK decisions within ${this.#rule.windowMs / 60_000} min`;
  }

  close(): void {
    this.#window.shutdown();
  }
}
