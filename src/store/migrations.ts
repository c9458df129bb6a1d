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
  `
  -- 5: deep scoring results (POST /api/score/deep), kept whole as signed JSON so what
  -- GET /api/assessments/:id returns is byte for byte what was signed.
  CREATE TABLE assessments (
    id                TEXT    PRIMARY KEY,
    agent_id          TEXT    NOT NULL REFERENCES agents(id),
    pack              TEXT    NOT NULL,
    input_sha256      TEXT    NOT NULL CHECK (length(input_sha256) = 64),
    risk_tier         TEXT    NOT NULL
      CHECK (risk_tier IN ('prohibited', 'high', 'limited', 'minimal', 'undetermined')),
    grade             TEXT    NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D', 'E', 'F')),
    score             INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    compliance_score  INTEGER NOT NULL CHECK (compliance_score BETWEEN 0 AND 100),
    kid               TEXT    NOT NULL,
    result            TEXT    NOT NULL,
    signature         TEXT    NOT NULL,
    created_at        INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX assessments_agent ON assessments(agent_id, created_at);
  CREATE INDEX assessments_kid ON assessments(kid);
  `,
  `
  -- 6: the tamper-evident audit log (src/store/audit-log.ts). seq is assigned by the appender
  -- (head + 1, inside an IMMEDIATE transaction), hash = SHA-256(canonical JSON || prev_hash).
  CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    agent_id   TEXT,
    actor      TEXT,
    decision   TEXT,
    data       TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
  ) STRICT;
  CREATE INDEX audit_log_agent ON audit_log(agent_id, seq) WHERE agent_id IS NOT NULL;
  CREATE INDEX audit_log_at ON audit_log(at);

  -- Signed checkpoints: the JWS in token is what counts; the other columns are for queries.
  CREATE TABLE audit_checkpoints (
    size       INTEGER PRIMARY KEY,
    head_hash  TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    kid        TEXT    NOT NULL,
    token      TEXT    NOT NULL
  ) STRICT;
  CREATE INDEX audit_checkpoints_kid ON audit_checkpoints(kid);
  `,
  `
  -- 7: webhooks (src/store/webhooks.ts, src/store/webhook-outbox.ts). The signing secret is
  -- stored sealed (AES-256-GCM, key in <data dir>/keys/webhook-secrets.key), never in clear.
  -- agent_id NULL: an admin endpoint, which receives every agent's events.
  CREATE TABLE webhook_endpoints (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    agent_id         TEXT    REFERENCES agents(id),
    created_by       TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    description      TEXT,
    event_mask       INTEGER NOT NULL CHECK (event_mask > 0),
    secret_sealed    BLOB    NOT NULL,
    created_at       INTEGER NOT NULL,
    last_success_at  INTEGER,
    failing_since    INTEGER,
    disabled_at      INTEGER,
    disabled_reason  TEXT
  ) STRICT;
  CREATE INDEX webhook_endpoints_agent ON webhook_endpoints(agent_id, seq);

  -- The outbox: one row per event (payload = the exact bytes sent and signed), written in the
  -- transaction of the change it reports, and one delivery per endpoint it is fanned out to.
  CREATE TABLE webhook_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    agent_id    TEXT,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX webhook_events_at ON webhook_events(created_at);

  CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_seq        INTEGER NOT NULL REFERENCES webhook_events(seq),
    endpoint_id      TEXT    NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    UNIQUE (event_seq, endpoint_id)
  ) STRICT;
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
  CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, seq);
  CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(finished_at) WHERE status != 'pending';

  CREATE TABLE webhook_attempts (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_seq  INTEGER NOT NULL REFERENCES webhook_deliveries(seq) ON DELETE CASCADE,
    attempt       INTEGER NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_seq, attempt);
  `,
  `
  CREATE TABLE operators (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE,
    email          TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE organizations (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_by  TEXT    NOT NULL REFERENCES operators(id),
    created_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE memberships (
    org_id       TEXT    NOT NULL REFERENCES organizations(id),
    operator_id  TEXT    NOT NULL REFERENCES operators(id),
    role         TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, operator_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX memberships_operator ON memberships(operator_id);

  -- A session is one refresh-token family: every rotation stays in it, and revoking it (logout,
  -- or a refresh token presented twice) ends the access tokens that carry its id as well.
  CREATE TABLE operator_sessions (
    id              TEXT    PRIMARY KEY,
    operator_id     TEXT    NOT NULL REFERENCES operators(id),
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    revoked_reason  TEXT
  ) STRICT;
  CREATE INDEX operator_sessions_operator ON operator_sessions(operator_id);

  CREATE TABLE refresh_tokens (
    hash        BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    session_id  TEXT    NOT NULL REFERENCES operator_sessions(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
  ) STRICT;
  CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

  CREATE TABLE org_api_keys (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT    NOT NULL UNIQUE,
    org_id        TEXT    NOT NULL REFERENCES organizations(id),
    name          TEXT    NOT NULL,
    hash          BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    prefix        TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER,
    revoked_at    INTEGER,
    rotated_from  TEXT
  ) STRICT;
  CREATE INDEX org_api_keys_org ON org_api_keys(org_id, seq);

  ALTER TABLE agents ADD COLUMN org_id TEXT REFERENCES organizations(id);
  CREATE INDEX agents_org ON agents(org_id, seq) WHERE org_id IS NOT NULL;
  ALTER TABLE webhook_endpoints ADD COLUMN org_id TEXT REFERENCES organizations(id);
  `,
  `
  -- Operators prove they own their address before anyone can add them to an organization:
  -- otherwise whoever signed up first with a colleague's address would be let in in their place.
  ALTER TABLE operators ADD COLUMN verified_at INTEGER;

  CREATE TABLE operator_email_tokens (
    hash         BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    operator_id  TEXT    NOT NULL REFERENCES operators(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
  ) STRICT;
  CREATE INDEX operator_email_tokens_operator ON operator_email_tokens(operator_id);
  `,
  `
  -- A password reset mailed to the address: single use, short-lived, stored as SHA-256 only.
  CREATE TABLE operator_password_tokens (
    hash         BLOB    PRIMARY KEY CHECK (length(hash) = 32),
    operator_id  TEXT    NOT NULL REFERENCES operators(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
  ) STRICT;
  CREATE INDEX operator_password_tokens_operator ON operator_password_tokens(operator_id);
  `,
];
