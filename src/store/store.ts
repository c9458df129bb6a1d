import { join } from "node:path";
import { AgentRepo } from "./agents.js";
import { ApiKeyRepo } from "./api-keys.js";
import { type Db, openDatabase } from "./db.js";
import { PassportRepo } from "./passports.js";
import { VerificationTokenRepo } from "./verification-tokens.js";

/** Everything the gateway persists, behind prepared statements. */
export type Store = Readonly<{
  db: Db;
  agents: AgentRepo;
  apiKeys: ApiKeyRepo;
  tokens: VerificationTokenRepo;
  passports: PassportRepo;
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
  return Object.freeze({
    db,
    agents: new AgentRepo(db),
    apiKeys: new ApiKeyRepo(db),
    tokens: new VerificationTokenRepo(db),
    passports: new PassportRepo(db),
    ping: () => {
      try {
        return ping.get() === 1;
      } catch {
        return false;
      }
    },
    close: () => {
      if (db.open) db.close();
    },
  });
}
