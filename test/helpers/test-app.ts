import type { Hono } from "hono";
import { buildApp } from "../../src/app.js";
import type { AppEnv } from "../../src/app-env.js";
import type { Clock } from "../../src/clock.js";
import { type Config, loadConfig } from "../../src/config.js";
import { scryptPasswordHasher } from "../../src/crypto/password.js";
import { ephemeralKeyring, type Keyring } from "../../src/crypto/signing-keys.js";
import { createLogger } from "../../src/logger.js";
import type { Mailer, MailMessage } from "../../src/mail/mailer.js";
import { Metrics } from "../../src/metrics.js";
import { createPipeline, type Pipeline } from "../../src/pipeline/pipeline.js";
import { DecisionLog } from "../../src/store/decision-log.js";
import { openStore, type Store } from "../../src/store/store.js";

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Keeps every message instead of sending it. */
export class MemoryMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  async send(message: MailMessage): Promise<void> {
    this.sent.push(message);
  }
  close(): void {}
  /** The token of the last verification link sent to `to`. */
  lastToken(to: string): string {
    const message = this.sent.findLast((m) => m.to === to);
    if (message === undefined) throw new Error(`no mail to ${to}`);
    const token = new URL(message.link).searchParams.get("token");
    if (token === null) throw new Error("mail without token");
    return token;
  }
}

export const ADMIN_KEY = "test-admin-key-0123456789-abcdefghijklmnop";

export type CallOptions = {
  body?: unknown;
  /** A raw body, sent as is (a string or a stream). */
  raw?: RequestInit["body"];
  headers?: Record<string, string>;
  ip?: string;
};

export type TestApp = {
  app: Hono<AppEnv>;
  store: Store;
  decisionLog: DecisionLog;
  metrics: Metrics;
  clock: FakeClock;
  mailer: MemoryMailer;
  keyring: Keyring;
  config: Config;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  call(method: string, path: string, options?: CallOptions): Promise<Response>;
};

let sharedPipeline: Pipeline | undefined;

/** scrypt at N=2^10, p=1: the production code path at a thousandth of its cost. */
export const TEST_PASSWORD_HASHER = scryptPasswordHasher({ logN: 10, r: 8, p: 1 });

/** The app in-process on an in-memory database, a fresh key pair and a fake clock. */
export function makeTestApp(
  env: Record<string, string> = {},
  options: { pipeline?: Pipeline; keyring?: Keyring; store?: Store; metrics?: Metrics } = {},
): TestApp {
  const config = loadConfig({
    AIEGIS_LOG_LEVEL: "info",
    AIEGIS_PUBLIC_URL: "https://gateway.test",
    AIEGIS_ADMIN_KEY: ADMIN_KEY,
    AIEGIS_RATE_LIMITS: "off",
    AIEGIS_AUTO_QUARANTINE: "off",
    ...env,
  });
  const store = options.store ?? openStore(":memory:");
  const clock = new FakeClock(Date.parse("2026-11-23T12:00:00Z"));
  const keyring = options.keyring ?? ephemeralKeyring(clock.now());
  const mailer = new MemoryMailer();
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => void logs.push(line) });
  // Compiling every layer's patterns takes a while; one pipeline serves every test app.
  sharedPipeline ??= createPipeline();
  const pipeline = options.pipeline ?? sharedPipeline;
  const decisionLog = new DecisionLog(store.db, logger);
  // No process metrics: they add an event-loop monitor per app, and tests build hundreds.
  const metrics = options.metrics ?? new Metrics({ processMetrics: false });
  const app = buildApp({
    config,
    store,
    clock,
    keyring,
    mailer,
    logger,
    pipeline,
    decisionLog,
    metrics,
    passwordHasher: TEST_PASSWORD_HASHER,
  });
  const call = (method: string, path: string, options: CallOptions = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: RequestInit["body"] = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const init: RequestInit & { duplex?: "half" } = { method, headers, body };
    if (body instanceof ReadableStream) init.duplex = "half";
    const bindings = { incoming: { socket: { remoteAddress: options.ip ?? "192.0.2.1" } } };
    return Promise.resolve(app.request(`http://gateway.test${path}`, init, bindings as never));
  };
  return { app, store, decisionLog, metrics, clock, mailer, keyring, config, logs, call };
}

let counter = 0;

/** A valid registration body; each call gets a new agent name. */
export function registration(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    agent_name: `agent-${counter}`,
    agent_type: "assistant",
    description: "Books meetings and answers calendar questions for the sales team.",
    owner_name: "Ada Lovelace",
    owner_email: "ada@example.com",
    ...overrides,
  };
}

export type Registered = { agentId: string; apiKey: string; tag: string; email: string };

/** Registers an agent and returns its id and key; `verify` also clicks the e-mail link. */
export async function registerAgent(
  t: TestApp,
  options: { verify?: boolean; overrides?: Record<string, unknown> } = {},
): Promise<Registered> {
  const body = registration(options.overrides);
  const res = await t.call("POST", "/api/register", { body });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  const json = (await res.json()) as { agent_id: string; api_key: string; tag: string };
  const email = String(body.owner_email).toLowerCase();
  if (options.verify !== false) {
    const token = t.mailer.lastToken(email);
    const verified = await t.call("GET", `/api/verify-email?token=${encodeURIComponent(token)}`);
    if (verified.status !== 200) throw new Error(`verify failed: ${verified.status}`);
  }
  return { agentId: json.agent_id, apiKey: json.api_key, tag: json.tag, email };
}

/** Parses a JSON response, failing with the body text when it is not JSON. */
export async function jsonOf(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
}
