import pino from "pino";
import type { LogLevel } from "./config.js";

export type Logger = pino.Logger;

/**
 * Paths pino censors if they ever reach a log call. Nothing logs headers or bodies today;
 * this is the second line of defence for secrets.
 */
const REDACT = [
  "api_key",
  "*.api_key",
  "key",
  "*.key",
  "token",
  "*.token",
  "password",
  "*.password",
  "passport",
  "*.passport",
  'headers["x-agent-passport"]',
  'req.headers["x-agent-passport"]',
  "headers.authorization",
  'headers["x-api-key"]',
  'headers["x-aiegis-key"]',
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  'req.headers["x-aiegis-key"]',
];

let stampMs = -1;
let stamp = "";

/**
 * pino's isoTime, computed once per millisecond: under load many lines share a millisecond and
 * Date#toISOString was a visible share of each access line's cost.
 */
function cachedIsoTime(): string {
  const now = Date.now();
  if (now !== stampMs) {
    stampMs = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

/**
 * The logger for the per-request access line: the same destination and fields, without the
 * redaction pass. Its lines carry only fields the gateway builds (id, method, path without the
 * query, status, latency), never client headers or bodies, and redaction was the larger part
 * of each line's cost.
 */
export function accessLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/** A JSON logger writing to `destination` (stdout by default, buffered) without blocking the event loop. */
export function createLogger(
  level: LogLevel,
  destination?: pino.DestinationStream,
  fields: Readonly<Record<string, string | number>> = {},
): Logger {
  return pino(
    {
      level,
      base: { service: "aiegis", ...fields },
      redact: { paths: REDACT, censor: "[redacted]" },
      timestamp: cachedIsoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ??
      // One write per 8 KB or per 100 ms instead of one per line: under load the per-request
      // access line was a tenth of the gateway's CPU in write syscalls. A crash can lose the
      // lines of the last 100 ms (the README says so); a clean stop flushes them.
      pino.destination({ dest: 1, sync: false, minLength: 8_192, periodicFlush: 100 }),
  );
}
