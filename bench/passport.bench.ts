// Cost of agent passports: issuing, verifying cold (first sight) and cached, the raw Ed25519
// verifications behind them, and /api/protect with and without X-Agent-Passport.
// Run: npm run bench:passport
import { buildApp } from "../src/app.js";
import { systemClock } from "../src/clock.js";
import { loadConfig } from "../src/config.js";
import {
  nativePublicKey,
  signEd25519,
  verifyEd25519,
  verifyEd25519Native,
} from "../src/crypto/ed25519.js";
import { PassportVerifier, signPassport } from "../src/crypto/passport.js";
import { ephemeralKeyring } from "../src/crypto/signing-keys.js";
import { createLogger } from "../src/logger.js";
import { Metrics } from "../src/metrics.js";
import { PassportRegistry } from "../src/passport-registry.js";
import { createPipeline } from "../src/pipeline/pipeline.js";
import { PolicyLibrary } from "../src/pipeline/policy-library.js";
import { DecisionLog } from "../src/store/decision-log.js";
import { openStore } from "../src/store/store.js";
import { seedVerifiedAgent } from "./in-process-app.js";

const ISSUER = "http://127.0.0.1:8080";

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Median over rounds of the mean µs per call of `fn` (called `n` times per round). */
function micros(n: number, rounds: number, fn: (i: number) => void): number {
  const means: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(r * n + i);
    means.push(Number(process.hrtime.bigint() - start) / 1_000 / n);
  }
  return percentile(means, 50);
}

