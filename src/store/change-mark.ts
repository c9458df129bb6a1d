import type { Db } from "./db.js";

/**
 * Where a connection's view of the database stood: `others` is `PRAGMA data_version`, which
 * moves with every commit by another connection (another worker, the admin CLI, the decision
 * writer thread); `own` is `total_changes()`, every row this connection wrote. Equal marks mean
 * no write at all happened in between, so a state read under the first mark is still exact.
 */
export type ChangeMark = Readonly<{ others: number; own: number }>;

/** A reader of `db`'s current change mark (two trivial prepared statements, 1–2 µs). */
export function changeMarker(db: Db): () => ChangeMark {
  // Two statements rather than one over the pragma_data_version table: that table prepares
  // its PRAGMA again on every call, about 30 µs inside a busy server.
  const dataVersion = db.prepare("PRAGMA data_version").pluck();
  const totalChanges = db.prepare("SELECT total_changes()").pluck();
  return () => ({ others: dataVersion.get() as number, own: totalChanges.get() as number });
}

/** True when nothing was written between the two marks. */
export function sameMark(a: ChangeMark, b: ChangeMark): boolean {
  return a.others === b.others && a.own === b.own;
}

/** Entries remembered per process; past this the oldest is forgotten (a lookup refills it). */
const MAX_CACHED_ENTRIES = 10_000;

/**
 * Lookups by key remembered while the database's change mark stays where it was read: any write
 * anywhere (a revocation, a quarantine, another worker's or the admin CLI's commit) empties it,
 * so what it answers is always what the database would. Bypassed inside transactions, where a
 * row read could still be rolled back without moving the mark.
 */
export class MarkedCache<T> {
  readonly #db: Db;
  readonly #changeMark: () => ChangeMark;
  readonly #entries = new Map<string, T>();
  #cachedAt: ChangeMark = { others: -1, own: -1 };

  constructor(db: Db) {
    this.#db = db;
    this.#changeMark = changeMarker(db);
  }

  /** The cached value for `key`, else `lookup()` (remembered unless undefined). */
  get(key: string, lookup: () => T | undefined): T | undefined {
    if (this.#db.inTransaction) return lookup();
    const mark = this.#changeMark();
    if (!sameMark(mark, this.#cachedAt)) {
      this.#entries.clear();
      this.#cachedAt = mark;
    }
    const cached = this.#entries.get(key);
    if (cached !== undefined) return cached;
    const found = lookup();
    if (found === undefined) return undefined;
    if (this.#entries.size >= MAX_CACHED_ENTRIES) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, found);
    return found;
  }
}
