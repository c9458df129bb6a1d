// Crash test: drives the real server with concurrent registrations, verifications, passport
// issues and revocations, quarantines and protect calls, and with operator clients that sign up,
// log in, refresh and log out, create organization agents, mint, use, revoke and rotate scoped
// keys and add members; kills it with SIGKILL at random moments, and after every kill checks,
// in the database file the dead process left behind, that every write the server acknowledged
// is there, that SQLite's integrity check passes and that the audit chain verifies; at the end,
// that every webhook event of an acknowledged write reached a loopback receiver at least once.
// Run: npm run crash-test [-- --kills 20 --seed 7]. A small run is in npm test.
import { hash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { SCOPES } from "../src/scopes.js";
import { prng } from "../test/helpers/prng.js";
import { type RunningServer, runCli, startServer } from "../test/helpers/server-process.js";

const ADMIN_KEY = "crash-test-admin-key-0123456789abcdef";

/** Everything the server answered with success: each of these must survive any crash. */
type Acknowledged = {
  registered: Map<string, { apiKey: string; email: string }>;
  verified: Set<string>;
  issued: Map<string, string>;
  revoked: Set<string>;
  quarantined: Set<string>;
  protects: number;
  /** Operator id → the e-mail it signed up with and the organization the signup created. */
  /** `verified`: the address's verification link was followed and acknowledged. */
  signups: Map<string, { email: string; orgId: string; verified: boolean }>;
  /** Session id (from a login) → SHA-256 (hex) of its first refresh token. */
  logins: Map<string, string>;
  /** SHA-256 (hex) of each refresh token a refresh returned → its session id. */
  refreshes: Map<string, string>;
  /** Session id → its last access token, for sessions whose logout was acknowledged. */
  loggedOut: Map<string, string>;
  /** Organization agent id → its organization id. */
  orgAgents: Map<string, string>;
  /** Organization key id → the key, whether it came from a creation or a rotation. */
  orgKeys: Map<string, OrgKey>;
  keyRevocations: Set<string>;
  /** Old key id → its acknowledged rotation (a key is rotated at most once by the workload). */
  keyRotations: Map<string, KeyRotation>;
  /** `orgId operatorId` → the role an acknowledged member add gave. */
  members: Map<string, string>;
  orgProtects: number;
};

type OrgKey = { orgId: string; scopes: string[]; apiKey: string; rotatedFrom?: string };

type KeyRotation = { newId: string; previousExpiresAt: number; graceZero: boolean };

export type CrashReport = {
  kills: number;
  acknowledged: {
    registered: number;
    verified: number;
    issued: number;
    revoked: number;
    quarantined: number;
    protects: number;
    signups: number;
    logins: number;
    refreshes: number;
    logouts: number;
    orgAgents: number;
    keysCreated: number;
    keysRevoked: number;
    keysRotated: number;
    members: number;
    orgProtects: number;
  };
  missing: string[];
  integrity: string[];
  rejectedAfterRestart: number;
  /** Revoked keys, keys rotated with no grace and logged-out sessions refused after restarts. */
  credentialsRejectedAfterRestart: number;
  /** `admin audit-verify` after every kill: failures (empty when the chain always verified). */
  audit: string[];
  auditEntries: number;
  /** Webhook events owed for acknowledged writes, and those that never reached the receiver. */
  webhooks: { expected: number; received: number; missing: string[] };
};

/** The webhook events each kind of acknowledged write must produce, keyed `type id`. */
function expectedEvents(ack: Acknowledged): Set<string> {
  const owed = new Set<string>();
  for (const agentId of ack.registered.keys()) owed.add(`agent.registered ${agentId}`);
  for (const agentId of ack.verified) owed.add(`agent.verified ${agentId}`);
  for (const agentId of ack.quarantined) owed.add(`agent.quarantined ${agentId}`);
  for (const passportId of ack.issued.keys()) owed.add(`passport.issued ${passportId}`);
  for (const passportId of ack.revoked) owed.add(`passport.revoked ${passportId}`);
  // An organization agent is active at once: its creation emits both.
  for (const agentId of ack.orgAgents.keys()) {
    owed.add(`agent.registered ${agentId}`);
    owed.add(`agent.verified ${agentId}`);
  }
  return owed;
}

const WEBHOOK_EVENTS = [
  "agent.registered",
  "agent.verified",
  "agent.quarantined",
  "passport.issued",
  "passport.revoked",
];

/** A loopback receiver that records every event it is sent as `type id`; always answers 204. */
async function startReceiver(): Promise<{ server: Server; url: string; seen: Set<string> }> {
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      try {
        const event = JSON.parse(body) as { type: string; data: Record<string, string> };
        const id = event.type.startsWith("passport.")
          ? event.data.passport_id
          : event.data.agent_id;
        seen.add(`${event.type} ${id}`);
      } catch {
        // Not an event: nothing to record.
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, seen };
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A killed server answers nothing; a non-JSON answer only matters as a status.
  }
  return { status: res.status, json };
}

