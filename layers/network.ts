import RE2 from "re2";
import { z } from "zod";
import { compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import {
  type ActionKind,
  type Facts,
  type Finding,
  type Layer,
  NO_FINDINGS,
  type Severity,
  type TextView,
} from "./types.js";

const CLASS_NAMES = [
  "metadata",
  "loopback",
  "unspecified",
  "link_local",
  "private",
  "reserved",
  "internal_name",
  "local_name",
] as const;
type HostClass = (typeof CLASS_NAMES)[number];

const TECHNIQUES = [
  "SSRF_OBFUSCATED_ADDRESS",
  "SSRF_OBFUSCATED_PUBLIC_ADDRESS",
  "SSRF_DNS_REBINDING",
  "SSRF_URL_CONFUSION",
  "SSRF_NESTED_INTERNAL",
  "SSRF_DANGEROUS_SCHEME",
  "SSRF_PRIVATE_API",
  "SSRF_METADATA_PATH",
  "SSRF_XXE",
  "SSRF_XXE_EXTERNAL",
] as const;
type Technique = (typeof TECHNIQUES)[number];

const FindingSpec = z.strictObject({
  severity: z.enum(["BLOCK", "WARN"]),
  confidence: z.number().min(0).max(1),
  message: z.string().min(1),
});

const ClassSpec = FindingSpec.extend({
  code: z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: "must be SCREAMING_SNAKE" }),
});

const ClassName = z.enum(CLASS_NAMES);
const Cidr = z.string().regex(/^[0-9a-f:.]+\/\d{1,3}$/i, { message: "must be a CIDR" });
const Label = z
  .string()
  .min(1)
  .regex(/^[a-z0-9.-]+$/, { message: "must be a lower-case DNS name" });

