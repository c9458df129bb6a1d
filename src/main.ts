import cluster from "node:cluster";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { buildApp } from "./app.js";
import { LIMITERS } from "./app-env.js";
import { type AuditJobs, startAuditJobs, verifyStoredLog } from "./audit/jobs.js";
import { answerClientErrors } from "./client-error.js";
import { systemClock } from "./clock.js";
import { clusterScrapeClient, clusterScrapeServer } from "./cluster-metrics.js";
import { RateLimitClient, rateLimitServer } from "./cluster-rate-limit.js";
import { type Config, ConfigError, loadConfig, type RateRule } from "./config.js";
import { issueApiKey } from "./crypto/api-key.js";
import { addSigningKey, DirectoryKeyring, loadKeyring } from "./crypto/signing-keys.js";
import { newId } from "./ids.js";
import { createLogger, type Logger } from "./logger.js";
import { type Mailer, outboxMailer, smtpMailer } from "./mail/mailer.js";
import { Metrics } from "./metrics.js";
import { createPipeline } from "./pipeline/pipeline.js";
import { DecisionLog } from "./store/decision-log.js";
import { databasePath, openStore, type Store } from "./store/store.js";
import { WebhookDispatcher } from "./webhooks/dispatcher.js";

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
  // In a cluster worker: log which worker, count rate limits in the primary, and leave the
  // "listening" line to the primary (it logs it once every worker listens).
  const worker = cluster.isWorker ? cluster.worker : undefined;
  const logger = createLogger(
    config.logLevel,
    undefined,
    worker === undefined ? {} : { worker: worker.id },
  );
  const rateLimits = worker === undefined ? undefined : new RateLimitClient(process);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = openStore(databasePath(config.dataDir));
  const keyring = new DirectoryKeyring(config.dataDir, systemClock.now());
  // Picks up keys added by `admin rotate-signing-key` (issuing and unknown kids also re-check).
  const keyWatcher = setInterval(() => {
    try {
      if (keyring.refresh()) logger.info({ kid: keyring.active.kid }, "signing keys reloaded");
    } catch (err) {
      logger.error({ err }, "signing keys could not be reloaded; keeping the current ones");
    }
  }, 5_000);
  keyWatcher.unref();
  // Organization keys' last use is noted in memory per request and written here (and at close).
  const usageFlusher = setInterval(() => store.orgApiKeys.flushUsage(), 30_000);
  usageFlusher.unref();
  const mailer = mailerFor(config, logger);
  const pipeline = createPipeline();
  // Batches are committed (fsync included) on a writer thread, off the event loop.
  const decisionLog = new DecisionLog(store.db, logger, {
    writerThread: databasePath(config.dataDir),
    checkpoints: {
      dataDir: config.dataDir,
      issuer: config.publicUrl,
      every: config.audit.checkpointEvery,
    },
    excerpts: config.audit.excerpts,
  });
  // Each worker counts its own requests on its own registry, labelled with its id; whichever
  // worker a scrape reaches answers with every worker's series, collected by the primary.
  const metrics = new Metrics({
    defaultLabels: worker === undefined ? undefined : { worker: String(worker.id) },
    scrapeVia: worker === undefined ? undefined : clusterScrapeClient(process),
  });
  const app = buildApp({
    config,
    store,
    clock: systemClock,
    keyring,
    mailer,
    logger,
    pipeline,
    decisionLog,
    metrics,
    rateLimitStore: rateLimits && ((limiter) => rateLimits.store(limiter)),
  });
  // Signs audit checkpoints as entries accumulate, prunes past retention, and signs a last
  // checkpoint at shutdown (after the decision log's final batch).
  const auditJobs = startAuditJobs({ store, keyring, clock: systemClock, config, logger });
  // Delivers the webhook outbox in the background (every worker runs one; leases keep them apart).
  const webhooks = new WebhookDispatcher({
    repo: store.webhooks,
    clock: systemClock,
    logger,
    allowPrivate: config.webhookAllowPrivate,
  });
  webhooks.start();
  const resources = { store, mailer, decisionLog, auditJobs, webhooks, logger };

  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    logger.info(
      {
        host: info.address,
        port: info.port,
        data_dir: config.dataDir,
        kid: keyring.active.kid,
        layers: pipeline.operationalLayers,
      },
      worker === undefined ? "listening" : "worker listening",
    );
  }) as Server;
  answerClientErrors(server, logger);
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

/**
 * AIEGIS_WORKERS > 1: this process prepares the data dir (migrations, first signing key) once,
 * forks the workers that share the port, counts their rate limits, replaces a worker that dies,
 * and on SIGTERM stops them all (each finishes its in-flight requests) before exiting.
 */