/** Verification links by recipient, from the mails in the outbox directory. */
function tokensByEmail(dataDir: string): Map<string, string> {
  const outbox = join(dataDir, "outbox");
  const tokens = new Map<string, string>();
  if (!existsSync(outbox)) return tokens;
  for (const file of readdirSync(outbox).filter((f) => f.endsWith(".eml"))) {
    let text: string;
    try {
      text = readFileSync(join(outbox, file), "utf8");
    } catch {
      continue;
    }
    // Undo quoted-printable soft breaks and escapes, as a mail client would.
    text = text
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/g, (_m, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      );
    const to = /^To: (?:.*<)?([^>\s]+)>?\s*$/im.exec(text)?.[1]?.toLowerCase();
    const token = /verify-email\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
    if (to !== undefined && token !== undefined) tokens.set(to, token);
  }
  return tokens;
}

/** Operator clients next to the 8 agent-plane clients; each does one request at a time. */
const OPERATOR_CLIENTS = 2;
const OPERATOR_PASSWORD = "crash test password, long enough";
const YEAR_MS = 365 * 86_400_000;

/**
 * An operator client's account and session. Kept across server lives, as a real client keeps
 * its tokens across a gateway restart: signing up and logging in cost a production scrypt hash
 * each, so the client does them once and then lives on cheap, token-authenticated calls.
 */
type OperatorClient = {
  id: number;
  account?: { operatorId: string; email: string; orgId: string };
  session?: { sessionId: string; accessToken: string; refreshToken: string };
};

/** What one operator client's requests in one server life share. */
type OperatorRun = {
  base: string;
  /** Where the server writes its mail (outbox/), for the verification links. */
  dataDir: string;
  ack: Acknowledged;
  random: () => number;
  round: number;
  signal: AbortSignal;
  client: OperatorClient;
  /** Unique names and e-mails within this life. */
  next: () => number;
  /** Password hashes beyond those that (re)gain a session: at most one per life. */
  scryptBudget: number;
};

const refreshHash = (token: string) => hash("sha256", token, "hex");

/** The session id (`sid`) an access token carries; the gateway signed it, so no check here. */
function sessionIdOf(accessToken: string): string {
  const payload = Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString("utf8");
  return String((JSON.parse(payload) as { sid?: unknown }).sid);
}

function pickFrom<T>(random: () => number, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
}

/** A call with the client's access token; a 401 means its session ended, so it logs in again. */
async function asOperator(
  o: OperatorRun,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const session = o.client.session!;
  const res = await call(o.base, method, path, body, {
    authorization: `Bearer ${session.accessToken}`,
  });
  if (res.status === 401 && o.client.session === session) o.client.session = undefined;
  return res;
}

/** Signs up a new operator (and the organization it owns); undefined unless acknowledged. */
async function signUp(o: OperatorRun, email: string) {
  const res = await call(o.base, "POST", "/api/v1/auth/signup", {
    email,
    password: OPERATOR_PASSWORD,
    name: "Crash Operator",
    organization: `Crash Org ${o.round}-${o.client.id}-${o.next()}`,
  });
  if (res.status !== 201) return undefined;
  const operatorId = String((res.json.operator as { id: unknown }).id);
  const orgId = String((res.json.organization as { id: unknown }).id);
  const signup = { email, orgId, verified: false };
  o.ack.signups.set(operatorId, signup);
  // The mail is written before the signup is answered; following its link proves the address,
  // without which nobody can add this operator to an organization.
  const token = tokensByEmail(o.dataDir).get(email);
  if (token !== undefined) {
    const verified = await call(o.base, "GET", `/api/v1/auth/verify-email?token=${token}`);
    if (verified.status === 200) signup.verified = true;
  }
  return { operatorId, email, orgId };
}

function operatorEmail(o: OperatorRun, kind: string): string {
  return `${kind}-${o.round}-${o.client.id}-${o.next()}@example.com`;
}

async function logIn(o: OperatorRun): Promise<void> {
  const res = await call(o.base, "POST", "/api/v1/auth/login", {
    email: o.client.account!.email,
    password: OPERATOR_PASSWORD,
  });
  if (res.status !== 200) return;
  const accessToken = String(res.json.access_token);
  const refreshToken = String(res.json.refresh_token);
  const sessionId = sessionIdOf(accessToken);
  o.ack.logins.set(sessionId, refreshHash(refreshToken));
  o.client.session = { sessionId, accessToken, refreshToken };
}

/**
 * Rotates the refresh token. After a kill mid-refresh the client may hold a token the server
 * spent: presenting it ends the session (401 REFRESH_TOKEN_REUSED) and the client logs in again.
 */