// The RE2 patterns in the data file are checked at start-up so a bad one names its section.
function compilesRe2(pattern: string): boolean {
  try {
    new RE2(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

const Re2Pattern = z.string().min(1).refine(compilesRe2, { message: "is not a valid RE2 pattern" });

/**
 * A place in markup, style sheets or scripts where a renderer fetches a URL by itself:
 * group 1 is the URL.
 */
const EmbedSpec = z.strictObject({
  name: z.string().min(1),
  /** A cheap literal the text must contain before the pattern runs. */
  hint: z.string().min(1),
  pattern: Re2Pattern,
  /** "entity": an XML external entity or XInclude (a path or file: URL reads a local file). */
  role: z.enum(["fetch", "entity", "parameter_entity"]),
  /** An attribute: on a link tag (a href, form action) nothing is fetched. */
  linkAttribute: z.boolean().optional(),
  $comment: z.string().optional(),
});

const Scheme = z
  .string()
  .min(1)
  .regex(/^[a-z][a-z0-9+.-]*$/, { message: "must be a lower-case URL scheme" });

/** The data file of the network layer (data/network.json). */
export const NetworkDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  classes: z.strictObject(
    Object.fromEntries(CLASS_NAMES.map((c) => [c, ClassSpec])) as Record<
      HostClass,
      typeof ClassSpec
    >,
  ),
  techniques: z.strictObject(
    Object.fromEntries(TECHNIQUES.map((t) => [t, FindingSpec])) as Record<
      Technique,
      typeof FindingSpec
    >,
  ),
  /**
   * Where an internal target is routine — scripts calling their own dev server, tools holding
   * a connection string — these classes get this confidence instead (as a WARN; 0 = ignore).
   */
  softened: z.strictObject({
    $comment: z.string().optional(),
    service: z.partialRecord(ClassName, z.number().min(0).max(1)),
    script: z.partialRecord(ClassName, z.number().min(0).max(1)),
    tool: z.partialRecord(ClassName, z.number().min(0).max(1)),
    document: z.partialRecord(ClassName, z.number().min(0).max(1)),
  }),
  ipv4Ranges: z.array(z.tuple([Cidr, ClassName])).min(1),
  ipv6Ranges: z.array(z.tuple([Cidr, ClassName])).min(1),
  ipv6Embedded: z.array(
    z.strictObject({
      prefix: Cidr,
      /** Byte offset of the IPv4 address inside the IPv6 one. */
      offset: z.number().int().min(0).max(12),
      /** Teredo stores the client address with every bit flipped. */
      inverted: z.boolean().optional(),
    }),
  ),
  hostNames: z.partialRecord(ClassName, z.array(Label)),
  hostSuffixes: z.partialRecord(ClassName, z.array(Label)),
  rebindingDns: z.array(Label),
  wildcardDns: z.array(Label),
  schemes: z.strictObject({
    $comment: z.string().optional(),
    always: z.array(Scheme),
    fetch: z.array(Scheme),
  }),
  hostParamKeys: z.array(z.string().min(1)),
  /** Parameters of any tool that the tool (or the service behind it) will fetch or call back. */
  fetchParamKeys: z.array(z.string().min(1)),
  /** Words that make a parameter name a fetch target (callback_url, avatar_image, webhook). */
  fetchParamWords: z.array(z.string().min(1)),
  /** Ports of infrastructure services (Docker, etcd, kubelet, Redis…) on a bare host name. */
  infraPorts: z.array(z.number().int().min(1).max(65535)),
  /** API paths of infrastructure services: never the shape of an ordinary internal integration. */
  infraPaths: z.array(
    z.string().regex(/^\/[a-z0-9/._-]+$/, { message: "must be a lower-case path" }),
  ),
  /** Paths only a cloud metadata service answers: on any host they mean a metadata probe. */
  metadataPaths: z.array(
    z.string().regex(/^\/[a-z0-9/._-]+$/, { message: "must be a lower-case path" }),
  ),
  /** URLs in markup, CSS, markdown, XML entities and scripts that a renderer fetches. */
  embeds: z.array(EmbedSpec),
  /** Attributes that are links (followed by a reader, never fetched by a renderer) on these tags. */
  linkTags: z.array(z.string().min(1)),
  /** An instruction to fetch a URL ("then open http://…"); group 1 is the URL. */
  imperativeFetch: Re2Pattern,
});

export type NetworkData = z.infer<typeof NetworkDataSchema>;

/** Bounds: hosts longer than a DNS name can be are not hosts; URLs beyond the cap are not read. */
const MAX_HOST = 253;
const MAX_URLS = 64;
const MAX_SCAN = 4096;

// ---------------------------------------------------------------------------------------------
// Address parsing. Everything is charCode scanning: no regular expression touches request text.

function hexVal(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** An IPv4 address as an unsigned 32-bit number, and whether it was written the standard way. */
export type Ipv4 = { value: number; canonical: boolean; overflow: boolean };

/**
 * Parses a host the way inet_aton and lenient URL parsers do: one to four parts, each decimal,
 * octal (leading 0) or hex (0x); the last part fills the remaining bytes (127.1, 0x7f.1,
 * 2130706433). Parts too large for their place are reduced modulo their size, as overflowing
 * parsers do (425.510.425.510, 0x41414141a9fea9fe). Returns null for anything not numeric.
 */
export function parseIpv4(host: string): Ipv4 | null {
  if (host.length === 0 || host.length > 128) return null;
  const parts: bigint[] = [];
  let canonical = true;
  let i = 0;
  while (i <= host.length) {
    let j = i;
    while (j < host.length && host.charCodeAt(j) !== 46) j++;
    const len = j - i;
    if (len === 0) return null;
    let value = 0n;
    if (len >= 2 && host.charCodeAt(i) === 48 && (host.charCodeAt(i + 1) | 0x20) === 120) {
      canonical = false;
      for (let k = i + 2; k < j; k++) {
        const h = hexVal(host.charCodeAt(k));
        if (h < 0) return null;
        value = value * 16n + BigInt(h);
      }
    } else {
      let octal = len > 1 && host.charCodeAt(i) === 48;
      for (let k = i; k < j; k++) {
        const d = host.charCodeAt(k) - 48;
        if (d < 0 || d > 9) return null;
        if (d > 7) octal = false;
      }
      if (octal || (len > 1 && host.charCodeAt(i) === 48)) canonical = false;
      const base = octal ? 8n : 10n;
      for (let k = i; k < j; k++) value = value * base + BigInt(host.charCodeAt(k) - 48);
    }
    parts.push(value);
    if (parts.length > 4) return null;
    i = j + 1;
  }
  if (parts.length !== 4) canonical = false;
  let overflow = false;
  let result = 0n;
  const last = parts.length - 1;
  for (let p = 0; p < last; p++) {
    if (parts[p]! > 255n) overflow = true;
    result = (result << 8n) | (parts[p]! & 255n);
  }
  const tailBits = BigInt(8 * (4 - last));
  const tail = parts[last]!;
  if (tail >= 1n << tailBits) overflow = true;
  result = (result << tailBits) | (tail & ((1n << tailBits) - 1n));
  return { value: Number(result & 0xffffffffn), canonical: canonical && !overflow, overflow };
}

/** Parses an IPv6 address (optionally with a trailing dotted IPv4 and a %zone) to 16 bytes. */
export function parseIpv6(text: string): Uint8Array | null {
  let host = text;
  const zone = host.indexOf("%");
  if (zone >= 0) host = host.slice(0, zone);
  if (host.length < 2 || host.length > 64 || host.indexOf(":") < 0) return null;
  const bytes = new Uint8Array(16);
  const head: number[] = [];
  const tail: number[] = [];
  let target = head;
  let sawDouble = false;
  let i = 0;
  if (host.startsWith("::")) {
    sawDouble = true;
    target = tail;
    i = 2;
  } else if (host.charCodeAt(0) === 58) return null;
  while (i < host.length) {
    let j = i;
    while (j < host.length && host.charCodeAt(j) !== 58) j++;
    const group = host.slice(i, j);
    if (group.indexOf(".") >= 0) {
      if (j !== host.length) return null;
      const v4 = parseIpv4(group);
      if (v4 === null) return null;
      target.push((v4.value >>> 16) & 0xffff, v4.value & 0xffff);
      i = j;
      break;
    }
    if (group.length === 0 || group.length > 4) return null;
    let v = 0;
    for (let k = 0; k < group.length; k++) {
      const h = hexVal(group.charCodeAt(k));
      if (h < 0) return null;
      v = v * 16 + h;
    }
    target.push(v);
    if (j === host.length) {
      i = j;
      break;
    }
    if (host.charCodeAt(j + 1) === 58) {
      if (sawDouble) return null;
      sawDouble = true;
      target = tail;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === host.length) return null;
    }
  }
  const total = head.length + tail.length;
  if (total > 8 || (!sawDouble && total !== 8)) return null;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  for (let g = 0; g < 8; g++) {
    bytes[g * 2] = groups[g]! >>> 8;
    bytes[g * 2 + 1] = groups[g]! & 0xff;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Range tables, built once from the data file.

type V4Range = Readonly<{ base: number; mask: number; bits: number; cls: HostClass }>;
type V6Range = Readonly<{
  bytes: Uint8Array;
  bits: number;
  cls: HostClass | null;
  embed?: Embedded;
}>;
type Embedded = Readonly<{ offset: number; inverted: boolean }>;

function v4Range(cidr: string, cls: HostClass): V4Range {
  const [addr, len] = cidr.split("/") as [string, string];
  const parsed = parseIpv4(addr);
  const bits = Number(len);
  if (parsed === null || !parsed.canonical || bits > 32) {
    throw new TypeError(`Invalid IPv4 range: ${cidr}`);
  }
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (parsed.value & mask) >>> 0, mask, bits, cls };
}

function v6Range(cidr: string, cls: HostClass | null, embed?: Embedded): V6Range {
  const [addr, len] = cidr.split("/") as [string, string];
  const bytes = parseIpv6(addr);
  const bits = Number(len);
  if (bytes === null || bits > 128) throw new TypeError(`Invalid IPv6 range: ${cidr}`);
  return embed ? { bytes, bits, cls, embed } : { bytes, bits, cls };
}

function inV6(addr: Uint8Array, range: V6Range): boolean {
  const full = range.bits >>> 3;
  for (let b = 0; b < full; b++) if (addr[b] !== range.bytes[b]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full]! & mask) === (range.bytes[full]! & mask);
}

/** What a host turned out to be. */
type HostVerdict = {
  cls: HostClass | null;
  /** Written in a notation other than a plain dotted quad or a plain name. */
  obfuscated: boolean;
  /** An IP literal too large for its places (a typo, or a parser-overflow trick). */
  overflow: boolean;
  /** A DNS name that resolves to the address by design (nip.io, rbndr.us, 127.0.0.1.evil.tld). */
  rebinding: boolean;
  canonicalIp: boolean;
};

type Tables = Readonly<{
  data: NetworkData;
  v4: readonly V4Range[];
  v6: readonly V6Range[];
  names: ReadonlyMap<string, HostClass>;
  suffixes: ReadonlyMap<string, HostClass>;
  rebinding: ReadonlySet<string>;
  wildcard: ReadonlySet<string>;
  always: ReadonlySet<string>;
  fetch: ReadonlySet<string>;
  softened: Readonly<
    Record<"service" | "script" | "tool" | "document", ReadonlyMap<HostClass, number>>
  >;
  hostKeys: ReadonlySet<string>;
  fetchKeys: ReadonlySet<string>;
  fetchWords: readonly string[];
  infraPorts: ReadonlySet<string>;
  metadataPaths: readonly string[];
  embeds: readonly Embed[];
  /** All embed patterns in one automaton: one pass says which of them can match at all. */
  embedSet: InstanceType<typeof RE2.Set>;
  linkTags: ReadonlySet<string>;
  imperative: RE2;
}>;

type Embed = Readonly<{
  spec: z.infer<typeof EmbedSpec>;
  re: RE2;
}>;

function classifyV4(t: Tables, value: number): HostClass | null {
  // Ranges are sorted longest prefix first: the most specific class wins.
  for (const r of t.v4) if ((value & r.mask) >>> 0 === r.base) return r.cls;
  return null;
}

function classifyV6(t: Tables, addr: Uint8Array): { cls: HostClass | null; embedded: boolean } {
  for (const r of t.v6) {
    if (!inV6(addr, r)) continue;
    if (r.embed) {
      const o = r.embed.offset;
      let v = ((addr[o]! << 24) | (addr[o + 1]! << 16) | (addr[o + 2]! << 8) | addr[o + 3]!) >>> 0;
      if (r.embed.inverted) v = ~v >>> 0;
      return { cls: classifyV4(t, v), embedded: true };
    }
    return { cls: r.cls, embedded: false };
  }
  return { cls: null, embedded: false };
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Finds an IPv4 address spelled inside a DNS name with dots or dashes (10.0.0.1.nip.io,
 * 169-254-169-254.sslip.io, make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms) and returns the most
 * dangerous class among them.
 */
function spelledAddress(t: Tables, name: string): HostClass | null {
  let best: HostClass | null = null;
  const n = name.length;
  for (let i = 0; i < n; i++) {
    if (!isDigit(name.charCodeAt(i)) || (i > 0 && isDigit(name.charCodeAt(i - 1)))) continue;
    for (const sep of [46, 45]) {
      let k = i;
      let value = 0;
      let parts = 0;
      while (parts < 4) {
        const start = k;
        let octet = 0;
        while (k < n && isDigit(name.charCodeAt(k)) && k - start < 4) {
          octet = octet * 10 + name.charCodeAt(k) - 48;
          k++;
        }
        const len = k - start;
        if (len === 0 || len > 3 || octet > 255) break;
        value = value * 256 + octet;
        parts++;
        if (parts < 4) {
          if (name.charCodeAt(k) !== sep) break;
          k++;
        }
      }
      if (parts === 4 && !isDigit(name.charCodeAt(k))) {
        const cls = classifyV4(t, value >>> 0);
        if (cls !== null && rank(cls) > rank(best)) best = cls;
      }
    }
  }
  return best;
}

/** How bad each class is, to keep the worst when a name spells several addresses. */
function rank(cls: HostClass | null): number {
  switch (cls) {
    case "metadata":
      return 8;
    case "loopback":
      return 7;
    case "unspecified":
      return 6;
    case "link_local":
      return 5;
    case "private":
      return 4;
    case "internal_name":
      return 3;
    case "reserved":
      return 2;
    case "local_name":
      return 1;
    default:
      return 0;
  }
}

function isHexLabel(label: string): boolean {
  const start = label.startsWith("0x") ? 2 : 0;
  if (label.length - start !== 8) return false;
  for (let i = start; i < label.length; i++) if (hexVal(label.charCodeAt(i)) < 0) return false;
  return true;
}

/** Trims what a URL parser would not keep in a host: brackets, trailing dots, junk after it. */
function cleanHost(raw: string): string {
  let host = raw.trim();
  // IDNA treats the ideographic full stops as dots: 127。0。0。1 is 127.0.0.1.
  if (host.indexOf("\u3002") >= 0 || host.indexOf("\uff61") >= 0 || host.indexOf("\uff0e") >= 0) {
    host = host.replaceAll("\u3002", ".").replaceAll("\uff61", ".").replaceAll("\uff0e", ".");
  }
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    host = close > 0 ? host.slice(1, close) : host.slice(1);
    return host;
  }
  let end = 0;
  while (end < host.length && end < MAX_HOST) {
    const c = host.charCodeAt(end);
    const ok =
      isDigit(c) ||
      (c >= 97 && c <= 122) ||
      c === 46 ||
      c === 45 ||
      c === 95 ||
      c === 58 ||
      c === 37 ||
      c > 127;
    if (!ok) break;
    end++;
  }
  host = host.slice(0, end);
  // A port, when the host is not IPv6.
  const colon = host.indexOf(":");
  if (colon >= 0 && host.indexOf(":", colon + 1) < 0) host = host.slice(0, colon);
  while (host.endsWith(".")) host = host.slice(0, -1);
  return host;
}

/** Classifies one host: IP literal in any notation, a known name, or a name spelling an address. */
function classifyHost(t: Tables, rawHost: string): HostVerdict {
  const verdict: HostVerdict = {
    cls: null,
    obfuscated: false,
    overflow: false,
    rebinding: false,
    canonicalIp: false,
  };
  let host = cleanHost(rawHost);
  if (host.indexOf(":") >= 0) {
    const v6 = parseIpv6(host);
    if (v6 !== null) {
      const { cls, embedded } = classifyV6(t, v6);
      verdict.cls = cls;
      verdict.obfuscated = embedded && cls !== null;
      return verdict;
    }
    // Not IPv6: a host with stray port colons (127.0.0.1:80:).
    host = host.slice(0, host.indexOf(":"));
  }
  if (host.length === 0) return verdict;
  const first = host.charCodeAt(0);
  if (isDigit(first)) {
    const v4 = parseIpv4(host);
    if (v4 !== null) {
      verdict.cls = classifyV4(t, v4.value);
      verdict.obfuscated = !v4.canonical;
      verdict.overflow = v4.overflow;
      verdict.canonicalIp = v4.canonical;
      return verdict;
    }
  }
  const exact = t.names.get(host);
  if (exact !== undefined) {
    verdict.cls = exact;
    return verdict;
  }
  // A loopback zone named by itself (localtest.me, lvh.me) resolves like its subdomains.
  const zone = t.suffixes.get(host);
  if (zone !== undefined && host.indexOf(".") > 0) {
    verdict.cls = zone;
    verdict.rebinding = zone === "loopback";
    return verdict;
  }
  // Suffixes: the last one to four labels, longest first, so that a more specific zone
  // (svc.cluster.local) wins over a shorter one (local).
  const cuts: number[] = [];
  let dot = host.length;
  while (cuts.length < 4) {
    dot = host.lastIndexOf(".", dot - 1);
    if (dot < 0) break;
    cuts.push(dot);
  }
  for (let k = cuts.length - 1; k >= 0; k--) {
    const cut = cuts[k]!;
    const suffix = host.slice(cut + 1);
    if (t.rebinding.has(suffix)) {
      verdict.cls = spelledAddress(t, host) ?? "loopback";
      verdict.rebinding = true;
      return verdict;
    }
    if (t.wildcard.has(suffix)) {
      const labels = host.slice(0, cut);
      let spelled = spelledAddress(t, labels);
      if (spelled === null) {
        for (const label of labels.split(".")) {
          if (!isHexLabel(label)) continue;
          const c = classifyV4(t, Number.parseInt(label.slice(label.length - 8), 16) >>> 0);
          if (rank(c) > rank(spelled)) spelled = c;
        }
      }
      if (spelled !== null) {
        verdict.cls = spelled;
        verdict.rebinding = true;
      }
      return verdict;
    }
    const cls = t.suffixes.get(suffix);
    if (cls !== undefined) {
      verdict.cls = cls;
      if (cls === "loopback") verdict.rebinding = true;
      break;
    }
  }
  const spelled = spelledAddress(t, host);
  if (spelled !== null && rank(spelled) > rank(verdict.cls)) {
    verdict.cls = spelled;
    verdict.rebinding = true;
    return verdict;
  }
  if (verdict.cls !== null) return verdict;
  // "localhost.anything" is a loopback alias by convention.
  if (host.startsWith("localhost.")) {
    verdict.cls = "loopback";
    verdict.rebinding = true;
    return verdict;
  }
  if (host.indexOf(".") < 0 && !isDigit(first)) verdict.cls = "local_name";
  return verdict;
}

// ---------------------------------------------------------------------------------------------
// URL handling.

/**
 * Who would connect: a web fetch; a service handed a URL (an unknown tool's `url` parameter:
 * fetched, though a developer's own localhost is routine there); a tool holding a URL or
 * connection string; a script (which
 * could reach its own dev server anyway); a document being written (only metadata and
 * disguised addresses matter there).
 */
type Context = "fetch" | "service" | "tool" | "script" | "document";

/** A fetch by the agent, or by a service given a URL to fetch: file: and raw schemes count. */
function fetches(context: Context): boolean {
  return context === "fetch" || context === "service";
}

type Scan = { found: Finding[]; codes: Set<string> };

function addFinding(
  scan: Scan,
  code: string,
  severity: Severity,
  confidence: number,
  message: string,
  evidence: string,
): void {
  const finding: Finding = {
    layer: "network",
    code,
    severity,
    confidence,
    message,
    evidence: evidenceOf(evidence),
  };
  if (!scan.codes.has(code)) {
    scan.codes.add(code);
    scan.found.push(finding);
    return;
  }
  // The same class reached in a stronger context (a webhook parameter after a softer mention
  // of the same URL) replaces the weaker finding.
  const i = scan.found.findIndex((f) => f.code === code);
  const old = i >= 0 ? scan.found[i]! : undefined;
  if (old && weight(finding) > weight(old)) scan.found[i] = finding;
}

function weight(f: Finding): number {
  return (f.severity === "BLOCK" ? 1 : 0) + f.confidence;
}

function technique(t: Tables, scan: Scan, name: Technique, evidence: string): void {
  const spec = t.data.techniques[name];
  addFinding(scan, name, spec.severity, spec.confidence, spec.message, evidence);
}

/** Reports the class of a host, softened where an internal target is routine (dev servers). */
function reportClass(
  t: Tables,
  scan: Scan,
  cls: HostClass,
  context: Context,
  evidence: string,
): void {
  const spec = t.data.classes[cls];
  const soft = context === "fetch" ? undefined : t.softened[context].get(cls);
  if (soft !== undefined) {
    if (soft > 0) addFinding(scan, spec.code, "WARN", soft, spec.message, evidence);
    return;
  }
  addFinding(scan, spec.code, spec.severity, spec.confidence, spec.message, evidence);
}

function isBlockClass(t: Tables, cls: HostClass | null): boolean {
  return cls !== null && t.data.classes[cls].severity === "BLOCK";
}

/** Splits `scheme://authority/path?query` by hand, keeping what a lenient parser would see. */
function splitUrl(text: string): { scheme: string; authority: string; rest: string } | null {
  const sep = text.indexOf("://");
  if (sep <= 0 || sep > 24) return null;
  const scheme = text.slice(0, sep);
  for (let i = 0; i < scheme.length; i++) {
    const c = scheme.charCodeAt(i);
    if (!(isDigit(c) || (c >= 97 && c <= 122) || c === 43 || c === 45 || c === 46)) return null;
  }
  const after = text.slice(sep + 3, sep + 3 + MAX_SCAN);
  let end = after.length;
  for (let i = 0; i < after.length; i++) {
    const c = after.charCodeAt(i);
    if (c === 47 || c === 63 || c === 32 || c === 10) {
      end = i;
      break;
    }
  }
  return { scheme, authority: after.slice(0, end), rest: after.slice(end) };
}

/**
 * Every host an authority could be read as. `a@b`, `a\@b`, `a#@b`, `a:80\@@b` are parsed
 * differently by different libraries; the connection may go to any piece.
 */
function authorityHosts(authority: string): string[] {
  const hosts: string[] = [];
  let start = 0;
  for (let i = 0; i <= authority.length; i++) {
    const c = i < authority.length ? authority.charCodeAt(i) : -1;
    if (c === -1 || c === 64 || c === 92 || c === 35 || c === 63) {
      const piece = authority.slice(start, i);
      if (piece !== "") hosts.push(piece);
      start = i + 1;
    }
  }
  return hosts;
}

/** The host a standard parser connects to: after the last @, before the port. */
function primaryHost(authority: string): string {
  let end = authority.length;
  for (let i = 0; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c === 92 || c === 35 || c === 63) {
      end = i;
      break;
    }
  }
  const a = authority.slice(0, end);
  const at = a.lastIndexOf("@");
  return at >= 0 ? a.slice(at + 1) : a;
}

