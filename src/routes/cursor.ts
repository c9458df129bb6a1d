import { GatewayError } from "../errors.js";

/** An opaque page cursor: a letter naming the listing and a row's seq, base64url. */
export function cursorOf(letter: string, seq: number): string {
  return Buffer.from(`${letter}${seq}`).toString("base64url");
}

/**
 * The seq of a cursor this API returned for the listing `letter`; anything else (another
 * listing's cursor, an edited or non-canonical one) is 400 VALIDATION_FAILED on `cursor`.
 */
export function seqOf(letter: string, cursor: string): number {
  const decoded = Buffer.from(cursor, "base64url").toString("latin1");
  const seq = Number(decoded.slice(1));
  if (
    decoded[0] !== letter ||
    !Number.isSafeInteger(seq) ||
    seq < 0 ||
    cursorOf(letter, seq) !== cursor
  ) {
    throw new GatewayError("VALIDATION_FAILED", "Validation failed: invalid query", [
      { field: "cursor", message: "is not a cursor this API returned" },
    ]);
  }
  return seq;
}

/** Where a listing starts: after the cursor's seq, or from the beginning without one. */
export function afterCursor(letter: string, cursor: string | undefined): number {
  return cursor === undefined ? 0 : seqOf(letter, cursor);
}

/**
 * A page of a listing fetched with one row too many (that row tells whether another page exists
 * without a COUNT): the first `limit` rows and the cursor of the next page, or null.
 */
export function paged<T extends Readonly<{ seq: number }>>(
  rows: readonly T[],
  limit: number,
  letter: string,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    page,
    nextCursor: rows.length > limit && last !== undefined ? cursorOf(letter, last.seq) : null,
  };
}
