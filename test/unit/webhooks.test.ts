import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import {
  nextAttemptAt,
  parseRetryAfter,
  RETRY_AFTER_CAP_MS,
  RETRY_JITTER,
  RETRY_SCHEDULE_MS,
  retryDelayMs,
} from "../../src/webhooks/dispatcher.js";
import { eventPayload, maskOf, typesOf, WEBHOOK_EVENT_TYPES } from "../../src/webhooks/events.js";
import {
  ephemeralSecretBox,
  fileSecretBox,
  loadSecretKey,
  SECRET_KEY_FILE,
} from "../../src/webhooks/secret-box.js";
import {
  generateWebhookSecret,
  secretKeyBytes,
  signedHeaders,
} from "../../src/webhooks/signing.js";
import {
  blockedAddressReason,
  checkWebhookUrl,
  parseWebhookUrl,
  type Resolver,
} from "../../src/webhooks/url-guard.js";

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("webhook signing", () => {
  test("secrets are whsec_ + base64 of 32 random bytes, all different", () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(secretKeyBytes(a).length, 32);
    assert.notEqual(a, b);
  });

  test("the standardwebhooks library verifies our signatures", () => {
    const secret = generateWebhookSecret();
    const body = eventPayload("agent.verified", Date.now(), { agent_id: "agt_1" });
    const headers = signedHeaders(secret, "msg_abc", Math.floor(Date.now() / 1000), body);
    assert.match(headers["webhook-signature"], /^v1,[A-Za-z0-9+/]{43}=$/);
    const verified = new Webhook(secret).verify(body, headers) as Record<string, unknown>;
    assert.equal(verified.type, "agent.verified");
    assert.deepEqual(verified.data, { agent_id: "agt_1" });
    // And the library's own signature is ours, byte for byte.
    const theirs = new Webhook(secret).sign(
      "msg_abc",
      new Date(Number(headers["webhook-timestamp"]) * 1000),
      body,
    );
    assert.equal(theirs, headers["webhook-signature"]);
  });

  test("a changed body, id, timestamp or secret fails verification", () => {
    const secret = generateWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const body = eventPayload("ping", Date.now(), { webhook_id: "whk_1" });
    const headers = signedHeaders(secret, "msg_1", now, body);
    const wh = new Webhook(secret);
    assert.throws(() => wh.verify(`${body} `, headers));
    assert.throws(() => wh.verify(body, { ...headers, "webhook-id": "msg_2" }));
    assert.throws(() => wh.verify(body, { ...headers, "webhook-timestamp": String(now - 1) }));
    assert.throws(() => new Webhook(generateWebhookSecret()).verify(body, headers));
    // Old messages are refused by the receiver (replay protection needs a current timestamp).
    const stale = signedHeaders(secret, "msg_1", now - 3600, body);
    assert.throws(() => wh.verify(body, stale));
  });

  test("payloads are {type, timestamp, data}", () => {
    const at = Date.parse("2026-11-23T12:00:00Z");
    assert.equal(
      eventPayload("passport.revoked", at, { passport_id: "psp_1" }),
      '{"type":"passport.revoked","timestamp":"2026-11-23T12:00:00.000Z","data":{"passport_id":"psp_1"}}',
    );
  });

  test("subscription masks round-trip every event type", () => {
    for (const type of WEBHOOK_EVENT_TYPES) assert.deepEqual(typesOf(maskOf([type])), [type]);
    assert.deepEqual(typesOf(maskOf([...WEBHOOK_EVENT_TYPES])), [...WEBHOOK_EVENT_TYPES]);
  });
});

describe("webhook secret box", () => {
  test("seals and opens; the sealed form does not contain the secret", () => {
    const box = ephemeralSecretBox();
    const secret = generateWebhookSecret();
    const sealed = box.seal(secret, "whk_1");
    assert.equal(box.open(sealed, "whk_1"), secret);
    assert.ok(!sealed.includes(Buffer.from(secret)));
    assert.ok(!sealed.includes(secretKeyBytes(secret)));
    // Two seals of one secret differ (random nonce).
    assert.notDeepEqual(box.seal(secret, "whk_1"), sealed);
  });

  test("a tampered box, another endpoint's id or another key is refused", () => {
    const box = ephemeralSecretBox();
    const sealed = box.seal("whsec_x", "whk_1");
    const flipped = Buffer.from(sealed);
    flipped[20]! ^= 1;
    assert.throws(() => box.open(flipped, "whk_1"));
    assert.throws(() => box.open(sealed, "whk_2"));
    assert.throws(() => ephemeralSecretBox().open(sealed, "whk_1"));
  });

  test("the key file is created once, 0600 in a 0700 keys/ directory, and reused", () => {
    const dir = mkdtempSync(join(tmpdir(), "aiegis-whk-"));
    tempDirs.push(dir);
    const box = fileSecretBox(dir);
    const sealed = box.seal("whsec_y", "whk_9");
    const path = join(dir, "keys", SECRET_KEY_FILE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "keys")).mode & 0o777, 0o700);
    assert.equal(statSync(path).size, 32);
    assert.deepEqual(loadSecretKey(dir), loadSecretKey(dir));
    // Another process (a new box on the same directory) opens it.
    assert.equal(fileSecretBox(dir).open(sealed, "whk_9"), "whsec_y");
  });
});

