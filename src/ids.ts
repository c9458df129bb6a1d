import { randomBytes, randomUUID } from "node:crypto";
import { base62Bytes } from "./crypto/base62.js";

export type IdPrefix =
  | "agt"
  | "key"
  | "adm"
  | "psp"
  | "asm"
  | "whk"
  | "msg"
  | "opr"
  | "org"
  | "ses";

/** A random resource id such as `agt_3fZk9q2L…` (128 bits, base62). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${base62Bytes(randomBytes(16))}`;
}

/** A request id; randomUUID draws from a pooled entropy buffer, so this is cheap per request. */
export function newRequestId(): string {
  return `req_${randomUUID().replaceAll("-", "")}`;
}
