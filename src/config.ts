import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";
import { BODY_LIMIT } from "./body-limits.js";

/** A rate-limit rule: at most `limit` requests in any sliding window of `windowMs`. */
export type RateRule = Readonly<{ limit: number; windowMs: number }>;

export type RateLimitName =
  | "protect"
  | "scoreFree"
  | "scoreDeep"
  | "login"
  | "register"
  | "default"
  | "v1User"
  | "v1Key"
  | "v1Burst";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export type Config = Readonly<{
  port: number;
  host: string;
  dataDir: string;
  publicUrl: string;
  /** SHA-256 of AIEGIS_ADMIN_KEY; the key itself is never kept. */
  adminKeyHash: Buffer | null;
  smtpUrl: string | null;
  mailFrom: string;
  rateLimits: Readonly<{ enabled: boolean; rules: Readonly<Record<RateLimitName, RateRule>> }>;
  maxBody: number;
  /** N BLOCK decisions within the window quarantine the agent; null when off. */
  autoQuarantine: RateRule | null;
  /** Byte limit for every JSON body except /api/protect. */
  publicMaxBody: number;
  trustedProxies: readonly string[];
  logLevel: LogLevel;
  shutdownGraceMs: number;
  /** Processes serving the port (node:cluster); 1 serves from this process alone. */
  workers: number;
  /** GET /metrics (Prometheus) is served and requests are measured; off → 404. */
  metrics: boolean;
  /** AIEGIS_WEBHOOK_ALLOW_PRIVATE=1: webhook URLs may be http and point at private addresses. */
  webhookAllowPrivate: boolean;
  /**
   * Audit log: entries older than retentionDays are pruned (up to a checkpoint), a signed
   * checkpoint every checkpointEvery entries; excerpts keeps redacted request text excerpts.
   */
  audit: Readonly<{ retentionDays: number; checkpointEvery: number; excerpts: boolean }>;
  /** Operator sessions: access-token (JWT) lifetime in seconds, refresh-token lifetime in days. */
  sessions: Readonly<{ accessTokenTtlS: number; refreshTokenTtlDays: number }>;
}>;

const DURATION_UNITS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses `30/1m`, `5/h` or `100/10s` into a rule; null when the text is not of that form. */
export function parseRateRule(text: string): RateRule | null {
  const slash = text.indexOf("/");
  if (slash <= 0) return null;
  const limitText = text.slice(0, slash).trim();
  let windowText = text.slice(slash + 1).trim();
  const unit = DURATION_UNITS[windowText.slice(-1)];
  if (unit === undefined) return null;
  windowText = windowText.slice(0, -1);
  const count = windowText === "" ? 1 : Number(windowText);
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || !Number.isInteger(count) || count <= 0) return null;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1_000_000) return null;
  const windowMs = count * unit;
  if (windowMs > 7 * 86_400_000) return null;
  return Object.freeze({ limit, windowMs });
}

const rateRule = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const rule = parseRateRule(text);
      if (rule === null) {
        ctx.addIssue({
          code: "custom",
          message: `expected "<limit>/<window>" such as 30/1m or 5/1h (window ≤ 7d), got "${text}"`,
        });
        return z.NEVER;
      }
      return rule;
    });

