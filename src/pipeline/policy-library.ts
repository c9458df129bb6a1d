import defaultBundle from "../../data/policies/default.json" with { type: "json" };
import euStrictBundle from "../../data/policies/eu-strict.json" with { type: "json" };
import readOnlyBundle from "../../data/policies/read-only.json" with { type: "json" };
import {
  bundleHash,
  type CompiledPolicy,
  compileValidated,
  PolicyBundleSchema,
} from "./policy-bundle.js";

/** The bundles shipped in data/policies/, by the name a passport request uses. */
export const NAMED_BUNDLES: Readonly<Record<string, unknown>> = Object.freeze({
  default: defaultBundle,
  "read-only": readOnlyBundle,
  "eu-strict": euStrictBundle,
});

/** How many distinct inline bundles stay compiled; the named ones are always kept. */
const MAX_COMPILED = 1_024;

/**
 * Compiled policy bundles: the named ones at start-up, inline ones (from passports) on first
 * sight. Each distinct bundle is compiled once and found again by its hash, so a protect call
 * with a passport never compiles RE2 patterns.
 */
export class PolicyLibrary {
  readonly #named = new Map<string, CompiledPolicy>();
  readonly #byHash = new Map<string, CompiledPolicy>();

  /** Validates and compiles every named bundle; throws (at start-up) when one is invalid. */
  constructor(defaultPolicy?: CompiledPolicy) {
    for (const [name, raw] of Object.entries(NAMED_BUNDLES)) {
      const bundle = PolicyBundleSchema.parse(raw);
      const hash = bundleHash(bundle);
      const compiled =
        name === "default" && defaultPolicy?.hash === hash
          ? defaultPolicy
          : compileValidated(bundle, hash);
      this.#named.set(name, compiled);
    }
  }

  /** The shipped bundle called `name`, or undefined. */
  named(name: string): CompiledPolicy | undefined {
    return this.#named.get(name);
  }

  /** The names of the shipped bundles. */
  get names(): string[] {
    return [...this.#named.keys()];
  }

  /**
   * Validates an inline bundle with the same schema as the files and returns it compiled,
   * from the cache when a bundle with the same hash was seen. Throws a ZodError when invalid.
   */
  resolve(input: unknown): CompiledPolicy {
    const bundle = PolicyBundleSchema.parse(input);
    const hash = bundleHash(bundle);
    for (const named of this.#named.values()) if (named.hash === hash) return named;
    const cached = this.#byHash.get(hash);
    if (cached !== undefined) return cached;
    if (this.#byHash.size >= MAX_COMPILED) {
      const oldest = this.#byHash.keys().next();
      if (!oldest.done) this.#byHash.delete(oldest.value);
    }
    const compiled = compileValidated(bundle, hash);
    this.#byHash.set(hash, compiled);
    return compiled;
  }
}
