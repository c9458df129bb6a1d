import type { Db } from "./db.js";

/**
 * Where a connection's view of the database stood: `others` is `PRAGMA data_version`, which
 * moves with every commit by another connection (another worker, the admin CLI, the decision
 * writer thread); `own` is `total_changes()`, every row this connection wrote. Equal marks mean
 * no write at all happened in between, so a state read under the first mark is still exact.
 */
export type ChangeMark = Readonly<{ others: number; own: number }>;

/** A reader of `db`'s current change mark (one prepared statement, about a microsecond). */
export function changeMarker(db: Db): () => ChangeMark {
  const read = db.prepare(
    "SELECT data_version AS others, total_changes() AS own FROM pragma_data_version",
  );
  return () => read.get() as ChangeMark;
}

/** True when nothing was written between the two marks. */
export function sameMark(a: ChangeMark, b: ChangeMark): boolean {
  return a.others === b.others && a.own === b.own;
}
