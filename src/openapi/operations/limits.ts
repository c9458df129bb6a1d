/** Body size limits of the routes' JSON readers (see src/app.ts), for the docs. */
export const BODY_LIMIT = {
  /** ctx.publicBody: 2,000 bytes. */
  public: 2_000,
  /** ctx.protectBody: AIEGIS_MAX_BODY, 64 KiB by default. */
  protect: 65_536,
  passport: 16_384,
  score: 32_768,
} as const;
