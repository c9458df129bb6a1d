import type { KeyObject } from "node:crypto";
import type { Clock } from "../clock.js";
import { nativePublicKey } from "./ed25519.js";
import type { Keyring } from "./signing-keys.js";

/** An unknown kid re-reads the keys directory at most this often (another worker may have rotated). */
const KEY_REFRESH_INTERVAL_MS = 1_000;

/**
 * The keyring's public keys as native KeyObjects, by kid, for verifying what the gateway signed
 * (passports, access tokens). An unknown kid re-reads the keys directory, at most once a second.
 */
export class VerificationKeys {
  readonly #keyring: Keyring;
  readonly #clock: Clock;
  readonly #objects = new Map<string, KeyObject>();
  #lastRefresh = Number.NEGATIVE_INFINITY;

  constructor(keyring: Keyring, clock: Clock) {
    this.#keyring = keyring;
    this.#clock = clock;
  }

  /**
   * Re-reads the key directory; an unreadable directory or key file keeps the keys already
   * loaded (the gateway's periodic reload logs the error) rather than failing the request.
   */
  refresh(): boolean {
    try {
      return this.#keyring.refresh?.() ?? false;
    } catch {
      return false;
    }
  }

  /** The public key with this kid, or undefined when the gateway does not know it. */
  keyFor(kid: string): KeyObject | undefined {
    const known = this.#objects.get(kid);
    if (known !== undefined) return known;
    let key = this.#keyring.all.find((k) => k.kid === kid);
    const now = this.#clock.now();
    if (
      key === undefined &&
      this.#keyring.refresh &&
      now - this.#lastRefresh >= KEY_REFRESH_INTERVAL_MS
    ) {
      this.#lastRefresh = now;
      if (this.refresh()) key = this.#keyring.all.find((k) => k.kid === kid);
    }
    if (key === undefined) return undefined;
    const object = nativePublicKey(key.publicKey);
    this.#objects.set(kid, object);
    return object;
  }
}
