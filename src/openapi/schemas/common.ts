import { z } from "zod";

/** An ISO 8601 UTC timestamp as every response writes it (`Date#toISOString`). */
export const isoTime = () => z.iso.datetime();

/** A gateway id: a prefix, an underscore and base62 (e.g. `agt_4Ud5Db2CWDlZNQ4gc6NevQ`). */
export const idOf = (prefix: string) => z.string().startsWith(`${prefix}_`);

/** An opaque page cursor to pass back as `cursor`; null on the last page. */
export const nextCursor = () => z.string().nullable();
