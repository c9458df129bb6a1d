import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Keyring } from "../crypto/signing-keys.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { type AuditVerdict, verifyAuditLog } from "./verify.js";

const DAY_MS = 86_400_000;

/** Verifies the store's audit log against every signing key the keyring knows. */
export function verifyStoredLog(store: Store, keyring: Keyring): AuditVerdict {
  try {
    // Another process may have rotated the signing key since this one loaded its keys.
    keyring.refresh?.();
  } catch {
    // Keep the keys already loaded; a checkpoint by an unknown key is then reported as such.
  }
  return verifyAuditLog({
    rows: store.audit.rows(),
    checkpoints: store.audit.checkpoints(),
    publicKey: (kid) => keyring.all.find((k) => k.kid === kid)?.publicKey,
  });
}

export type AuditJobs = Readonly<{
  /** Signs the checkpoints that are due (every N entries). */
  checkpoint(): void;
  /** Deletes entries past retention, up to a checkpoint. */
  prune(): void;
  /** Stops the timers and signs a checkpoint at the current head (shutdown). */
  close(): void;
}>;

/**
 * The audit log's main-thread housekeeping: checkpoints every few seconds (entries are
 * appended by the writer thread, which holds no signing key) and pruning every hour. The
 * timers are unref'd: they never keep the process alive. Errors are logged, never thrown.
 */
export function startAuditJobs(
  deps: Readonly<{
    store: Store;
    keyring: Keyring;
    clock: Clock;
    config: Config;
    logger: Logger;
  }>,
  options: Readonly<{ checkpointMs?: number; pruneMs?: number }> = {},
): AuditJobs {
  const { store, keyring, clock, config, logger } = deps;
  const sign = (final: boolean) => {
    try {
      // Under decision load the writer thread signs as it appends; asking first keeps this
      // thread from queueing behind its write lock for nothing.
      if (!store.audit.checkpointDue(config.audit.checkpointEvery, final)) return;
      const made = store.audit.checkpoint({
        key: keyring.active,
        issuer: config.publicUrl,
        now: clock.now(),
        every: config.audit.checkpointEvery,
        final,
      });
      const last = made.at(-1);
      if (last !== undefined) {
        logger.info({ size: last.size, kid: last.kid, made: made.length }, "audit checkpoint");
      }
    } catch (err) {
      logger.error({ err }, "audit checkpoint failed");
    }
  };
  const prune = () => {
    try {
      // Only what a checkpoint covers can be pruned: sign the due ones first.
      sign(false);
      const result = store.audit.prune(clock.now(), config.audit.retentionDays * DAY_MS);
      if (result.deleted > 0) logger.info(result, "audit log pruned");
    } catch (err) {
      logger.error({ err }, "audit log pruning failed");
    }
  };
  const checkpointTimer = setInterval(() => sign(false), options.checkpointMs ?? 5_000);
  checkpointTimer.unref();
  const pruneTimer = setInterval(prune, options.pruneMs ?? 3_600_000);
  pruneTimer.unref();
  setImmediate(prune).unref();
  return Object.freeze({
    checkpoint: () => sign(false),
    prune,
    close: () => {
      clearInterval(checkpointTimer);
      clearInterval(pruneTimer);
      sign(true);
    },
  });
}