async function refresh(o: OperatorRun): Promise<boolean> {
  const session = o.client.session!;
  const res = await call(o.base, "POST", "/api/v1/auth/refresh", {
    refresh_token: session.refreshToken,
  });
  if (res.status === 200) {
    const refreshToken = String(res.json.refresh_token);
    o.ack.refreshes.set(refreshHash(refreshToken), session.sessionId);
    o.client.session = {
      sessionId: session.sessionId,
      accessToken: String(res.json.access_token),
      refreshToken,
    };
  } else if (res.status === 401) o.client.session = undefined;
  return true;
}

async function logOut(o: OperatorRun): Promise<boolean> {
  const session = o.client.session!;
  const res = await call(o.base, "POST", "/api/v1/auth/logout", {
    refresh_token: session.refreshToken,
  });
  if (res.status === 200) o.ack.loggedOut.set(session.sessionId, session.accessToken);
  // Logged out, or the session had already ended: either way, log in again.
  if (res.status === 200 || res.status === 401) o.client.session = undefined;
  return true;
}

async function createOrgAgent(o: OperatorRun): Promise<boolean> {
  const orgId = o.client.account!.orgId;
  const res = await asOperator(o, "POST", `/api/v1/organizations/${orgId}/agents`, {
    name: `org-agent-${o.round}-${o.client.id}-${o.next()}`,
    type: "crash-bot",
    description: "An organization agent created by the crash test.",
  });
  if (res.status === 201) o.ack.orgAgents.set(String(res.json.agent_id), orgId);
  return true;
}

/** Mostly keys that may call /protect, some with an expiry, some with other scopes too. */
function randomScopes(random: () => number): string[] {
  const scopes = SCOPES.filter((s) => random() < (s === "protect" ? 0.75 : 0.2));
  return scopes.length === 0 ? ["audit:read"] : scopes;
}

async function createOrgKey(o: OperatorRun): Promise<boolean> {
  const orgId = o.client.account!.orgId;
  const scopes = randomScopes(o.random);
  const expiresAt = o.random() < 0.3 ? new Date(Date.now() + YEAR_MS).toISOString() : undefined;
  const res = await asOperator(o, "POST", `/api/v1/organizations/${orgId}/api-keys`, {
    name: `key-${o.round}-${o.client.id}-${o.next()}`,
    scopes,
    ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
  });
  if (res.status === 201) {
    o.ack.orgKeys.set(String(res.json.id), { orgId, scopes, apiKey: String(res.json.api_key) });
  }
  return true;
}

/** The client's organization's keys that are neither revoked nor rotated away, by id. */
function liveKeys(o: OperatorRun): string[] {
  const orgId = o.client.account!.orgId;
  return [...o.ack.orgKeys]
    .filter(
      ([id, key]) =>
        key.orgId === orgId && !o.ack.keyRevocations.has(id) && !o.ack.keyRotations.has(id),
    )
    .map(([id]) => id);
}

async function revokeOrgKey(o: OperatorRun): Promise<boolean> {
  const keyId = pickFrom(o.random, liveKeys(o));
  if (keyId === undefined) return false;
  const orgId = o.client.account!.orgId;
  const res = await asOperator(o, "DELETE", `/api/v1/organizations/${orgId}/api-keys/${keyId}`);
  if (res.status === 200) o.ack.keyRevocations.add(keyId);
  return true;
}

/** Half with no grace (the old key stops at once), half with the default day of grace. */
async function rotateOrgKey(o: OperatorRun): Promise<boolean> {
  const oldId = pickFrom(o.random, liveKeys(o));
  if (oldId === undefined) return false;
  const orgId = o.client.account!.orgId;
  const graceZero = o.random() < 0.5;
  const res = await asOperator(
    o,
    "POST",
    `/api/v1/organizations/${orgId}/api-keys/${oldId}/rotate`,
    graceZero ? { grace_seconds: 0 } : {},
  );
  if (res.status !== 201) return true;
  const newId = String(res.json.id);
  o.ack.orgKeys.set(newId, {
    orgId,
    scopes: res.json.scopes as string[],
    apiKey: String(res.json.api_key),
    rotatedFrom: oldId,
  });
  o.ack.keyRotations.set(oldId, {
    newId,
    previousExpiresAt: Date.parse(String(res.json.previous_key_expires_at)),
    graceZero,
  });
  return true;
}

/**
 * Adds another signed-up operator with a random role; when every one is already a member,
 * signs up a teammate first (once per life: a signup costs a scrypt hash).
 */
