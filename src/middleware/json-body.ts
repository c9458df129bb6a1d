import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.js";
import { GatewayError } from "../errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function tooLarge(limit: number): GatewayError {
  return new GatewayError("PAYLOAD_TOO_LARGE", "Body too large", undefined, { limit });
}

function isJsonMediaType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const [mediaType = "", ...params] = contentType.split(";");
  const type = mediaType.trim().toLowerCase();
  if (type !== "application/json" && !(type.startsWith("application/") && type.endsWith("+json"))) {
    return false;
  }
  // JSON is UTF-8 (RFC 8259); any other declared charset is a client bug worth a clear 415.
  for (const param of params) {
    const [name = "", value = ""] = param.split("=");
    if (name.trim().toLowerCase() === "charset") {
      const charset = value.trim().replaceAll('"', "").toLowerCase();
      if (charset !== "utf-8" && charset !== "utf8") return false;
    }
  }
  return true;
}

/** Reads a body stream, giving up with 413 as soon as it passes `limit` bytes (chunked too). */
async function readLimited(stream: ReadableStream<Uint8Array>, limit: number): Promise<Buffer> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Reads and parses a JSON request body of at most `limit` bytes into `c.var.body`
 * (undefined when there is none). Every failure is a 4xx in the error envelope.
 */
export function jsonBody(limit: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const req = c.req.raw;
    const declared = req.headers.get("content-length");
    if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
    let body: unknown;
    if (req.body !== null && declared !== "0") {
      const bytes = await readLimited(req.body, limit);
      if (bytes.byteLength > 0) {
        if (!isJsonMediaType(req.headers.get("content-type"))) {
          throw new GatewayError(
            "UNSUPPORTED_MEDIA_TYPE",
            "Request body must be JSON (Content-Type: application/json)",
          );
        }
        let text: string;
        try {
          text = utf8.decode(bytes);
        } catch {
          throw new GatewayError("INVALID_UTF8", "Request body is not valid UTF-8");
        }
        try {
          body = JSON.parse(text);
        } catch {
          throw new GatewayError("MALFORMED_JSON", "Malformed JSON body");
        }
      }
    }
    c.set("body", body);
    await next();
  };
}
