import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { buildApp } from "./app.js";
import { systemClock } from "./clock.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { issueApiKey } from "./crypto/api-key.js";
import { loadKeyring } from "./crypto/signing-keys.js";
import { newId } from "./ids.js";
import { createLogger, type Logger } from "./logger.js";
import { type Mailer, outboxMailer, smtpMailer } from "./mail/mailer.js";
import { createPipeline } from "./pipeline/pipeline.js";
import { DecisionLog } from "./store/decision-log.js";
import { databasePath, openStore, type Store } from "./store/store.js";

// The only module with side effects: it reads the environment, opens files and sockets.

function fail(message: string): never {
  process.stderr.write(`aiegis: ${message}\n`);
  process.exit(1);
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

function mailerFor(config: Config, logger: Logger): Mailer {
  return config.smtpUrl !== null
    ? smtpMailer(config.smtpUrl, config.mailFrom, logger)
    : outboxMailer(join(config.dataDir, "outbox"), config.mailFrom, logger);
}

function serveGateway(config: Config): void {
  const logger = createLogger(config.logLevel);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = openStore(databasePath(config.dataDir));
  const keyring = loadKeyring(config.dataDir, systemClock.now());
  const mailer = mailerFor(config, logger);
  const pipeline = createPipeline();
  const decisionLog = new DecisionLog(store.db, logger);
  const app = buildApp({
    config,
    store,
    clock: systemClock,
    keyring,
    mailer,
    logger,
    pipeline,
    decisionLog,
  });
  const resources = { store, mailer, decisionLog, logger };

  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    logger.info(
      {
        host: info.address,
        port: info.port,
        data_dir: config.dataDir,
        kid: keyring.active.kid,
        layers: pipeline.operationalLayers,
      },
      "listening",
    );
  }) as Server;
  // Slow or stalled clients cannot hold a socket forever.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.on("error", (err) => {
    logger.fatal({ err }, "server error");
    closeAndExit(resources, 1);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
    server.close(() => closeAndExit(resources, 0));
    // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
    const idleCloser = setInterval(() => server.closeIdleConnections(), 100);
    idleCloser.unref();
    setTimeout(() => {
      logger.warn("grace period over: closing remaining connections");
      server.closeAllConnections();
    }, config.shutdownGraceMs).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

type Resources = Readonly<{
  store: Store;
  mailer: Mailer;
  decisionLog: DecisionLog;
  logger: Logger;
}>;

function closeAndExit({ store, mailer, decisionLog, logger }: Resources, code: number): void {
  mailer.close();
  // Queued decisions are written before the database closes.
  decisionLog.close();
  store.close();
  logger.info({ code }, "stopped");
  process.exitCode = code;
  // Exit once the log is flushed; the timer bounds the wait should the flush never call back.
  const fallback = setTimeout(() => process.exit(code), 2_000);
  logger.flush(() => {
    clearTimeout(fallback);
    process.exit(code);
  });
}

/** `admin create-key --name N`, `admin list-keys`, `admin revoke-key ID`. */
function adminCommand(config: Config, args: string[]): void {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = openStore(databasePath(config.dataDir));
  const now = systemClock.now();
  try {
    const [command, ...rest] = args;
    if (command === "create-key") {
      const nameAt = rest.indexOf("--name");
      const name = nameAt >= 0 ? (rest[nameAt + 1] ?? "") : "admin";
      if (name.trim() === "" || name.length > 100) fail("--name must be 1 to 100 characters");
      const key = issueApiKey();
      const id = newId("adm");
      store.apiKeys.createAdmin({ id, name, hash: key.hash, prefix: key.prefix }, now);
      process.stdout.write(
        `${JSON.stringify({ id, name, prefix: key.prefix, api_key: key.key })}\n` +
          "Store this key now: it is shown once and only its hash is kept.\n",
      );
    } else if (command === "list-keys") {
      for (const key of store.apiKeys.listAdmin()) process.stdout.write(`${JSON.stringify(key)}\n`);
    } else if (command === "revoke-key" && rest[0] !== undefined) {
      if (!store.apiKeys.revokeAdmin(rest[0], now)) fail(`no live admin key with id ${rest[0]}`);
      process.stdout.write(`revoked ${rest[0]}\n`);
    } else {
      fail("usage: admin create-key [--name NAME] | admin list-keys | admin revoke-key ID");
    }
  } finally {
    store.close();
  }
}

const config = readConfig();
const [command, ...args] = process.argv.slice(2);
if (command === undefined || command === "serve") serveGateway(config);
else if (command === "admin") adminCommand(config, args);
else fail(`unknown command "${command}"; use "serve" (default) or "admin"`);