async function addMember(o: OperatorRun): Promise<boolean> {
  const account = o.client.account!;
  const candidates = [...o.ack.signups]
    .filter(
      ([id, s]) =>
        s.verified && id !== account.operatorId && !o.ack.members.has(`${account.orgId} ${id}`),
    )
    .map(([id, s]) => ({ id, email: s.email }));
  let teammate = pickFrom(o.random, candidates);
  if (teammate === undefined) {
    if (o.scryptBudget <= 0) return false;
    o.scryptBudget--;
    const signedUp = await signUp(o, operatorEmail(o, "teammate"));
    if (signedUp === undefined) return true;
    teammate = { id: signedUp.operatorId, email: signedUp.email };
  }
  const role = pickFrom(o.random, ["admin", "member", "viewer"])!;
  const res = await asOperator(o, "POST", `/api/v1/organizations/${account.orgId}/members`, {
    email: teammate.email,
    role,
  });
  if (res.status === 201) o.ack.members.set(`${account.orgId} ${teammate.id}`, role);
  return true;
}

/** /api/v1/protect with a live `protect` key and one of its organization's agents. */
async function protectWithOrgKey(o: OperatorRun): Promise<boolean> {
  const orgId = o.client.account!.orgId;
  const keyId = pickFrom(
    o.random,
    liveKeys(o).filter((id) => o.ack.orgKeys.get(id)!.scopes.includes("protect")),
  );
  const agentId = pickFrom(
    o.random,
    [...o.ack.orgAgents].filter(([, org]) => org === orgId).map(([id]) => id),
  );
  if (keyId === undefined || agentId === undefined) return false;
  const res = await call(
    o.base,
    "POST",
    "/api/v1/protect",
    {
      agent_id: agentId,
      action: "read_file",
      target: "docs/readme.md",
      content: "summarise the readme",
    },
    { "x-api-key": o.ack.orgKeys.get(keyId)!.apiKey },
  );
  if (res.status === 200) o.ack.orgProtects++;
  return true;
}

/** One step: gain an account and a session if needed, else one cheap operator call. */
async function operatorStep(o: OperatorRun): Promise<boolean> {
  const client = o.client;
  if (client.account === undefined) {
    client.account = await signUp(o, operatorEmail(o, "operator"));
    return true;
  }
  if (client.session === undefined) {
    await logIn(o);
    return true;
  }
  const roll = o.random();
  if (roll < 0.06) return refresh(o);
  if (roll < 0.2) return createOrgAgent(o);
  if (roll < 0.32) return createOrgKey(o);
  if (roll < 0.4) return revokeOrgKey(o);
  if (roll < 0.48) return rotateOrgKey(o);
  if (roll < 0.55) return addMember(o);
  if (roll < 0.56) {
    // Logging out forces a login (a scrypt hash): it shares the life's budget with signups.
    if (o.scryptBudget <= 0) return false;
    o.scryptBudget--;
    return logOut(o);
  }
  return protectWithOrgKey(o);
}

/** An operator client for one server life; one request at a time, as the agent clients. */
async function operatorActor(o: OperatorRun): Promise<void> {
  while (!o.signal.aborted) {
    try {
      // A step with nothing to do sent no request: yield, or this loop would starve the others.
      if (!(await operatorStep(o))) await sleep(2);
    } catch {
      // The server was killed mid-request: nothing was acknowledged.
      if (o.signal.aborted) return;
      await sleep(5);
    }
  }
}

/**
 * Runs the workload until `signal` is aborted; every success is recorded in `ack` only after
 * its response arrived, so what is recorded is exactly what the server acknowledged.
 */
