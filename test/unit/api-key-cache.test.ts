import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { issueApiKey } from "../../src/crypto/api-key.js";
import { openStore, type Store } from "../../src/store/store.js";

describe("API key lookups through the per-process cache", () => {
  const dir = mkdtempSync(join(tmpdir(), "aiegis-key-cache-"));
  const path = join(dir, "aiegis.db");
  // Two connections to one file: a gateway worker and another writer (a second worker, the CLI).
  const gateway = openStore(path);
  const other = openStore(path);
  after(() => {
    gateway.close();
    other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  function registerAgent(store: Store) {
    n++;
    const key = issueApiKey();
    const id = `agt_cache_${n}`;
    const result = store.agents.register({
      id,
      name: `cache-bot-${n}`,
      nameKey: `cache-bot-${n}`,
      type: "assistant",
      description: "An agent registered by the key cache test.",
      ownerName: "Owner",
      ownerEmail: `owner${n}@example.com`,
      createdAt: 1_000,
      key: { id: `key_cache_${n}`, hash: key.hash, prefix: key.prefix },
      token: { hash: Buffer.alloc(32, n), expiresAt: 2_000 },
    });
    assert.equal(result.ok, true);
    return { id, key };
  }

  test("a repeated lookup is answered from the cache until something is written", () => {
    const { key } = registerAgent(gateway);
    const first = gateway.apiKeys.findByHash(key.hash);
    assert.ok(first);
    assert.equal(
      gateway.apiKeys.findByHash(key.hash),
      first,
      "the same frozen match, not a re-read",
    );
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.agent));
    registerAgent(gateway);
    const afterWrite = gateway.apiKeys.findByHash(key.hash);
    assert.notEqual(afterWrite, first, "a write on this connection empties the cache");
    assert.deepEqual(afterWrite, first);
  });

  test("a key revoked by another connection is refused on the very next lookup", () => {
    const { id, key } = registerAgent(gateway);
    assert.ok(gateway.apiKeys.findByHash(key.hash));
    const replacement = issueApiKey();
    other.apiKeys.rotateAgentKey(
      id,
      { id: `key_cache_rotated_${n}`, hash: replacement.hash, prefix: replacement.prefix },
      3_000,
    );
    assert.equal(gateway.apiKeys.findByHash(key.hash), undefined);
    assert.equal(gateway.apiKeys.findByHash(replacement.hash)?.agent?.id, id);
  });

  test("a quarantine by either connection shows in the next lookup", () => {
    const { id, key } = registerAgent(gateway);
    assert.equal(gateway.apiKeys.findByHash(key.hash)?.agent?.quarantinedAt, null);
    other.agents.quarantine({ agentId: id, reason: "test", actor: "admin", at: 4_000 });
    assert.equal(gateway.apiKeys.findByHash(key.hash)?.agent?.quarantinedAt, 4_000);
    gateway.agents.unquarantine({ agentId: id, reason: "test", actor: "admin", at: 5_000 });
    assert.equal(gateway.apiKeys.findByHash(key.hash)?.agent?.quarantinedAt, null);
  });

  test("a key seen only inside a transaction that rolls back is not remembered", () => {
    const key = issueApiKey();
    const { id } = registerAgent(gateway);
    assert.throws(() =>
      gateway.db.transaction(() => {
        gateway.db
          .prepare(
            "INSERT INTO api_keys (id, kind, agent_id, hash, prefix, created_at) VALUES (?, 'agent', ?, ?, ?, 0)",
          )
          .run(`key_rolled_back_${n}`, id, key.hash, key.prefix);
        assert.ok(gateway.apiKeys.findByHash(key.hash), "visible inside its transaction");
        throw new Error("roll back");
      })(),
    );
    assert.equal(gateway.apiKeys.findByHash(key.hash), undefined);
  });
});
