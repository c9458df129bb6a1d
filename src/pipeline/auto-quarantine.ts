import type { ClientRateLimitInfo } from "hono-rate-limiter";
import type { Clock } from "../clock.js";
import type { RateRule } from "../config.js";
import { SlidingWindowStore } from "../middleware/rate-limit.js";

/** What AutoQuarantine counts with: a sliding window, local or in the cluster's primary. */
export type BlockCounter = Readonly<{
  increment(key: string): ClientRateLimitInfo | Promise<ClientRateLimitInfo>;
  resetKey(key: string): void | Promise<void>;
  shutdown?: () => void;
}>;

/**
 * Counts BLOCK decisions per agent in a sliding window; `recordBlock` says when the agent
 * has reached the threshold and must be quarantined. Counts live in memory: a restart
 * forgives earlier BLOCKs (the decision log keeps them).
 */
export class AutoQuarantine {
  readonly #window: BlockCounter;
  readonly #rule: RateRule;

  /** `counter`: where BLOCKs are counted; in memory unless shared (cluster workers). */
  constructor(rule: RateRule, clock: Clock, counter?: BlockCounter) {
    this.#rule = rule;
    if (counter === undefined) {
      const local = new SlidingWindowStore(rule, clock);
      local.init();
      this.#window = local;
    } else {
      this.#window = counter;
    }
  }

  /**
   * Records one BLOCK; true when this one brings the agent to the threshold. Synchronous with
   * the in-memory counter; a promise when the count is shared with other processes.
   */
  recordBlock(agentId: string): boolean | Promise<boolean> {
    const counted = this.#window.increment(agentId);
    if (counted instanceof Promise) return counted.then((info) => this.#reached(agentId, info));
    return this.#reached(agentId, counted);
  }

  #reached(agentId: string, { totalHits }: ClientRateLimitInfo): boolean {
    if (totalHits < this.#rule.limit) return false;
    void this.#window.resetKey(agentId);
    return true;
  }

  describe(): string {
    return `${this.#rule.limit} BLOCK decisions within ${this.#rule.windowMs / 60_000} min`;
  }

  close(): void {
    this.#window.shutdown?.();
  }
}