/** An IPv4/IPv6 address or CIDR block, as accepted by AIEGIS_TRUSTED_PROXIES. */
export function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split("/");
  if (address === undefined || rest.length > 0) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const intInRange = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const value = Number(text);
      if (
        !/^\d+$/.test(text.trim()) ||
        !Number.isSafeInteger(value) ||
        value < min ||
        value > max
      ) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be an integer from ${min} to ${max}, got "${text}"`,
        });
        return z.NEVER;
      }
      return value;
    });

const EnvSchema = z.object({
  PORT: intInRange("PORT", 0, 65_535, 8080),
  HOST: z
    .string()
    .default("127.0.0.1")
    .refine((h) => isIP(h) !== 0 || /^[A-Za-z0-9.-]{1,253}$/.test(h), {
      message: "must be an IP address or a host name",
    }),
  AIEGIS_DATA_DIR: z.string().min(1).default("./var"),
  AIEGIS_PUBLIC_URL: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
  AIEGIS_ADMIN_KEY: z
    .string()
    .min(32, { message: "must be at least 32 characters" })
    .max(512, { message: "must be at most 512 characters" })
    .optional(),
  AIEGIS_SMTP_URL: z
    .url({ protocol: /^smtps?$/, message: "must be an smtp:// or smtps:// URL" })
    .optional(),
  AIEGIS_MAIL_FROM: z.string().min(3).max(254).default("AiEGIS <no-reply@aiegis.localhost>"),
  AIEGIS_RATE_LIMITS: z.enum(["on", "off"]).default("on"),
  AIEGIS_RATE_LIMIT_PROTECT: rateRule("30/1m"),
  // Public and unauthenticated: per client IP, tight enough that scraping the engine is slow.
  AIEGIS_RATE_LIMIT_SCORE_FREE: rateRule("20/1h"),
  AIEGIS_RATE_LIMIT_SCORE_DEEP: rateRule("30/1h"),
  AIEGIS_RATE_LIMIT_LOGIN: rateRule("5/1m"),
  AIEGIS_RATE_LIMIT_REGISTER: rateRule("5/1h"),
  AIEGIS_RATE_LIMIT_DEFAULT: rateRule("60/1m"),
  // /api/v1, after authentication: per operator (access token), per API key, and a burst cap.
  AIEGIS_RATE_LIMIT_V1_USER: rateRule("100/1m"),
  AIEGIS_RATE_LIMIT_V1_KEY: rateRule("1000/1m"),
  AIEGIS_RATE_LIMIT_V1_BURST: rateRule("200/1s"),
  // The layers are measured and bounded up to 1 MiB of text; larger bodies are refused at the door.
  AIEGIS_MAX_BODY: intInRange("AIEGIS_MAX_BODY", 1024, 1024 * 1024, BODY_LIMIT.protect),
  AIEGIS_AUTO_QUARANTINE: z
    .string()
    .default("5/10m")
    .transform((text, ctx) => {
      if (text.toLowerCase() === "off") return null;
      const rule = parseRateRule(text);
      if (rule === null) {
        ctx.addIssue({
          code: "custom",
          message: `expected "<blocks>/<window>" such as 5/10m, or "off", got "${text}"`,
        });
        return z.NEVER;
      }
      return rule;
    }),
  AIEGIS_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((text, ctx) => {
      const entries = text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      for (const entry of entries) {
        if (!isAddressOrCidr(entry)) {
          ctx.addIssue({
            code: "custom",
            message: `"${entry}" is not an IP address or CIDR block`,
          });
          return z.NEVER;
        }
      }
      return entries;
    }),
  AIEGIS_LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
  AIEGIS_SHUTDOWN_GRACE_MS: intInRange("AIEGIS_SHUTDOWN_GRACE_MS", 0, 600_000, 10_000),
  AIEGIS_WORKERS: intInRange("AIEGIS_WORKERS", 1, 64, 1),
  AIEGIS_METRICS: z.enum(["on", "off"]).default("on"),
  // Off by default: a webhook URL is a request the gateway makes on a client's behalf (SSRF).
  AIEGIS_WEBHOOK_ALLOW_PRIVATE: z.enum(["0", "1"]).default("0"),
  // EU AI Act Art. 19/26(6) ask for at least six months of logs.
  AIEGIS_AUDIT_RETENTION_DAYS: intInRange("AIEGIS_AUDIT_RETENTION_DAYS", 1, 36_500, 180),
  AIEGIS_AUDIT_CHECKPOINT_EVERY: intInRange("AIEGIS_AUDIT_CHECKPOINT_EVERY", 1, 1_000_000, 1000),
  AIEGIS_AUDIT_EXCERPTS: z.enum(["on", "off"]).default("off"),
  AIEGIS_ACCESS_TOKEN_TTL_S: intInRange("AIEGIS_ACCESS_TOKEN_TTL_S", 60, 3600, 900),
  AIEGIS_REFRESH_TOKEN_TTL_DAYS: intInRange("AIEGIS_REFRESH_TOKEN_TTL_DAYS", 1, 365, 30),
});

export type EnvInput = Readonly<Record<string, string | undefined>>;

/** Thrown when the environment does not parse; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Parses the environment once into a frozen Config, or throws a ConfigError naming the variable. */
export function loadConfig(env: EnvInput): Config {
  // An empty assignment (`AIEGIS_SMTP_URL=`) means "unset", as in most shells' .env files.
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== "") cleaned[key] = value.trim();
  }
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      // Messages never echo AIEGIS_ADMIN_KEY or AIEGIS_SMTP_URL: they may hold secrets.
      return `${String(issue.path[0] ?? "environment")}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  const adminKey = e.AIEGIS_ADMIN_KEY;
  const hostForUrl = e.HOST.includes(":") ? `[${e.HOST}]` : e.HOST;
  return deepFreeze<Config>({
    port: e.PORT,
    host: e.HOST,
    dataDir: e.AIEGIS_DATA_DIR,
    publicUrl: (e.AIEGIS_PUBLIC_URL ?? `http://${hostForUrl}:${e.PORT}`).replace(/\/+$/, ""),
    adminKeyHash: adminKey ? createHash("sha256").update(adminKey).digest() : null,
    smtpUrl: e.AIEGIS_SMTP_URL ?? null,
    mailFrom: e.AIEGIS_MAIL_FROM,
    rateLimits: {
      enabled: e.AIEGIS_RATE_LIMITS === "on",
      rules: {
        protect: e.AIEGIS_RATE_LIMIT_PROTECT,
        scoreFree: e.AIEGIS_RATE_LIMIT_SCORE_FREE,
        scoreDeep: e.AIEGIS_RATE_LIMIT_SCORE_DEEP,
        login: e.AIEGIS_RATE_LIMIT_LOGIN,
        register: e.AIEGIS_RATE_LIMIT_REGISTER,
        default: e.AIEGIS_RATE_LIMIT_DEFAULT,
        v1User: e.AIEGIS_RATE_LIMIT_V1_USER,
        v1Key: e.AIEGIS_RATE_LIMIT_V1_KEY,
        v1Burst: e.AIEGIS_RATE_LIMIT_V1_BURST,
      },
    },
    maxBody: e.AIEGIS_MAX_BODY,
    autoQuarantine: e.AIEGIS_AUTO_QUARANTINE,
    publicMaxBody: BODY_LIMIT.public,
    trustedProxies: e.AIEGIS_TRUSTED_PROXIES,
    logLevel: e.AIEGIS_LOG_LEVEL,
    shutdownGraceMs: e.AIEGIS_SHUTDOWN_GRACE_MS,
    workers: e.AIEGIS_WORKERS,
    metrics: e.AIEGIS_METRICS === "on",
    webhookAllowPrivate: e.AIEGIS_WEBHOOK_ALLOW_PRIVATE === "1",
    audit: {
      retentionDays: e.AIEGIS_AUDIT_RETENTION_DAYS,
      checkpointEvery: e.AIEGIS_AUDIT_CHECKPOINT_EVERY,
      excerpts: e.AIEGIS_AUDIT_EXCERPTS === "on",
    },
    sessions: {
      accessTokenTtlS: e.AIEGIS_ACCESS_TOKEN_TTL_S,
      refreshTokenTtlDays: e.AIEGIS_REFRESH_TOKEN_TTL_DAYS,
    },
  });
}
