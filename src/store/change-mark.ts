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