describe("webhook URL guard", () => {
  const blocked = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.100.100.200",
    "168.63.129.16",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "192.0.2.10",
    "::",
    "::1",
    "fc00::1",
    "fd00:ec2::254",
    "fe80::1",
    "fe80::1%eth0",
    "febf::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.1.2.3",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1",
    "2002:c0a8:0101::",
    "2001:db8::1",
  ];
  for (const address of blocked) {
    test(`refuses ${address}`, () => {
      assert.notEqual(blockedAddressReason(address), null);
    });
  }

  const allowed = [
    "93.184.215.14",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:0808:0808::1",
  ];
  for (const address of allowed) {
    test(`allows ${address}`, () => {
      assert.equal(blockedAddressReason(address), null);
    });
  }

  test("URL rules: https only, no credentials, no fragment, no private literal or local name", () => {
    const ok = (text: string, allowPrivate = false) => parseWebhookUrl(text, allowPrivate).ok;
    assert.ok(ok("https://93.184.215.14/hook"));
    assert.ok(ok("https://hooks.example.com:8443/a?b=c"));
    assert.ok(!ok("http://hooks.example.com/"));
    assert.ok(!ok("ftp://hooks.example.com/"));
    assert.ok(!ok("hooks.example.com/path"));
    assert.ok(!ok("https://user:pass@hooks.example.com/"));
    assert.ok(!ok("https://hooks.example.com/#frag"));
    assert.ok(!ok("https://127.0.0.1/"));
    assert.ok(!ok("https://[::1]/"));
    assert.ok(!ok("https://[::ffff:127.0.0.1]/"));
    assert.ok(!ok("https://[::ffff:a9fe:a9fe]/"));
    // WHATWG URL parsing normalises odd IPv4 spellings before the check sees them.
    assert.ok(!ok("https://0x7f.1/"));
    assert.ok(!ok("https://2130706433/"));
    assert.ok(!ok("https://017700000001/"));
    assert.ok(!ok("https://localhost/"));
    assert.ok(!ok("https://api.localhost./"));
    assert.ok(!ok("https://metadata.google.internal/"));
    // AIEGIS_WEBHOOK_ALLOW_PRIVATE=1: http and private targets are fine, credentials are not.
    assert.ok(ok("http://127.0.0.1:9000/hook", true));
    assert.ok(!ok("http://u:p@127.0.0.1:9000/hook", true));
  });

  test("host names are resolved and every address must be public", async () => {
    const dns: Record<string, string[]> = {
      "public.example": ["93.184.215.14", "2606:2800:220:1::1"],
      "rebind.example": ["93.184.215.14", "10.0.0.7"],
      "v6local.example": ["fd12::1"],
      "mapped.example": ["::ffff:192.168.0.1"],
    };
    const resolve: Resolver = async (host) => {
      const list = dns[host];
      if (list === undefined) throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
      return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
    assert.equal(await checkWebhookUrl("https://public.example/h", false, resolve), null);
    assert.match(
      String(await checkWebhookUrl("https://rebind.example/h", false, resolve)),
      /private/,
    );
    assert.match(
      String(await checkWebhookUrl("https://v6local.example/h", false, resolve)),
      /unique local/,
    );
    assert.match(
      String(await checkWebhookUrl("https://mapped.example/h", false, resolve)),
      /private/,
    );
    assert.match(String(await checkWebhookUrl("https://nx.example/h", false, resolve)), /resolve/);
    // Allowed private: no lookup at all.
    assert.equal(await checkWebhookUrl("http://rebind.example/h", true, resolve), null);
  });
});

describe("webhook retry schedule", () => {
  test("about three days over 13 attempts, growing", () => {
    const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    assert.equal(RETRY_SCHEDULE_MS.length, 12);
    assert.ok(total >= 2.5 * 86_400_000 && total <= 3.5 * 86_400_000, `total ${total}`);
    for (let i = 1; i < RETRY_SCHEDULE_MS.length; i++) {
      assert.ok(RETRY_SCHEDULE_MS[i]! >= RETRY_SCHEDULE_MS[i - 1]!);
    }
  });

  test("jitter stays within ±20% and is spread", () => {
    for (let n = 1; n <= RETRY_SCHEDULE_MS.length; n++) {
      const base = RETRY_SCHEDULE_MS[n - 1]!;
      assert.equal(
        retryDelayMs(n, () => 0),
        Math.round(base * (1 - RETRY_JITTER)),
      );
      assert.ok(retryDelayMs(n, () => 0.999_999)! <= base * (1 + RETRY_JITTER));
      const seen = new Set<number>();
      for (let i = 0; i < 200; i++) {
        const d = retryDelayMs(n)!;
        assert.ok(d >= base * (1 - RETRY_JITTER) - 1 && d <= base * (1 + RETRY_JITTER) + 1);
        seen.add(d);
      }
      assert.ok(seen.size > 20, "delays should not all be equal");
    }
    assert.equal(retryDelayMs(RETRY_SCHEDULE_MS.length + 1), null);
  });

  test("Retry-After: seconds or HTTP date, can only delay, is capped", () => {
    const now = Date.parse("2026-11-23T12:00:00Z");
    assert.equal(parseRetryAfter("120", now), 120_000);
    assert.equal(parseRetryAfter("Mon, 23 Nov 2026 12:01:00 GMT", now), 60_000);
    assert.equal(parseRetryAfter("Mon, 23 Nov 2026 11:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon", now), null);
    assert.equal(parseRetryAfter(null, now), null);
    const half = () => 0.5;
    assert.equal(nextAttemptAt(1, now, null, half), now + 5_000);
    assert.equal(nextAttemptAt(1, now, 120_000, half), now + 120_000);
    assert.equal(nextAttemptAt(1, now, 1_000, half), now + 5_000);
    assert.equal(nextAttemptAt(1, now, 30 * 86_400_000, half), now + RETRY_AFTER_CAP_MS);
    assert.equal(nextAttemptAt(RETRY_SCHEDULE_MS.length + 1, now, 120_000, half), null);
  });
});