async function workload(
  base: string,
  dataDir: string,
  ack: Acknowledged,
  random: () => number,
  round: number,
  signal: AbortSignal,
  operators: readonly OperatorClient[],
): Promise<void> {
  let n = 0;
  const admin = { "x-api-key": ADMIN_KEY };
  const pick = <T>(items: readonly T[]): T | undefined =>
    items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
  const actor = async (id: number) => {
    while (!signal.aborted) {
      try {
        const roll = random();
        if (roll < 0.3) {
          const name = `crash-${round}-${id}-${n++}`;
          const email = `${name}@example.com`;
          const res = await call(base, "POST", "/api/register", {
            agent_name: name,
            agent_type: "assistant",
            description: "An agent registered by the crash test.",
            owner_name: "Crash Test",
            owner_email: email,
          });
          if (res.status === 201) {
            ack.registered.set(String(res.json.agent_id), {
              apiKey: String(res.json.api_key),
              email,
            });
          }
        } else if (roll < 0.5) {
          const tokens = tokensByEmail(dataDir);
          const pending = [...ack.registered].filter(
            ([agentId, a]) => !ack.verified.has(agentId) && tokens.has(a.email),
          );
          const chosen = pick(pending);
          if (chosen !== undefined) {
            const token = tokens.get(chosen[1].email)!;
            const res = await fetch(`${base}/api/verify-email?token=${token}`, {
              signal: AbortSignal.timeout(10_000),
            });
            if (res.status === 200) ack.verified.add(chosen[0]);
          }
        } else if (roll < 0.65) {
          const agentId = pick([...ack.verified].filter((a) => !ack.quarantined.has(a)));
          if (agentId !== undefined) {
            const res = await call(
              base,
              "POST",
              "/api/agent/issue",
              {
                agent_id: agentId,
                operator: "Crash Corp",
                jurisdiction: "EU",
                policy: "default",
                ttl_s: 86_400,
              },
              { "x-api-key": ack.registered.get(agentId)!.apiKey },
            );
            if (res.status === 201) ack.issued.set(String(res.json.passport_id), agentId);
          }
        } else if (roll < 0.75) {
          const passportId = pick([...ack.issued.keys()].filter((p) => !ack.revoked.has(p)));
          if (passportId !== undefined) {
            const agentId = ack.issued.get(passportId)!;
            const res = await call(
              base,
              "POST",
              "/registry/revoke",
              { agent_id: agentId, passport_id: passportId, reason: "crash test" },
              admin,
            );
            if (res.status === 200) ack.revoked.add(passportId);
          }
        } else if (roll < 0.8) {
          const agentId = pick([...ack.verified].filter((a) => !ack.quarantined.has(a)));
          if (agentId !== undefined) {
            const res = await call(
              base,
              "POST",
              `/api/agents/${agentId}/quarantine`,
              { reason: "crash test" },
              admin,
            );
            if (res.status === 200) ack.quarantined.add(agentId);
          }
        } else {
          const agentId = pick([...ack.verified].filter((a) => !ack.quarantined.has(a)));
          if (agentId !== undefined) {
            const res = await call(
              base,
              "POST",
              "/api/protect",
              { action: "read_file", target: "docs/readme.md", content: "summarise the readme" },
              { "x-api-key": ack.registered.get(agentId)!.apiKey },
            );
            if (res.status === 200) ack.protects++;
          }
        }
      } catch {
        // The server was killed mid-request: nothing was acknowledged.
        if (signal.aborted) return;
        await sleep(5);
      }
    }
  };
  const operatorRun = (client: OperatorClient): OperatorRun => ({
    base,
    dataDir,
    ack,
    random,
    round,
    signal,
    client,
    next: () => n++,
    scryptBudget: 1,
  });
  await Promise.all([
    ...Array.from({ length: 8 }, (_, i) => actor(i)),
    ...operators.map((client) => operatorActor(operatorRun(client))),
  ]);
}

/** Every acknowledged signup: its operator, its organization and the owner membership. */
function checkSignups(db: Database.Database, ack: Acknowledged, missing: string[]): void {
  const operator = db.prepare("SELECT email FROM operators WHERE id = ?").pluck();
  const verifiedAt = db.prepare("SELECT verified_at FROM operators WHERE id = ?").pluck();
  const organization = db.prepare("SELECT created_by FROM organizations WHERE id = ?").pluck();
  const role = db
    .prepare("SELECT role FROM memberships WHERE org_id = ? AND operator_id = ?")
    .pluck();
  for (const [operatorId, signup] of ack.signups) {
    if (operator.get(operatorId) !== signup.email) missing.push(`signup ${operatorId}`);
    if (signup.verified && verifiedAt.get(operatorId) == null) {
      missing.push(`verification of operator ${operatorId}`);
    }
    if (organization.get(signup.orgId) !== operatorId) {
      missing.push(`organization ${signup.orgId} of signup ${operatorId}`);
    }
    if (role.get(signup.orgId, operatorId) !== "owner") {
      missing.push(`owner membership of ${operatorId} in ${signup.orgId}`);
    }
  }
  for (const [member, expected] of ack.members) {
    const [orgId, operatorId] = member.split(" ");
    if (role.get(orgId, operatorId) !== expected) missing.push(`member ${operatorId} in ${orgId}`);
  }
}

/** Every acknowledged login and refresh: its refresh token's hash; every logout: still ended. */
function checkSessions(db: Database.Database, ack: Acknowledged, missing: string[]): void {
  const token = db.prepare("SELECT session_id FROM refresh_tokens WHERE hash = ?").pluck();
  const revokedAt = db.prepare("SELECT revoked_at FROM operator_sessions WHERE id = ?").pluck();
  const sessionOf = (hex: string) => token.get(Buffer.from(hex, "hex"));
  for (const [sessionId, hex] of ack.logins) {
    if (sessionOf(hex) !== sessionId) missing.push(`login session ${sessionId}`);
  }
  for (const [hex, sessionId] of ack.refreshes) {
    if (sessionOf(hex) !== sessionId) missing.push(`refresh token of session ${sessionId}`);
  }
  for (const sessionId of ack.loggedOut.keys()) {
    const at = revokedAt.get(sessionId);
    if (at === undefined || at === null) missing.push(`logout of session ${sessionId}`);
  }
}