const WEB_SCHEMES: ReadonlySet<string> = new Set(["http", "https", "ws", "wss", "ftp"]);

/** The port of an authority's host part (`host:port`, `[v6]:port`), or "". */
function portOf(host: string): string {
  const close = host.lastIndexOf("]");
  const colon = host.lastIndexOf(":");
  if (colon < 0 || colon < close) return "";
  if (close < 0 && host.indexOf(":") !== colon) return "";
  let end = colon + 1;
  while (end < host.length && isDigit(host.charCodeAt(end))) end++;
  return host.slice(colon + 1, end);
}

function startsWithAny(text: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) if (text.startsWith(prefix)) return true;
  return false;
}

/** Does the path (lower case, starting at `/`) begin with a cloud metadata service path? */
function metadataPath(t: Tables, rest: string): boolean {
  if (rest.length < 6) return false;
  for (const prefix of t.metadataPaths) {
    if (!rest.startsWith(prefix)) continue;
    const next = rest.charCodeAt(prefix.length);
    // A whole segment: /latest/meta-data or /latest/meta-data/…, not /latest/meta-database.
    if (Number.isNaN(next) || next === 47 || next === 63 || next === 35 || next === 46) return true;
  }
  return false;
}

function pathDepth(rest: string): number {
  let depth = 0;
  let inSegment = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 63 || c === 35) break;
    if (c === 47) inSegment = false;
    else if (!inSegment) {
      inSegment = true;
      depth++;
    }
  }
  return depth;
}

