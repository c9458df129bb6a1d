import { BlockList, isIP } from "node:net";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
function canonical(address: string): string {
  return address.length > 7 &&
    address.slice(0, 7).toLowerCase() === "::ffff:" &&
    isIP(address.slice(7)) === 4
    ? address.slice(7)
    : address;
}

/** Builds the trusted-proxy matcher from AIEGIS_TRUSTED_PROXIES entries (validated by config). */
export function trustedProxyList(entries: readonly string[]): BlockList | null {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(canonical(address), type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The client address: the socket's, unless the socket is a trusted proxy, in which case
 * X-Forwarded-For is walked from the right past trusted hops. A forged left-most entry
 * therefore never counts.
 */
export function clientIp(c: Context<AppEnv>, trusted: BlockList | null): string {
  const cached = c.get("clientIp");
  if (cached !== undefined) return cached;
  const socketAddress = c.env?.incoming?.socket?.remoteAddress;
  let ip = socketAddress === undefined ? "unknown" : canonical(socketAddress);
  if (trusted !== null && isTrusted(trusted, ip)) {
    const forwarded = c.req.header("x-forwarded-for");
    if (forwarded !== undefined) {
      const hops = forwarded.split(",");
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = canonical((hops[i] ?? "").trim());
        if (isIP(hop) === 0) break;
        ip = hop;
        if (!isTrusted(trusted, hop)) break;
      }
    }
  }
  c.set("clientIp", ip);
  return ip;
}