/** Every acknowledged organization agent, key, key revocation and key rotation. */
function checkOrgResources(db: Database.Database, ack: Acknowledged, missing: string[]): void {
  const agentOrg = db.prepare("SELECT org_id FROM agents WHERE id = ?").pluck();
  for (const [agentId, orgId] of ack.orgAgents) {
    if (agentOrg.get(agentId) !== orgId) missing.push(`org agent ${agentId} in ${orgId}`);
  }
  const keyRow = db.prepare(
    `SELECT org_id AS orgId, scopes, revoked_at AS revokedAt, expires_at AS expiresAt,
            rotated_from AS rotatedFrom FROM org_api_keys WHERE id = ?`,
  );
  type KeyRow = {
    orgId: string;
    scopes: string;
    revokedAt: number | null;
    expiresAt: number | null;
    rotatedFrom: string | null;
  };
  for (const [keyId, key] of ack.orgKeys) {
    const row = keyRow.get(keyId) as KeyRow | undefined;
    if (row === undefined || row.orgId !== key.orgId) {
      missing.push(`API key ${keyId}`);
      continue;
    }
    if (row.scopes !== JSON.stringify(key.scopes)) missing.push(`scopes of API key ${keyId}`);
    if (key.rotatedFrom !== undefined && row.rotatedFrom !== key.rotatedFrom) {
      missing.push(`rotation ${key.rotatedFrom} → ${keyId}`);
    }
    if (ack.keyRevocations.has(keyId) && row.revokedAt === null) {
      missing.push(`revocation of API key ${keyId}`);
    }
    const rotation = ack.keyRotations.get(keyId);
    if (
      rotation !== undefined &&
      !(row.expiresAt !== null && row.expiresAt <= rotation.previousExpiresAt)
    ) {
      missing.push(`shortened expiry of rotated API key ${keyId} (${row.expiresAt})`);
    }
  }
}

/** Checks the dead server's database file against what it acknowledged. */
function checkDatabase(
  path: string,
  ack: Acknowledged,
): { missing: string[]; integrity: string[] } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma("integrity_check") as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .filter((r) => r !== "ok");
    const missing: string[] = [];
    const agent = db.prepare(
      "SELECT verified_at AS v, quarantined_at AS q FROM agents WHERE id = ?",
    );
    const passport = db.prepare("SELECT revoked_at AS r FROM passports WHERE id = ?");
    for (const agentId of ack.registered.keys()) {
      const row = agent.get(agentId) as { v: number | null; q: number | null } | undefined;
      if (row === undefined) missing.push(`registration ${agentId}`);
      else {
        if (ack.verified.has(agentId) && row.v === null) missing.push(`verification ${agentId}`);
        if (ack.quarantined.has(agentId) && row.q === null) missing.push(`quarantine ${agentId}`);
      }
    }
    for (const passportId of ack.issued.keys()) {
      const row = passport.get(passportId) as { r: number | null } | undefined;
      if (row === undefined) missing.push(`passport ${passportId}`);
      else if (ack.revoked.has(passportId) && row.r === null)
        missing.push(`revocation ${passportId}`);
    }
    checkSignups(db, ack, missing);
    checkSessions(db, ack, missing);
    checkOrgResources(db, ack, missing);
    return { missing, integrity };
  } finally {
    db.close();
  }
}

function acknowledgedCounts(ack: Acknowledged): CrashReport["acknowledged"] {
  const rotated = [...ack.orgKeys.values()].filter((k) => k.rotatedFrom !== undefined).length;
  return {
    registered: ack.registered.size,
    verified: ack.verified.size,
    issued: ack.issued.size,
    revoked: ack.revoked.size,
    quarantined: ack.quarantined.size,
    protects: ack.protects,
    signups: ack.signups.size,
    logins: ack.logins.size,
    refreshes: ack.refreshes.size,
    logouts: ack.loggedOut.size,
    orgAgents: ack.orgAgents.size,
    keysCreated: ack.orgKeys.size - rotated,
    keysRevoked: ack.keyRevocations.size,
    keysRotated: ack.keyRotations.size,
    members: ack.members.size,
    orgProtects: ack.orgProtects,
  };
}

/**
 * The restarted server's own view: the latest revoked keys, keys rotated with no grace and
 * logged-out sessions acknowledged before a kill must still be refused (401).
 */
