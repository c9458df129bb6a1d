import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, isIPv4, isIPv6 } from "node:net";

/** Resolves a host name to every address it has (dns.lookup with `all`). */
export type Resolver = (host: string) => Promise<readonly LookupAddress[]>;

/** The system resolver, every address, in the resolver's order. */
export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** How long registration waits for DNS. */
const RESOLVE_TIMEOUT_MS = 5_000;

type Range = Readonly<{ base: bigint; bits: number; why: string }>;

function ipv4Value(address: string): bigint {
  return address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped, embedded IPv4 expanded). */
function ipv6Value(address: string): bigint {
  let text = address.split("%")[0]!.toLowerCase();
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = Number(ipv4Value(tail));
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const fill = rest === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(fill).fill("0"), ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

const v4 = (cidr: string, why: string): Range => {
  const [address = "", bits = "32"] = cidr.split("/");
  return { base: ipv4Value(address), bits: Number(bits), why };
};
const v6 = (cidr: string, why: string): Range => {
  const [address = "", bits = "128"] = cidr.split("/");
  return { base: ipv6Value(address), bits: Number(bits), why };
};

const BLOCKED_V4: readonly Range[] = [
  v4("0.0.0.0/8", "unspecified"),
  v4("10.0.0.0/8", "private"),
  v4("100.64.0.0/10", "carrier-grade NAT (and cloud metadata such as 100.100.100.200)"),
  v4("127.0.0.0/8", "loopback"),
  v4("168.63.129.16/32", "cloud metadata (Azure)"),
  v4("169.254.0.0/16", "link-local (and cloud metadata 169.254.169.254)"),
  v4("172.16.0.0/12", "private"),
  v4("192.0.0.0/24", "IETF protocol assignments"),
  v4("192.0.2.0/24", "documentation"),
  v4("192.88.99.0/24", "6to4 relay"),
  v4("192.168.0.0/16", "private"),
  v4("198.18.0.0/15", "benchmarking"),
  v4("198.51.100.0/24", "documentation"),
  v4("203.0.113.0/24", "documentation"),
  v4("224.0.0.0/4", "multicast"),
  v4("240.0.0.0/4", "reserved or broadcast"),
];

const BLOCKED_V6: readonly Range[] = [
  v6("::/128", "unspecified"),
  v6("::1/128", "loopback"),
  v6("64:ff9b:1::/48", "local NAT64"),
  v6("100::/64", "discard"),
  v6("2001::/32", "Teredo"),
  v6("2001:2::/48", "benchmarking"),
  v6("2001:db8::/32", "documentation"),
  v6("3fff::/20", "documentation"),
  v6("fc00::/7", "unique local (private; includes cloud metadata fd00:ec2::254)"),
  v6("fe80::/10", "link-local"),
  v6("fec0::/10", "site-local"),
  v6("ff00::/8", "multicast"),
];

/** IPv6 ranges that carry an IPv4 address; the embedded address decides. */
const EMBEDDING_V6: readonly Readonly<{ range: Range; shift: bigint }>[] = [
  { range: v6("::ffff:0:0/96", "IPv4-mapped"), shift: 0n },
  { range: v6("::/96", "IPv4-compatible"), shift: 0n },
  { range: v6("::ffff:0:0:0/96", "IPv4-translated"), shift: 0n },
  { range: v6("64:ff9b::/96", "NAT64"), shift: 0n },
  { range: v6("2002::/16", "6to4"), shift: 80n },
];

function inRange(value: bigint, width: number, range: Range): boolean {
  const drop = BigInt(width - range.bits);
  return value >> drop === range.base >> drop;
}

function v4Reason(value: bigint): string | null {
  for (const range of BLOCKED_V4) if (inRange(value, 32, range)) return range.why;
  return null;
}

/**
 * Why an IP address may not receive webhooks (loopback, private, link-local, CGNAT,
 * unspecified, metadata, multicast, reserved), or null when it is a public unicast address.
 * IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by it.
 */
export function blockedAddressReason(address: string): string | null {
  if (isIPv4(address)) return v4Reason(ipv4Value(address));
  if (!isIPv6(address.split("%")[0]!)) return "not an IP address";
  const value = ipv6Value(address);
  for (const range of BLOCKED_V6) if (inRange(value, 128, range)) return range.why;
  for (const { range, shift } of EMBEDDING_V6) {
    if (!inRange(value, 128, range)) continue;
    const reason = v4Reason((value >> shift) & 0xffff_ffffn);
    return reason === null ? null : `${range.why} ${reason}`;
  }
  return null;
}

/** Host names refused without asking DNS: they can only mean this machine or its cloud. */
function blockedName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    name === "metadata" ||
    name === "metadata.google.internal" ||
    name.endsWith(".internal")
  );
}

