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

/** True when `value` is `prefix` followed by 22 base62 digits (an id from `newId`). */
export function isId(value: string, prefix: string): boolean {
  if (value.length !== prefix.length + 22 || !value.startsWith(prefix)) return false;
  for (let i = prefix.length; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  }
  return true;
}
