import { hash } from "node:crypto";

// crypto.hash (Node 20.12+) skips the Hash object that createHash builds: about half the cost
// on the short strings hashed per request (API keys, request text digests, passport tokens).

/** SHA-256 of a UTF-8 string as raw bytes. */
export function sha256Bytes(text: string): Buffer {
  return hash("sha256", text, "buffer");
}

/** SHA-256 of a UTF-8 string, hex or base64 encoded. */
export function sha256Text(text: string, encoding: "hex" | "base64"): string {
  return hash("sha256", text, encoding);
}
