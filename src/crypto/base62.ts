const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Big-endian base62 of a non-negative integer, left-padded with zeros to `width` digits. */
export function base62(value: bigint, width: number): string {
  let out = "";
  let rest = value;
  while (rest > 0n) {
    out = DIGITS[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(width, "0");
}

/** Base62 of random bytes; 16 bytes need 22 digits, 32 bytes need 43. */
export function base62Bytes(bytes: Uint8Array): string {
  const width = Math.ceil((bytes.length * 8) / Math.log2(62));
  return base62(BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`), width);
}

/** True for 0-9, A-Z and a-z char codes. */
export function isBase62Code(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