/** Judges one URL: its scheme, every host its authority could mean, hosts nested in it. */
function checkUrl(t: Tables, scan: Scan, text: string, context: Context, nested: boolean): void {
  const url = splitUrl(text);
  if (url === null) return;
  const { scheme, authority, rest } = url;
  if (t.always.has(scheme) || (fetches(context) && t.fetch.has(scheme))) {
    technique(t, scan, "SSRF_DANGEROUS_SCHEME", text);
  }
  if (scheme === "file") return;
  // A connection string (postgres://, redis://) is not a web fetch, even in an HTTP tool.
  const ctx: Context = fetches(context) && !WEB_SCHEMES.has(scheme) ? "tool" : context;

  const primary = primaryHost(authority);
  const verdict = classifyHost(t, primary);
  if (!isBlockClass(t, verdict.cls) && WEB_SCHEMES.has(scheme) && metadataPath(t, rest)) {
    // A metadata path on a name that is not the metadata service: a rebinding or redirecting
    // name set up to reach it.
    technique(t, scan, "SSRF_METADATA_PATH", text);
  }
  // A bare word as host is an internal name only where a web fetch would resolve it; in
  // scripts and other schemes (s3://bucket, http://host:port placeholders) it is not a host.
  if (verdict.cls === "local_name" && (ctx === "script" || !WEB_SCHEMES.has(scheme))) {
    verdict.cls = null;
  }
  // A bare name on an infrastructure port (http://redis:6379, http://etcd:2379) fetched over
  // the web is a service of the cluster or compose network, not a typo.
  if (verdict.cls === "local_name" && fetches(ctx) && t.infraPorts.has(portOf(primary))) {
    verdict.cls = "internal_name";
  }
  if (verdict.cls !== null) {
    if (nested) {
      if (isBlockClass(t, verdict.cls)) technique(t, scan, "SSRF_NESTED_INTERNAL", text);
    } else if (
      verdict.cls === "private" &&
      verdict.canonicalIp &&
      scheme === "https" &&
      pathDepth(rest) >= 2 &&
      // Not the API of an infrastructure service (kubelet, etcd, Docker, Consul, actuator).
      !t.infraPorts.has(portOf(primary)) &&
      !startsWithAny(rest, t.data.infraPaths)
    ) {
      technique(t, scan, "SSRF_PRIVATE_API", text);
    } else {
      // A tool or service pointed at an infrastructure API (Docker, kubelet, etcd, actuator)
      // on an internal host is the SSRF itself, not a developer's own server.
      const infra =
        (ctx === "service" || ctx === "tool") &&
        (t.infraPorts.has(portOf(primary)) || startsWithAny(rest, t.data.infraPaths));
      reportClass(t, scan, verdict.cls, infra ? "fetch" : ctx, text);
    }
    if (verdict.obfuscated) {
      technique(t, scan, "SSRF_OBFUSCATED_ADDRESS", text);
    }
    if (verdict.rebinding) technique(t, scan, "SSRF_DNS_REBINDING", text);
  } else if (verdict.obfuscated && !verdict.overflow) {
    technique(t, scan, "SSRF_OBFUSCATED_PUBLIC_ADDRESS", text);
  }

  // Other readings of an ambiguous authority, or the userinfo when the host after @ is empty.
  const pieces = authorityHosts(authority);
  if (pieces.length > 1 || (pieces.length === 1 && cleanHost(primary) === "")) {
    for (const piece of pieces) {
      const at = piece.lastIndexOf("@");
      const candidate = at >= 0 ? piece.slice(at + 1) : piece;
      if (candidate === primary) continue;
      const other = classifyHost(t, candidate);
      if (isBlockClass(t, other.cls) && other.cls !== "internal_name") {
        technique(t, scan, "SSRF_URL_CONFUSION", text);
        break;
      }
    }
  }

  if (!nested && !isBlockClass(t, verdict.cls)) checkNested(t, scan, rest, text);
}