async function checkCredentialsRefused(
  base: string,
  ack: Acknowledged,
  report: CrashReport,
): Promise<void> {
  const refused = (what: string, status: number) => {
    if (status === 401) report.credentialsRejectedAfterRestart++;
    else report.missing.push(`${what} accepted after restart (${status})`);
  };
  const retired = [...ack.keyRotations].filter(([, r]) => r.graceZero).map(([id]) => id);
  for (const keyId of [...[...ack.keyRevocations].slice(-3), ...retired.slice(-3)]) {
    const key = ack.orgKeys.get(keyId)!;
    const agentId = [...ack.orgAgents].find(([, org]) => org === key.orgId)?.[0];
    const res = await call(
      base,
      "POST",
      "/api/v1/protect",
      { agent_id: agentId ?? "agt_0000000000000000000000", action: "read_file", target: "x" },
      { "x-api-key": key.apiKey },
    );
    refused(`revoked or retired API key ${keyId}`, res.status);
  }
  for (const [sessionId, accessToken] of [...ack.loggedOut].slice(-3)) {
    const res = await call(base, "GET", "/api/v1/auth/me", undefined, {
      authorization: `Bearer ${accessToken}`,
    });
    refused(`access token of logged-out session ${sessionId}`, res.status);
  }
}

/**
 * Waits until every operator client holds an account and a session. A signup or login takes a
 * scrypt hash (up to a second or two under this load); were the kill timer armed before them,
 * short lives would kill them every time and the operator plane would never be exercised. Later
 * logins (after a logout or a session ended by a replayed refresh token) and teammate signups
 * still run under the kill timer.
 */
