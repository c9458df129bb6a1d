import { getPath } from "hono/utils/url";

/** The versioned API's prefix: /api/v1/X is the same handler as /api/X. */
export const V1_PREFIX = "/api/v1/";

/**
 * Hono's path reader, with /api/v1/X routed as /api/X and /api/v1/registry/X as /registry/X:
 * one route table serves both, so an alias can never drift from its original. Only the error
 * rendering differs, chosen from the URL (see `isV1Url`).
 */
export function routedPath(request: Request): string {
  const path = getPath(request);
  if (!path.startsWith(V1_PREFIX)) return path;
  const rest = path.slice(V1_PREFIX.length - 1);
  return rest.startsWith("/registry/") ? rest : `/api${rest}`;
}

/** True when the request came in under /api/v1/ (read from the URL when asked, never stored). */
export function isV1(c: Readonly<{ req: Readonly<{ url: string }> }>): boolean {
  return isV1Url(c.req.url);
}

/** True when the URL's path is under /api/v1/. */
export function isV1Url(url: string): boolean {
  const scheme = url.indexOf("://");
  const pathStart = url.indexOf("/", scheme === -1 ? 0 : scheme + 3);
  return pathStart !== -1 && url.startsWith(V1_PREFIX, pathStart);
}