function runPrimary(config: Config): void {
  const logger = createLogger(config.logLevel, undefined, { worker: 0 });
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  openStore(databasePath(config.dataDir)).close();
  const keyring = loadKeyring(config.dataDir, systemClock.now());
  const rules: Record<string, RateRule> = Object.fromEntries(
    Object.entries(LIMITERS).map(([id, rule]) => [id, config.rateLimits.rules[rule]]),
  );
  // Auto-quarantine counts BLOCKs in the same way, so N workers do not need N times as many.
  if (config.autoQuarantine !== null) rules.autoQuarantine = config.autoQuarantine;
  const limits = rateLimitServer(rules, systemClock);
  let announced = false;
  let stopping = false;
  const listened = new Set<number>();
  const scrapes = clusterScrapeServer();
  const fork = () => {
    const worker = cluster.fork();
    limits.attach(worker);
    scrapes.attach(worker);
  };
  cluster.on("listening", (worker, address) => {
    listened.add(worker.id);
    logger.info({ worker_id: worker.id, pid: worker.process.pid }, "worker listening");
    if (!announced && listened.size >= config.workers) {
      announced = true;
      logger.info(
        {
          host: config.host,
          port: address.port,
          data_dir: config.dataDir,
          kid: keyring.active.kid,
          workers: config.workers,
        },
        "listening",
      );
    }
  });
  const exitWhenAllGone = () => {
    if (Object.keys(cluster.workers ?? {}).length > 0) return;
    limits.shutdown();
    const code = Number(process.exitCode ?? 0);
    logger.info({ code }, "stopped");
    logger.flush(() => process.exit(code));
  };
  cluster.on("exit", (worker, code, signal) => {
    // A worker exits 0 only after a graceful shutdown (a signal to the whole process group).
    if (stopping || (code === 0 && signal === null)) {
      stopping = true;
      exitWhenAllGone();
      return;
    }
    if (!listened.has(worker.id)) {
      // It failed while starting (bad data file, port taken…): another would fail the same way.
      logger.fatal({ worker_id: worker.id, code, signal }, "worker failed to start; stopping");
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill("SIGTERM");
      process.exitCode = 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) logger.flush(() => process.exit(1));
      return;
    }
    // A worker that dies unasked is replaced, so the port keeps its capacity.
    logger.error({ worker_id: worker.id, code, signal }, "worker died; starting another");
    fork();
  });
  for (let i = 0; i < config.workers; i++) fork();

  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: stopping workers");
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    setTimeout(() => {
      logger.warn("workers did not stop in time: killing them");
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
    }, config.shutdownGraceMs + 5_000).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

type Resources = Readonly<{
  store: Store;
  mailer: Mailer;
  decisionLog: DecisionLog;
  auditJobs: AuditJobs;
  webhooks: WebhookDispatcher;
  logger: Logger;
}>;

function closeAndExit(
  { store, mailer, decisionLog, auditJobs, webhooks, logger }: Resources,
  code: number,
): void {
  mailer.close();
  // Queued decisions are written, and webhook POSTs in flight recorded, before the database closes.
  Promise.all([decisionLog.close(), webhooks.stop()])
    .catch((err: unknown) => logger.error({ err }, "decision log did not close cleanly"))
    .finally(() => {
      auditJobs.close();
      store.close();
      logger.info({ code }, "stopped");
      process.exitCode = code;
      // Exit once the log is flushed; the timer bounds the wait should the flush never call back.
      const fallback = setTimeout(() => process.exit(code), 2_000);
      logger.flush(() => {
        clearTimeout(fallback);
        process.exit(code);
      });
    });
}

/**
 * `admin create-key --name N`, `admin list-keys`, `admin revoke-key ID`,
 * `admin rotate-signing-key`, `admin audit-verify` (exit 1 when the audit log does not verify).
 */
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
      store.apiKeys.createAdmin({ id, name, hash: key.hash, prefix: key.prefix }, now, {
        actor: "cli",
      });
      process.stdout.write(
        `${JSON.stringify({ id, name, prefix: key.prefix, api_key: key.key })}\n` +
          "Store this key now: it is shown once and only its hash is kept.\n",
      );
    } else if (command === "rotate-signing-key") {
      const key = addSigningKey(config.dataDir, now);
      process.stdout.write(
        `${JSON.stringify({ kid: key.kid, created_at: new Date(key.createdAt).toISOString() })}\n` +
          "New passports are signed with this key from now on (running gateways pick it up within 5 s);\n" +
          "older public keys stay in the JWKS until the passports they signed have expired.\n",
      );
    } else if (command === "list-keys") {
      for (const key of store.apiKeys.listAdmin()) process.stdout.write(`${JSON.stringify(key)}\n`);
    } else if (command === "revoke-key" && rest[0] !== undefined) {
      if (!store.apiKeys.revokeAdmin(rest[0], now, { actor: "cli" })) {
        fail(`no live admin key with id ${rest[0]}`);
      }
      process.stdout.write(`revoked ${rest[0]}\n`);
    } else if (command === "audit-verify") {
      const verdict = verifyStoredLog(store, new DirectoryKeyring(config.dataDir, now));
      process.stdout.write(`${JSON.stringify(verdict)}\n`);
      if (!verdict.ok) process.exitCode = 1;
    } else {
      fail(
        "usage: admin create-key [--name NAME] | admin list-keys | admin revoke-key ID | admin rotate-signing-key | admin audit-verify",
      );
    }
  } finally {
    store.close();
  }
}

const config = readConfig();
const [command, ...args] = process.argv.slice(2);
if (command === undefined || command === "serve") {
  if (config.workers > 1 && cluster.isPrimary) runPrimary(config);
  else serveGateway(config);
} else if (command === "admin") adminCommand(config, args);
else fail(`unknown command "${command}"; use "serve" (default) or "admin"`);
