import { signEd25519 } from "./ed25519.js";
import type { SigningKey } from "./signing-keys.js";

const encoder = new TextEncoder();

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/** Signs `claims` as a compact JWS with EdDSA; `typ` tells token kinds apart (tag, passport…). */
export function signJwt(
  typ: string,
  claims: Readonly<Record<string, unknown>>,
  key: SigningKey,
): string {
  const signingInput = `${segment({ alg: "EdDSA", typ, kid: key.kid })}.${segment(claims)}`;
  const signature = signEd25519(encoder.encode(signingInput), key.secretKey);
  return `${signingInput}.${Buffer.from(signature).toString("base64url")}`;
}
