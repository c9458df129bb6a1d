/**
 * Schema migrations, applied in order at start-up; PRAGMA user_version records how many ran.
 * Append only: a shipped migration is never edited.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE agents (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    name_key          TEXT    NOT NULL,
    type              TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    owner_name        TEXT    NOT NULL,
    owner_email       TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    verified_at       INTEGER,
    quarantined_at    INTEGER,
    quarantine_reason TEXT,
    UNIQUE (owner_email, name_key)
  ) STRICT;

  CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('agent', 'admin')),
    agent_id    TEXT    REFERENCES agents(id),
    name        TEXT,
    hash        BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    prefix      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CHECK ((kind = 'agent') = (agent_id IS NOT NULL))
  ) STRICT;
  CREATE INDEX api_keys_agent ON api_keys(agent_id) WHERE agent_id IS NOT NULL;

  CREATE TABLE verification_tokens (
    hash        BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    agent_id    TEXT    NOT NULL REFERENCES agents(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
  ) STRICT;
  CREATE INDEX verification_tokens_agent ON verification_tokens(agent_id);

  CREATE TABLE agent_status_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id    TEXT    NOT NULL REFERENCES agents(id),
    status      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    at          INTEGER NOT NULL
  ) STRICT;
  `,
  `
  CREATE TABLE decisions (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id     TEXT    NOT NULL,
    agent_id       TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    target_sha256  TEXT,
    content_sha256 TEXT,
    decision       TEXT    NOT NULL CHECK (decision IN ('ALLOW', 'WARN', 'BLOCK')),
    findings       TEXT    NOT NULL,
    score          REAL    NOT NULL,
    latency_us     INTEGER NOT NULL,
    policy_id      TEXT    NOT NULL,
    policy_hash    TEXT    NOT NULL,
    at             INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX decisions_agent_at ON decisions(agent_id, at);
  `,
  `
  CREATE TABLE passports (
    id            TEXT    PRIMARY KEY,
    agent_id      TEXT    NOT NULL REFERENCES agents(id),
    kid           TEXT    NOT NULL,
    token_sha256  BLOB    NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    operator      TEXT    NOT NULL,
    jurisdiction  TEXT    NOT NULL,
    policy_id     TEXT    NOT NULL,
    policy_hash   TEXT    NOT NULL,
    issued_by     TEXT    NOT NULL,
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
  ) STRICT;
  CREATE INDEX passports_agent ON passports(agent_id);
  CREATE INDEX passports_kid_expiry ON passports(kid, expires_at);

  CREATE TABLE revocations (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id      TEXT    NOT NULL REFERENCES agents(id),
    passport_id   TEXT    REFERENCES passports(id),
    reason        TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    revoked       INTEGER NOT NULL,
    at            INTEGER NOT NULL
  ) STRICT;

  -- Which passport (if any) a decision was judged under.
  ALTER TABLE decisions ADD COLUMN passport_id TEXT;

  CREATE TABLE revoked_passports (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    passport_id    TEXT    NOT NULL UNIQUE REFERENCES passports(id),
    revocation_seq INTEGER NOT NULL REFERENCES revocations(seq)
  ) STRICT;
  `,
  `
  -- 4: a decision is identified by its request id, so a batch written twice (a writer thread
  -- that committed but died before saying so) is harmless, and lookups by request id are fast.
  CREATE UNIQUE INDEX decisions_request ON decisions(request_id);
  `,
];