/**
 * Internal addresses carried inside a public URL: a nested URL (?url=http://10.0.0.1/), or an
 * address used as a proxy path (/proxy/169.254.169.254/latest/), with a port, or after a
 * scheme word (redir-http-169.254.169.254:80). An address that is only part of a slug
 * ("blocking-169.254.169.254-in-k8s") is text, not a target.
 */
function checkNested(t: Tables, scan: Scan, rest: string, text: string): void {
  const n = Math.min(rest.length, MAX_SCAN);
  let from = 0;
  for (let guard = 0; guard < 16; guard++) {
    const sep = rest.indexOf("://", from);
    if (sep < 0 || sep >= n) break;
    let s = sep;
    while (s > 0) {
      const c = rest.charCodeAt(s - 1);
      if (!(isDigit(c) || (c >= 97 && c <= 122) || c === 43 || c === 45 || c === 46)) break;
      s--;
    }
    if (s < sep) checkUrl(t, scan, rest.slice(s, n), "fetch", true);
    from = sep + 3;
  }
  for (let i = 0; i < n; i++) {
    const c = rest.charCodeAt(i);
    if (!isDigit(c) || (i > 0 && (isDigit(rest.charCodeAt(i - 1)) || rest[i - 1] === "."))) {
      continue;
    }
    let j = i;
    let dots = 0;
    while (j < n) {
      const cj = rest.charCodeAt(j);
      if (isDigit(cj)) j++;
      else if (cj === 46 && isDigit(rest.charCodeAt(j + 1))) {
        dots++;
        j++;
      } else break;
    }
    if (dots !== 3) {
      i = j;
      continue;
    }
    const v4 = parseIpv4(rest.slice(i, j));
    if (v4?.canonical && isBlockClass(t, classifyV4(t, v4.value))) {
      const before = rest.slice(Math.max(0, i - 6), i);
      const next = rest.charCodeAt(j);
      const asSegment = rest.charCodeAt(i - 1) === 47 && next === 47;
      const withPort = next === 58 && isDigit(rest.charCodeAt(j + 1));
      const afterScheme = /* http- http_ http: https/ */ schemeWordBefore(before);
      if (asSegment || withPort || afterScheme) {
        technique(t, scan, "SSRF_NESTED_INTERNAL", text);
        return;
      }
    }
    i = j;
  }
}

