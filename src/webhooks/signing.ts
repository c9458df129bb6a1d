import { createHmac, randomBytes } from "node:crypto";

/** Standard Webhooks secrets: `whsec_` + base64 of the raw HMAC key. */
const SECRET_PREFIX = "whsec_";

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

/** The HMAC key inside a `whsec_…` secret (the base64-decoded part). */
export function secretKeyBytes(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, "base64");
}

/** `v1,<base64 HMAC-SHA256 over "id.timestamp.body">`, as Standard Webhooks defines it. */
export function webhookSignature(
  secret: string,
  id: string,
  timestampS: number,
  body: string,
): string {
  const mac = createHmac("sha256", secretKeyBytes(secret))
    .update(`${id}.${timestampS}.${body}`)
    .digest("base64");
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers of one delivery attempt. */
export function signedHeaders(
  secret: string,
  id: string,
  timestampS: number,
  body: string,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampS),
    "webhook-signature": webhookSignature(secret, id, timestampS, body),
  };
}
