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