function schemeWordBefore(before: string): boolean {
  // "http-", "https_", "http/", "//" right before the address; or "@", where a parser that
  // decodes before splitting (evil.com%2f@10.0.0.1) takes what follows for the host.
  if (before.endsWith("//") || before.endsWith("@")) return true;
  const trimmed = before.slice(0, -1);
  return trimmed.endsWith("http") || trimmed.endsWith("https");
}

/** `jar:…`, `netdoc:…`: a dangerous scheme at the start of a value, with or without "//". */
function opaqueScheme(t: Tables, scan: Scan, value: string, context: Context): void {
  const text = value.trimStart();
  const colon = text.indexOf(":");
  if (colon < 2 || colon > 16) return;
  const scheme = text.slice(0, colon);
  const next = text.charCodeAt(colon + 1);
  if (Number.isNaN(next) || next === 32 || next === 9 || next === 10) return;
  if (t.always.has(scheme) || (fetches(context) && t.fetch.has(scheme))) {
    if (scheme === "file" && !fetches(context)) return;
    technique(t, scan, "SSRF_DANGEROUS_SCHEME", text);
  }
}

/**
 * Browsers and WHATWG parsers read `http:\\host`, `http:/host` and `http:\\/host` as
 * `http://host` for web schemes; rewrite them so the host is seen where the fetch will go.
 */
function withSlashes(target: string): string {
  const colon = target.indexOf(":");
  if (colon < 2 || colon > 5 || !WEB_SCHEMES.has(target.slice(0, colon))) return target;
  let i = colon + 1;
  while (i < target.length && (target.charCodeAt(i) === 47 || target.charCodeAt(i) === 92)) i++;
  if (i === colon + 1 || (target.startsWith("//", colon + 1) && i === colon + 3)) return target;
  return `${target.slice(0, colon)}://${target.slice(i)}`;
}

const PROSE_KINDS: ReadonlySet<ActionKind> = new Set(["message", "llm_prompt", "tool_output"]);
const FILE_KINDS: ReadonlySet<ActionKind> = new Set(["file_read", "file_write", "file_delete"]);

function contextOf(kind: ActionKind): Context | null {
  if (PROSE_KINDS.has(kind)) return null;
  if (kind === "http") return "fetch";
  if (kind === "shell" || kind === "code_exec") return "script";
  return "tool";
}

function bareHost(value: TextView): string | null {
  const v = value.norm.trim();
  if (v === "" || v.length > MAX_HOST || v.indexOf(" ") >= 0 || v.indexOf("://") >= 0) return null;
  return v;
}

/**
 * How a parameter's URL is used: called back or imported by the service behind the tool
 * (webhook, callback, image: a fetch), handed to it as a plain `url` (a service fetch), or
 * neither (null: the tool merely holds it).
 */
function fetchKeyContext(t: Tables, key: string): Context | null {
  for (const word of t.fetchWords) if (key.indexOf(word) >= 0) return "fetch";
  return t.fetchKeys.has(key) ? "service" : null;
}

const MAX_EMBED_SCAN = 65_536;
const MAX_EMBEDS = 64;
const MAX_TAG_LOOKBACK = 1024;

/** The name of the element an attribute at byte `at` sits in, lower case; "" outside a tag. */
function tagBefore(buf: Buffer, at: number): string {
  const stop = Math.max(0, at - MAX_TAG_LOOKBACK);
  let lt = -1;
  for (let i = at - 1; i >= stop; i--) {
    const c = buf[i]!;
    if (c === 62 /* > */) return "";
    if (c === 60 /* < */) {
      lt = i;
      break;
    }
  }
  if (lt < 0) return "";
  let end = lt + 1;
  while (end < buf.length && end - lt < 32) {
    const c = buf[end]!;
    if (c <= 32 || c === 47 || c === 62) break;
    end++;
  }
  return buf.toString("latin1", lt + 1, end);
}

