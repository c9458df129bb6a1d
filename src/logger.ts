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
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ??
      // One write per 8 KB or per 100 ms instead of one per line: under load the per-request
      // access line was a tenth of the gateway's CPU in write syscalls. A crash can lose the
      // lines of the last 100 ms (the README says so); a clean stop flushes them.
      pino.destination({ dest: 1, sync: false, minLength: 8_192, periodicFlush: 100 }),
  );
}
