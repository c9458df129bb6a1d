import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { blockedAddressReason, guardedLookup, hostOf, type Resolver } from "./url-guard.js";

/** What one POST came to: a status (any) or an error before one arrived. */
export type PostResult = Readonly<{
  statusCode: number | null;
  error: string | null;
  /** The receiver's Retry-After header, as sent. */
  retryAfter: string | null;
}>;

export type PostOptions = Readonly<{
  timeoutMs: number;
  /** AIEGIS_WEBHOOK_ALLOW_PRIVATE: skip the address checks (tests, private deployments). */
  allowPrivate: boolean;
  resolve?: Resolver;
}>;

/** How much of an error message is kept with an attempt. */
const MAX_ERROR = 200;

const clip = (text: string) => (text.length > MAX_ERROR ? `${text.slice(0, MAX_ERROR)}…` : text);

/**
 * POSTs `body` to `url` once: no redirects followed (a 3xx is a failure, and following one
 * could lead anywhere), a hard timeout over the whole exchange, the response body discarded.
 * Unless private targets are allowed, the address is checked again here, at connect time.
 */
export function postWebhook(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  options: PostOptions,
): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const fail = (message: string) =>
      settle({ statusCode: null, error: clip(message), retryAfter: null });
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      fail("invalid URL");
      return;
    }
    const host = hostOf(target);
    if (!options.allowPrivate && isIP(host) !== 0) {
      const why = blockedAddressReason(host);
      if (why !== null) {
        fail(`webhook host is a ${why} address`);
        return;
      }
    }
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(target, {
      method: "POST",
      // A fresh connection per attempt: each one goes through the guarded lookup.
      agent: false,
      lookup: options.allowPrivate ? undefined : guardedLookup(options.resolve),
      headers: {
        ...headers,
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": "aiegis-webhooks/1",
      },
    });
    timer = setTimeout(
      () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on("response", (res) => {
      const retryAfter = res.headers["retry-after"];
      settle({
        statusCode: res.statusCode ?? null,
        error: null,
        retryAfter: typeof retryAfter === "string" ? retryAfter : null,
      });
      // The answer's body is not needed; drop the connection rather than read it.
      res.destroy();
    });
    req.on("error", (err) => fail(err.message));
    req.end(body);
  });
}