function isOneUrl(text: string): boolean {
  const sep = text.indexOf("://");
  if (sep <= 0 || sep > 16 || text.length > MAX_SCAN) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9 || c === 13) return false;
  }
  return true;
}

/** `//host/x` → `http://host/x`; other text as is. */
function absolute(url: string): string {
  return url.startsWith("//") ? `http:${url}` : url;
}

/**
 * An XML external entity, external DTD or XInclude: a local path or file:/php:/jar: URL reads
 * a file into the document; an internal host is SSRF; a parameter entity fetching a remote DTD
 * is the out-of-band form. A general entity on a public URL is only suspicious.
 */
function checkEntity(
  t: Tables,
  scan: Scan,
  uri: string,
  parameter: boolean,
  ctx: Context,
  severe: Severity,
): void {
  const u = absolute(uri.trim());
  if (u === "") return;
  let bad = false;
  const c0 = u.charCodeAt(0);
  const colon = u.indexOf(":");
  const scheme = colon > 0 ? u.slice(0, colon) : "";
  if (c0 === 47 || c0 === 92 || (colon === 1 && (u[2] === "/" || u[2] === "\\"))) bad = true;
  else if (scheme === "file" || t.always.has(scheme) || t.fetch.has(scheme)) bad = true;
  else if (WEB_SCHEMES.has(scheme)) {
    const url = splitUrl(u);
    const host = url === null ? "" : primaryHost(url.authority);
    bad = parameter || isBlockClass(t, classifyHost(t, host).cls);
    checkUrl(t, scan, u, ctx, false);
    if (!bad) {
      technique(t, scan, "SSRF_XXE_EXTERNAL", u);
      return;
    }
  } else return;
  const spec = t.data.techniques.SSRF_XXE;
  if (severe === "BLOCK") technique(t, scan, "SSRF_XXE", u);
  else
    addFinding(
      scan,
      "SSRF_XXE",
      "WARN",
      t.data.techniques.SSRF_XXE_EXTERNAL.confidence,
      spec.message,
      u,
    );
}

/** The bytes RE2 scans: the normalised text, capped (RE2 on a Buffer is not re-encoded per call). */
function scanned(view: TextView): Buffer {
  return view.buf.length > MAX_EMBED_SCAN ? view.buf.subarray(0, MAX_EMBED_SCAN) : view.buf;
}

/**
 * URLs a renderer fetches by itself — src/href/data attributes (links excepted), CSS url()
 * and @import, markdown images, meta refresh, script fetches — and XML external entities,
 * judged in the context of who renders them.
 */
function checkEmbeds(t: Tables, scan: Scan, view: TextView, ctx: Context, severe: Severity): void {
  if (view.norm.length < 8) return;
  let hinted = false;
  for (const e of t.embeds) {
    if (view.norm.indexOf(e.spec.hint) >= 0) {
      hinted = true;
      break;
    }
  }
  if (!hinted) return;
  const subject = scanned(view);
  const hits = t.embedSet.match(subject);
  let count = 0;
  for (const index of hits) {
    const e = t.embeds[index]!;
    const re = e.re;
    re.lastIndex = 0;
    for (let m = re.exec(subject); m !== null && count < MAX_EMBEDS; m = re.exec(subject)) {
      count++;
      const group = (m as unknown as (Buffer | undefined)[])[1];
      if (group === undefined) continue;
      const url = group.toString("utf8");
      if (url === "") continue;
      if (e.spec.role !== "fetch") {
        checkEntity(t, scan, url, e.spec.role === "parameter_entity", ctx, severe);
        continue;
      }
      if (e.spec.linkAttribute && t.linkTags.has(tagBefore(subject, m.index))) continue;
      const u = withSlashes(absolute(url));
      if (u.indexOf("://") > 0) checkUrl(t, scan, u, ctx, false);
      else opaqueScheme(t, scan, u, ctx);
    }
  }
}

/** "Then open http://…", "use the browser tool to fetch http://…": a URL the agent is told to fetch. */
function checkImperative(t: Tables, scan: Scan, view: TextView): void {
  if (view.norm.indexOf("//") < 0) return;
  const subject = scanned(view);
  const re = t.imperative;
  re.lastIndex = 0;
  let count = 0;
  for (let m = re.exec(subject); m !== null && count < MAX_EMBEDS; m = re.exec(subject)) {
    count++;
    const group = (m as unknown as (Buffer | undefined)[])[1];
    if (group !== undefined) {
      checkUrl(t, scan, withSlashes(absolute(group.toString("utf8"))), "document", false);
    }
  }
}

/**
 * Layer 5: SSRF. Every host an action would reach — URLs in the target, parameters and decoded
 * blobs, the bare host of an HTTP action, hosts nested in paths and query strings, each reading
 * of an ambiguous authority, URLs a renderer fetches from markup it is given (iframe, img, CSS,
 * markdown images, XML external entities), webhook and callback parameters of any tool — is
 * parsed as an address in any notation (decimal, octal, hex, short forms, IPv6 with embedded
 * IPv4) or a DNS name (loopback aliases, wildcard and rebinding DNS, names spelling an address,
 * cluster-internal names, infrastructure ports) and classified: cloud metadata, loopback,
 * link-local and private targets are blocked, as are schemes that read files or speak raw
 * protocols and metadata paths on any host. Text that merely mentions such addresses (prose,
 * documentation URLs, links in a page) passes.
 */