async function operatorsReady(operators: readonly OperatorClient[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  const ready = () => operators.every((o) => o.account !== undefined && o.session !== undefined);
  while (!ready()) {
    if (Date.now() > deadline) throw new Error("operator clients could not sign up and log in");
    await sleep(20);
  }
}

/** Kills the server `kills` times at random moments under load and checks every time. */
export async function runCrashTest(options: {
  kills: number;
  seed: number;
  dataDir: string;
  minRunMs?: number;
  maxRunMs?: number;
  /** How long the last start may take to deliver every owed webhook event. */
  deliveryWaitMs?: number;
  onKill?: (i: number, report: CrashReport) => void;
}): Promise<CrashReport> {
  const random = prng(options.seed);
  const ack: Acknowledged = {
    registered: new Map(),
    verified: new Set(),
    issued: new Map(),
    revoked: new Set(),
    quarantined: new Set(),
    protects: 0,
    signups: new Map(),
    logins: new Map(),
    refreshes: new Map(),
    loggedOut: new Map(),
    orgAgents: new Map(),
    orgKeys: new Map(),
    keyRevocations: new Set(),
    keyRotations: new Map(),
    members: new Map(),
    orgProtects: 0,
  };
  const operators: OperatorClient[] = Array.from({ length: OPERATOR_CLIENTS }, (_, id) => ({ id }));
  const report: CrashReport = {
    kills: 0,
    acknowledged: acknowledgedCounts(ack),
    missing: [],
    integrity: [],
    rejectedAfterRestart: 0,
    credentialsRejectedAfterRestart: 0,
    audit: [],
    auditEntries: 0,
    webhooks: { expected: 0, received: 0, missing: [] },
  };
  const receiver = await startReceiver();
  const env = {
    AIEGIS_DATA_DIR: options.dataDir,
    AIEGIS_ADMIN_KEY: ADMIN_KEY,
    AIEGIS_RATE_LIMITS: "off",
    AIEGIS_AUTO_QUARANTINE: "off",
    // The receiver listens on loopback.
    AIEGIS_WEBHOOK_ALLOW_PRIVATE: "1",
    // Fixed, as a deployment's is: access tokens name it as their issuer, and one derived from
    // each start's random port would end every operator's access token at every restart.
    AIEGIS_PUBLIC_URL: "http://gateway.crash-test.example",
  };
  const minRun = options.minRunMs ?? 300;
  const maxRun = options.maxRunMs ?? 2_000;
  let server: RunningServer | undefined;
  try {
    for (let i = 0; i < options.kills; i++) {
      server = await startServer(env, { startTimeoutMs: 60_000 });
      if (i === 0) {
        const hook = await call(
          server.url,
          "POST",
          "/api/webhooks",
          { url: receiver.url, events: WEBHOOK_EVENTS },
          { "x-api-key": ADMIN_KEY },
        );
        if (hook.status !== 201) throw new Error(`webhook registration failed: ${hook.status}`);
      }
      // Revoked passports stay rejected after a restart (the server's own view, not only the file).
      for (const passportId of [...ack.revoked].slice(-3)) {
        const agentId = ack.issued.get(passportId)!;
        const res = await call(server.url, "GET", `/registry/revocations?limit=1000`);
        const listed = (res.json.revocations as { passport_id: string }[] | undefined) ?? [];
        if (!listed.some((r) => r.passport_id === passportId)) {
          report.missing.push(`revocation ${passportId} of ${agentId} not listed after restart`);
        } else report.rejectedAfterRestart++;
      }
      await checkCredentialsRefused(server.url, ack, report);
      const stop = new AbortController();
      const running = workload(server.url, options.dataDir, ack, random, i, stop.signal, operators);
      await operatorsReady(operators).catch((err: unknown) => {
        // Stop the clients, or they would keep calling the stopped server forever.
        stop.abort();
        throw err;
      });
      await sleep(minRun + random() * (maxRun - minRun));
      // No shutdown hook runs: whatever was acknowledged must already be on disk.
      server.child.kill("SIGKILL");
      await server.stop();
      stop.abort();
      await running;
      report.kills++;
      const { missing, integrity } = checkDatabase(join(options.dataDir, "aiegis.db"), ack);
      report.missing.push(...missing);
      report.integrity.push(...integrity);
      const verified = await runCli(["admin", "audit-verify"], {
        AIEGIS_DATA_DIR: options.dataDir,
      });
      try {
        const verdict = JSON.parse(verified.stdout) as { ok: boolean; entries: number };
        report.auditEntries = verdict.entries;
        if (verified.code !== 0 || !verdict.ok)
          report.audit.push(`after kill ${i + 1}: ${verified.stdout.trim()}`);
      } catch {
        report.audit.push(
          `after kill ${i + 1}: audit-verify said ${verified.stdout}${verified.stderr}`,
        );
      }
      report.acknowledged = acknowledgedCounts(ack);
      options.onKill?.(i + 1, report);
      server = undefined;
    }
    // Last start: the dispatcher delivers what the killed processes left in the outbox (a
    // delivery leased by a killed process waits for its lease to run out, 60 s).
    server = await startServer(env, { startTimeoutMs: 60_000 });
    const owed = expectedEvents(ack);
    const deadline = Date.now() + (options.deliveryWaitMs ?? 120_000);
    const unseen = () => [...owed].filter((e) => !receiver.seen.has(e));
    while (unseen().length > 0 && Date.now() < deadline) await sleep(500);
    report.webhooks = {
      expected: owed.size,
      received: owed.size - unseen().length,
      missing: unseen(),
    };
  } finally {
    if (server !== undefined) await server.stop();
    receiver.server.close();
  }
  return report;
}

async function main() {
  const { values } = parseArgs({
    options: {
      kills: { type: "string", default: "20" },
      seed: { type: "string", default: String(Date.now() % 1_000_000) },
    },
  });
  const dataDir = mkdtempSync(join(tmpdir(), "aiegis-crash-"));
  const started = Date.now();
  const kills = Number(values.kills);
  console.log(`crash test: ${kills} SIGKILLs under load, seed ${values.seed}`);
  try {
    const report = await runCrashTest({
      kills,
      seed: Number(values.seed),
      dataDir,
      onKill: (i, r) =>
        console.log(
          `  kill ${i}: acknowledged so far ${JSON.stringify(r.acknowledged)}, missing ${r.missing.length}, integrity problems ${r.integrity.length}`,
        ),
    });
    console.log(
      `\n${report.kills} kills in ${((Date.now() - started) / 1000).toFixed(0)} s. Acknowledged and found after every kill: ` +
        `${report.acknowledged.registered} registrations, ${report.acknowledged.verified} verifications, ` +
        `${report.acknowledged.issued} passports issued, ${report.acknowledged.revoked} revocations, ` +
        `${report.acknowledged.quarantined} quarantines (plus ${report.acknowledged.protects} protect calls answered); ` +
        `operator plane: ${report.acknowledged.signups} signups (operator, organization, owner), ${report.acknowledged.logins} logins, ` +
        `${report.acknowledged.refreshes} refreshes, ${report.acknowledged.logouts} logouts, ${report.acknowledged.orgAgents} organization agents, ` +
        `${report.acknowledged.keysCreated} API keys created, ${report.acknowledged.keysRevoked} revoked, ${report.acknowledged.keysRotated} rotated, ` +
        `${report.acknowledged.members} members added (plus ${report.acknowledged.orgProtects} protect calls with organization keys answered). ` +
        `Missing: ${report.missing.length}. PRAGMA integrity_check: ${report.integrity.length === 0 ? "ok every time" : report.integrity.join("; ")}. ` +
        `Revocations listed again after restarts: ${report.rejectedAfterRestart}; revoked keys, retired keys and ended sessions refused after restarts: ${report.credentialsRejectedAfterRestart}. ` +
        `Audit chain: ${report.audit.length === 0 ? "verified after every kill" : report.audit.join("; ")} (${report.auditEntries} entries). ` +
        `Webhook events owed for acknowledged writes: ${report.webhooks.expected}, received at least once: ${report.webhooks.received}.`,
    );
    const failures = [
      ...report.missing,
      ...report.integrity,
      ...report.audit,
      ...report.webhooks.missing.map((e) => `webhook event never delivered: ${e}`),
    ];
    if (failures.length > 0) {
      console.log(`FAILED:\n${failures.slice(0, 20).join("\n")}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
