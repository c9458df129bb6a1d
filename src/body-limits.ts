/** JSON body size limits in bytes, one place for the routes' readers and the API docs. */
export const BODY_LIMIT = {
  /** Every body but the ones below. */
  public: 2_000,
  /** /api/protect by default; AIEGIS_MAX_BODY changes it. */
  protect: 65_536,
  /** Bodies that carry a passport (up to 8 KiB) or an inline policy bundle. */
  passport: 16_384,
  /**
   * Scoring bodies: a 2000-character description may take 6 bytes a character once
   * JSON-escaped, and the deep tier adds tool names, data categories and deployment facts.
   */
  score: 32_768,
} as const;
