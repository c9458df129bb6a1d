import { dirname, join } from "node:path";
import { ephemeralSecretBox, fileSecretBox } from "../webhooks/secret-box.js";
import { AgentRepo } from "./agents.js";
import { ApiKeyRepo } from "./api-keys.js";
import { AssessmentRepo } from "./assessments.js";
import { AuditLog } from "./audit-log.js";
import { type Db, openDatabase } from "./db.js";
import { OperatorRepo } from "./operators.js";
import { OrgApiKeyRepo } from "./org-api-keys.js";
import { OrganizationRepo } from "./organizations.js";
import { PassportRepo } from "./passports.js";
import { VerificationTokenRepo } from "./verification-tokens.js";
import { WebhookRepo } from "./webhooks.js";

/** Everything the gateway persists, behind prepared statements. */
export type Store = Readonly<{
  db: Db;
  agents: AgentRepo;
  apiKeys: ApiKeyRepo;
  tokens: VerificationTokenRepo;
  passports: PassportRepo;
  assessments: AssessmentRepo;
  /** The hash-chained audit log; the repos above append to it inside their transactions. */
  audit: AuditLog;
  /** Webhook endpoints (secrets sealed with the data dir's key) and their deliveries. */
  webhooks: WebhookRepo;
  organizations: OrganizationRepo;
  /** Operator accounts, their sessions and refresh tokens. */
  operators: OperatorRepo;
  /** Scoped organization keys (`ak_live_…`). */
  orgApiKeys: OrgApiKeyRepo;
  /** A trivial query, for /api/health: false when the database cannot answer. */
  ping(): boolean;
  close(): void;
}>;

/** The database file inside a data dir. */
export function databasePath(dataDir: string): string {
  return join(dataDir, "aiegis.db");
}

/** Opens the store at `path` (a file, or `:memory:` for tests). */
export function openStore(path: string): Store {
  const db = openDatabase(path);
  const ping = db.prepare("SELECT 1").pluck();
  const audit = new AuditLog(db);
  const orgApiKeys = new OrgApiKeyRepo(db, audit);
  const organizations = new OrganizationRepo(db, audit);
  return Object.freeze({
    db,
    agents: new AgentRepo(db, audit),
    apiKeys: new ApiKeyRepo(db, audit),
    tokens: new VerificationTokenRepo(db, audit),
    passports: new PassportRepo(db, audit),
    assessments: new AssessmentRepo(db),
    audit,
    // An in-memory database gets an in-memory key: its sealed secrets die with it.
    webhooks: new WebhookRepo(
      db,
      path === ":memory:" ? ephemeralSecretBox() : fileSecretBox(dirname(path)),
      audit,
    ),
    organizations,
    operators: new OperatorRepo(db, organizations, audit),
    orgApiKeys,
    ping: () => {
      try {
        return ping.get() === 1;
      } catch {
        return false;
      }
    },
    close: () => {
      orgApiKeys.flushUsage();
      if (db.open) db.close();
    },
  });
}