export function createNetworkLayer(input: unknown): Layer {
  const data = NetworkDataSchema.parse(input);
  const v4 = data.ipv4Ranges
    .map(([cidr, cls]) => v4Range(cidr, cls))
    .sort((a, b) => b.bits - a.bits);
  const v6: V6Range[] = [
    ...data.ipv6Ranges.map(([cidr, cls]) => v6Range(cidr, cls)),
    ...data.ipv6Embedded.map((e) =>
      v6Range(e.prefix, null, { offset: e.offset, inverted: e.inverted === true }),
    ),
  ].sort((a, b) => b.bits - a.bits);
  const names = new Map<string, HostClass>();
  for (const [cls, list] of Object.entries(data.hostNames) as [HostClass, string[]][]) {
    for (const name of list) names.set(name, cls);
  }
  const suffixes = new Map<string, HostClass>();
  for (const [cls, list] of Object.entries(data.hostSuffixes) as [HostClass, string[]][]) {
    for (const suffix of list) suffixes.set(suffix, cls);
  }
  const tables: Tables = {
    data,
    v4,
    v6,
    names,
    suffixes,
    rebinding: new Set(data.rebindingDns),
    wildcard: new Set(data.wildcardDns),
    always: new Set(data.schemes.always),
    fetch: new Set(data.schemes.fetch),
    softened: {
      service: new Map(Object.entries(data.softened.service) as [HostClass, number][]),
      script: new Map(Object.entries(data.softened.script) as [HostClass, number][]),
      tool: new Map(Object.entries(data.softened.tool) as [HostClass, number][]),
      document: new Map(Object.entries(data.softened.document) as [HostClass, number][]),
    },
    hostKeys: new Set(data.hostParamKeys),
    fetchKeys: new Set(data.fetchParamKeys),
    fetchWords: data.fetchParamWords,
    infraPorts: new Set(data.infraPorts.map(String)),
    metadataPaths: data.metadataPaths,
    embeds: data.embeds.map((spec) => ({ spec, re: new RE2(spec.pattern, "gu") })),
    embedSet: new RE2.Set(
      data.embeds.map((e) => e.pattern),
      "u",
    ),
    linkTags: new Set(data.linkTags),
    imperative: new RE2(data.imperativeFetch, "gu"),
  };
  const rules = compileRules("network", data.rules);

  return {
    name: "network",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const kind = facts.kind;
      const context = contextOf(kind);
      if (context === null) {
        // A prompt telling the agent to fetch a metadata URL; other prose is never a request.
        if (kind !== "llm_prompt" || facts.content.norm.indexOf("//") < 0) return NO_FINDINGS;
        const scan: Scan = { found: [], codes: new Set() };
        checkImperative(tables, scan, facts.content);
        return done(scan.found);
      }
      const scan: Scan = { found: rules(facts), codes: new Set() };
      for (const f of scan.found) scan.codes.add(f.code);
      // In an HTTP action the target as written keeps the backslashes and quotes the URL
      // extractor stops at (a\@b): judge it whole, and skip the extractor's copy of it.
      let direct = "";
      if (context === "fetch") {
        const target = withSlashes(facts.target.norm.trim());
        if (target.indexOf("://") > 0 && target.indexOf(" ") < 0) {
          direct = target;
          checkUrl(tables, scan, target, context, false);
        }
      }
      if (context === "tool") {
        // Webhooks, callbacks, images to import: the service behind the tool fetches them, so
        // they are judged as fetches, before the softer reading of every other parameter URL.
        for (let k = 0; k < facts.paramStrings.length && k < MAX_URLS; k++) {
          const p = facts.paramStrings[k]!;
          const ctx = fetchKeyContext(tables, p.key.toLowerCase());
          if (ctx === null) continue;
          const value = withSlashes(absolute(p.value.norm.trim()));
          if (value.indexOf("://") > 0 && value.indexOf(" ") < 0) {
            checkUrl(tables, scan, value, ctx, false);
          }
        }
      }
      let seen = 0;
      for (const url of facts.urls) {
        if (seen++ >= MAX_URLS) break;
        // Page bodies of HTTP actions and file contents are data, not requests.
        if (url.field === "content" && context !== "script") continue;
        if (url.field === "target" && direct !== "" && direct.startsWith(url.text)) continue;
        const ctx: Context = url.field === "decoded" && context === "script" ? "fetch" : context;
        checkUrl(tables, scan, url.text, ctx, false);
      }
      if (context !== "script") {
        // Schemes without "//" (jar:http://…!/, netdoc:/etc/passwd) escape the URL extractor.
        opaqueScheme(tables, scan, facts.target.norm, context);
        for (const p of facts.paramStrings) {
          if (p.path === p.key) opaqueScheme(tables, scan, p.value.norm, context);
        }
      }
      if (context === "fetch") {
        // A top-level host argument is where the tool connects; a "host" inside a request
        // body is data sent to the target, not a destination.
        for (const p of facts.paramStrings) {
          if (p.path !== p.key || !tables.hostKeys.has(p.key.toLowerCase())) continue;
          const host = bareHost(p.value);
          if (host !== null) checkUrl(tables, scan, `http://${host}`, context, false);
        }
      }
      // Markup handed to a tool is rendered (html_to_pdf, screenshot, SVG and XML import): its
      // embedded URLs are fetches. Written files only matter for metadata and disguised hosts;
      // a fetched page (an HTTP GET's content) is data.
      const outgoing = context !== "fetch" || facts.source === "agent";
      if (outgoing) {
        // Stored rather than rendered: files, database rows, payment memos.
        const file = FILE_KINDS.has(kind) || kind === "sql" || kind === "payment";
        const ctx: Context = file ? "document" : context === "tool" ? "fetch" : context;
        const severe: Severity = file ? "WARN" : "BLOCK";
        checkEmbeds(tables, scan, facts.content, ctx, severe);
        if (!file) {
          for (let k = 0; k < facts.paramStrings.length && k < MAX_URLS; k++) {
            checkEmbeds(tables, scan, facts.paramStrings[k]!.value, ctx, severe);
          }
        }
        if (kind === "other") checkImperative(tables, scan, facts.content);
        if (kind === "http") {
          // An outgoing body passes its URLs on to a service that may fetch them.
          let n = 0;
          for (const url of facts.urls) {
            if (url.field !== "content") continue;
            if (n++ >= MAX_URLS) break;
            checkUrl(tables, scan, url.text, "document", false);
          }
        }
      }
      if ((kind === "other" || kind === "http") && facts.target.norm.trim() === "") {
        // Content that is one URL, with no target, is the tool's input (summarize_url).
        const whole = withSlashes(facts.content.norm.trim());
        if (isOneUrl(whole)) {
          checkUrl(tables, scan, whole, kind === "http" ? "fetch" : "service", false);
        }
      }
      return done(scan.found);
    },
  };
}
