import type { WebhookEventType } from "./resources/webhooks.js";

/** The `data` of each event type the gateway sends (ids and timestamps, never secrets). */
export type WebhookEventData = {
  "agent.registered": { agent_id: string };
  "agent.verified": { agent_id: string };
  "agent.quarantined": { agent_id: string; automatic: boolean };
  "agent.unquarantined": { agent_id: string; automatic: boolean };
  "passport.issued": { agent_id: string; passport_id: string; expires_at: string };
  "passport.revoked": { agent_id: string; passport_id: string; revocation_id: number };
  "protect.blocked": ProtectEventData;
  "protect.warned": ProtectEventData;
  "score.completed": { agent_id: string; assessment_id: string };
  "endpoint.disabled": { webhook_id: string; agent_id: string | null; disabled_at: string };
  ping: { webhook_id: string };
};

type ProtectEventData = {
  agent_id: string;
  request_id: string;
  decision: "BLOCK" | "WARN";
  policy_id: string;
  passport_id: string | null;
};

/** A verified event, discriminated on `type`. */
export type WebhookEvent = {
  [T in WebhookEventType | "ping"]: Readonly<{
    type: T;
    timestamp: string;
    data: Readonly<WebhookEventData[T]>;
  }>;
}[WebhookEventType | "ping"];

/** Headers as a fetch `Headers`, or a plain object (Node's `req.headers`, any case). */
export type WebhookHeaders =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export type VerifyWebhookOptions = Readonly<{
  /** How far `webhook-timestamp` may be from now, either way (replay window). Default 300. */
  toleranceSeconds?: number;
  /** "Now", for tests: a Date or epoch milliseconds. */
  now?: Date | number;
}>;

/** The delivery is not authentic, not fresh, or not well formed. */
export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

const SECRET_PREFIX = "whsec_";
const encoder = new TextEncoder();

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === "string") return value;
    if (Array.isArray(value) && typeof value[0] === "string") return value.join(" ");
  }
  return undefined;
}

function base64Bytes(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** A copy on a fresh ArrayBuffer, the BufferSource WebCrypto's typings ask for. */
const owned = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/**
 * Verifies a delivery as Standard Webhooks specifies: an HMAC-SHA256, keyed with the base64
 * part of the `whsec_…` secret, over `${webhook-id}.${webhook-timestamp}.${payload}`, matching
 * one of the space-separated `v1,<base64>` signatures, with a timestamp within the tolerance.
 * Pass the raw body exactly as received, before any JSON parsing. Resolves with the parsed
 * event, or rejects with WebhookVerificationError.
 *
 * WebCrypto rather than node:crypto: it is the same API on Node 20+, Deno, Bun and edge
 * runtimes (where webhook receivers often run), and `subtle.verify` compares the MAC in
 * constant time itself, so no hand-written comparison can leak timing.
 */
export async function verifyWebhook(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("Missing required headers");
  }
  if (!/^\d{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError("Invalid Signature Headers");
  }
  const tolerance = options.toleranceSeconds ?? 300;
  const nowMs = options.now === undefined ? Date.now() : Number(options.now);
  const age = Math.floor(nowMs / 1000) - Number(timestamp);
  if (age > tolerance) throw new WebhookVerificationError("Message timestamp too old");
  if (age < -tolerance) throw new WebhookVerificationError("Message timestamp too new");

  const keyBytes = base64Bytes(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
  );
  if (keyBytes === undefined || keyBytes.length === 0) {
    throw new TypeError("The webhook secret must be whsec_ followed by base64");
  }
  const key = await crypto.subtle.importKey(
    "raw",
    owned(keyBytes),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const signed = concat(encoder.encode(`${id}.${timestamp}.`), body);
  for (const entry of signatures.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma === -1 || entry.slice(0, comma) !== "v1") continue;
    const mac = base64Bytes(entry.slice(comma + 1));
    if (mac === undefined) continue;
    if (await crypto.subtle.verify("HMAC", key, owned(mac), signed)) {
      const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
      try {
        return JSON.parse(text) as WebhookEvent;
      } catch {
        throw new WebhookVerificationError("Payload is not JSON");
      }
    }
  }
  throw new WebhookVerificationError("No matching signature found");
}