async function main() {
  const now = Date.now();
  const keyring = ephemeralKeyring(now);
  const key = keyring.active;
  const policies = new PolicyLibrary();
  const policy = policies.named("default")!;
  const store = openStore(":memory:");
  const { agentId, apiKey } = seedVerifiedAgent(store, now, "passport");
  const registry = new PassportRegistry({
    store,
    keyring,
    clock: systemClock,
    issuer: ISSUER,
    policies,
  });
  const input = (i: number) => ({
    issuer: ISSUER,
    agentId,
    passportId: `psp_${String(i).padStart(22, "0")}`,
    now,
    ttlS: 3600,
    operator: "Acme Corp",
    jurisdiction: "EU",
    policy,
  });

  // Raw signatures over a passport-sized message.
  const sample = signPassport(input(0), key).token;
  const signingInput = new TextEncoder().encode(sample.slice(0, sample.lastIndexOf(".")));
  const signature = signEd25519(signingInput, key.secretKey);
  const native = nativePublicKey(key.publicKey);

  const rows: Record<string, number> = {};
  rows["Ed25519 sign, @noble/ed25519"] = micros(200, 7, () => {
    signEd25519(signingInput, key.secretKey);
  });
  rows["Ed25519 verify, @noble/ed25519 (zip215: false)"] = micros(100, 7, () => {
    verifyEd25519(signature, signingInput, key.publicKey);
  });
  rows["Ed25519 verify, node:crypto (+ canonical S check)"] = micros(1_000, 7, () => {
    verifyEd25519Native(signature, signingInput, native);
  });
  rows["issue: sign a passport (claims + JWS)"] = micros(200, 7, (i) => {
    signPassport(input(i), key);
  });
  rows["issue: PassportRegistry.issue (sign + insert)"] = micros(200, 7, () => {
    registry.issue({
      agentId,
      operator: "Acme Corp",
      jurisdiction: "EU",
      policy,
      ttlS: 3600,
      issuedBy: "bench",
    });
  });

  // Cold: every token is seen for the first time by this verifier.
  const tokens = Array.from({ length: 7 * 1_000 }, (_, i) => signPassport(input(i), key).token);
  const cold = new PassportVerifier({ issuer: ISSUER, keyFor: () => native, policies });
  rows["verify cold (parse, header, signature, claims, bundle by hash)"] = micros(1_000, 7, (i) => {
    if (!cold.check(tokens[i]!).ok) throw new Error("cold verify failed");
  });
  const hot = tokens[0]!;
  rows["verify cached (SHA-256 of the token + map)"] = micros(20_000, 7, () => {
    if (!cold.check(hot).ok) throw new Error("cached verify failed");
  });
  const live = registry.issue({
    agentId,
    operator: "Acme Corp",
    jurisdiction: "EU",
    policy,
    ttlS: 3600,
    issuedBy: "bench",
  }).token;
  rows["verify cached + expiry + revocation/quarantine check (per request)"] = micros(
    20_000,
    7,
    () => {
      if (!registry.verify(live).valid) throw new Error("registry verify failed");
    },
  );

  // /api/protect in-process, alternating with and without the passport header.
  const config = loadConfig({
    AIEGIS_RATE_LIMITS: "off",
    AIEGIS_AUTO_QUARANTINE: "off",
    AIEGIS_LOG_LEVEL: "silent",
    AIEGIS_PUBLIC_URL: ISSUER,
  });
  const logger = createLogger("silent");
  const decisionLog = new DecisionLog(store.db, logger);
  const app = buildApp({
    config,
    store,
    clock: systemClock,
    keyring,
    mailer: { send: async () => {}, close: () => {} },
    logger,
    pipeline: createPipeline(),
    decisionLog,
    metrics: new Metrics({ processMetrics: false }),
  });
  const body = JSON.stringify({
    action: "read_file",
    target: "docs/getting-started.md",
    content: "Summarise the getting started guide for a new team member.",
  });
  const env = { incoming: { socket: { remoteAddress: "10.0.0.1" } } } as never;
  // "padding": a header of the passport's size that nobody reads, to tell what carrying 1.6 KB
  // more through the in-process Request costs from what checking the passport costs.
  const padding = "x".repeat(live.length);
  const call = async (extra: "none" | "passport" | "padding") => {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-api-key": apiKey,
    };
    if (extra === "passport") headers["x-agent-passport"] = live;
    if (extra === "padding") headers["x-padding"] = padding;
    const start = process.hrtime.bigint();
    const res = await app.request(
      "http://bench/api/protect",
      { method: "POST", headers, body },
      env,
    );
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`protect answered ${res.status}`);
    return Number(process.hrtime.bigint() - start) / 1_000;
  };
  for (let i = 0; i < 500; i++) {
    await call("none");
    await call("passport");
    await call("padding");
  }
  const without: number[] = [];
  const withPassport: number[] = [];
  const withPadding: number[] = [];
  for (let i = 0; i < 5_000; i++) {
    // Rotate the order so drift on the machine hits every variant alike.
    const order = [
      () => call("none").then((us) => without.push(us)),
      () => call("passport").then((us) => withPassport.push(us)),
      () => call("padding").then((us) => withPadding.push(us)),
    ];
    for (let k = 0; k < 3; k++) await order[(i + k) % 3]!();
    if (i % 500 === 0) decisionLog.flush();
  }
  decisionLog.close();
  rows["/api/protect without passport, p50"] = percentile(without, 50);
  rows["/api/protect without passport, p95"] = percentile(without, 95);
  rows["/api/protect with a same-size unread header, p50"] = percentile(withPadding, 50);
  rows["/api/protect with a same-size unread header, p95"] = percentile(withPadding, 95);
  rows["/api/protect with X-Agent-Passport, p50"] = percentile(withPassport, 50);
  rows["/api/protect with X-Agent-Passport, p95"] = percentile(withPassport, 95);

  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  process.stdout.write(`${"measure".padEnd(width)}       µs\n`);
  for (const [name, value] of Object.entries(rows)) {
    process.stdout.write(`${name.padEnd(width)} ${value.toFixed(2).padStart(8)}\n`);
  }
  const overhead = percentile(withPassport, 95) / percentile(without, 95) - 1;
  process.stdout.write(
    `\npassport overhead at p95: ${(overhead * 100).toFixed(1)}% (budget 10%)\n`,
  );
  store.close();
}

await main();