/** The URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

export type UrlCheck = Readonly<{ ok: true; url: URL }> | Readonly<{ ok: false; reason: string }>;

/**
 * The checks that need no DNS: an absolute https URL (http too when private targets are
 * allowed), no user name or password in it (they would be stored and shown as plain text),
 * and, unless private targets are allowed, no private IP literal or local host name.
 */
export function parseWebhookUrl(text: string, allowPrivate: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "must be an absolute URL" };
  }
  if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:")) {
    return {
      ok: false,
      reason: allowPrivate ? "must be an http(s) URL" : "must be an https URL",
    };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "must not contain a user name or password" };
  }
  if (url.hash !== "") return { ok: false, reason: "must not contain a fragment" };
  if (allowPrivate) return { ok: true, url };
  const host = hostOf(url);
  if (isIP(host) !== 0) {
    const why = blockedAddressReason(host);
    if (why !== null) return { ok: false, reason: `points to a ${why} address` };
  } else if (blockedName(host)) {
    return { ok: false, reason: "points to a local or metadata host name" };
  }
  return { ok: true, url };
}

/** Why none of `addresses` may be used, or null when every one of them is public. */
export function blockedAddressesReason(addresses: readonly LookupAddress[]): string | null {
  if (addresses.length === 0) return "does not resolve";
  for (const { address } of addresses) {
    const why = blockedAddressReason(address);
    if (why !== null) return `resolves to a ${why} address (${address})`;
  }
  return null;
}

/**
 * The full registration check: parseWebhookUrl, then every address the host resolves to must
 * be public (a host with one private address among public ones is refused: which one a client
 * connects to is not ours to choose). Null when the URL is acceptable, else why not.
 */
export async function checkWebhookUrl(
  text: string,
  allowPrivate: boolean,
  resolve: Resolver = systemResolver,
): Promise<string | null> {
  const parsed = parseWebhookUrl(text, allowPrivate);
  if (!parsed.ok) return parsed.reason;
  if (allowPrivate) return null;
  const host = hostOf(parsed.url);
  if (isIP(host) !== 0) return null;
  let addresses: readonly LookupAddress[];
  let timer: NodeJS.Timeout | undefined;
  try {
    // A registration must not hang on a slow resolver.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), RESOLVE_TIMEOUT_MS);
    });
    addresses = await Promise.race([resolve(host), timeout]);
  } catch {
    return "host does not resolve";
  } finally {
    clearTimeout(timer);
  }
  return blockedAddressesReason(addresses);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http(s).request that resolves the host and refuses to connect when any
 * address is not public: the check happens at connect time, on the very addresses the socket
 * will use, so a DNS answer that changed since registration (rebinding) cannot slip through.
 */
export function guardedLookup(resolve: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean } | number, callback: LookupCallback) => {
    resolve(hostname).then(
      (addresses) => {
        const why = blockedAddressesReason(addresses);
        if (why !== null) {
          const err: NodeJS.ErrnoException = new Error(`webhook host ${why}`);
          err.code = "EWEBHOOKBLOCKED";
          callback(err, "");
          return;
        }
        if (typeof options === "object" && options.all === true) {
          callback(null, [...addresses]);
        } else {
          callback(null, addresses[0]!.address, addresses[0]!.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, ""),
    );
  };
}
