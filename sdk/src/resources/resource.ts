import type { Transport } from "../transport.js";

/** A group of endpoints sharing the client's transport. */
export abstract class Resource {
  protected readonly transport: Transport;

  constructor(transport: Transport) {
    this.transport = transport;
  }
}

/** One path segment, escaped: ids come from callers and must not change the path. */
export const seg = (value: string): string => encodeURIComponent(value);

/** A page of a cursor-paged list; pass `next_cursor` back as `cursor` (null on the last page). */
export type PageQuery = Readonly<{ limit?: number; cursor?: string }>;
