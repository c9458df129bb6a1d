import assert from "node:assert/strict";
import { describe, test } from "node:test";
import networkData from "../../data/network.json" with { type: "json" };
import { createNetworkLayer, parseIpv4, parseIpv6 } from "../../layers/network.js";
import type { ProtectRequest } from "../../src/pipeline/facts.js";
import {
  checkLayer,
  expectCode,
  expectLayerVerdict,
  layerNamed,
  verdictOf,
} from "../helpers/layer-harness.js";

const layer = layerNamed("network");

function fetch(url: string): ProtectRequest {
  return { action: "http_request", target: url };
}

function dotted(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

describe("layer > network", () => {
  test("is built from its data file and rejects a bad range at start-up", () => {
    assert.equal(createNetworkLayer(networkData).name, "network");
    const broken = structuredClone(networkData) as unknown as { ipv4Ranges: string[][] };
    broken.ipv4Ranges.push(["300.1.2.3/8", "private"]);
    assert.throws(() => createNetworkLayer(broken), /Invalid IPv4 range/);
  });

  describe("address parsing", () => {
    test("reads every inet_aton notation of an IPv4 address", () => {
      for (const [text, expected] of [
        ["127.0.0.1", "127.0.0.1"],
        ["2130706433", "127.0.0.1"],
        ["0177.0.0.1", "127.0.0.1"],
        ["0x7f.0x0.0x0.0x1", "127.0.0.1"],
        ["0x7f000001", "127.0.0.1"],
        ["127.1", "127.0.0.1"],
        ["0x7f.1", "127.0.0.1"],
        ["169.254.43518", "169.254.169.254"],
        ["017700000001", "127.0.0.1"],
        ["0", "0.0.0.0"],
      ] as const) {
        const parsed = parseIpv4(text);
        assert.ok(parsed, text);
        assert.equal(dotted(parsed.value), expected, text);
      }
      assert.equal(parseIpv4("127.0.0.1")?.canonical, true);
      assert.equal(parseIpv4("127.1")?.canonical, false);
      assert.equal(parseIpv4("api.example.com"), null);
      assert.equal(parseIpv4("1.2.3.4.5"), null);
    });

    test("reduces overflowing parts the way overflowing parsers do", () => {
      assert.equal(dotted(parseIpv4("425.510.425.510")!.value), "169.254.169.254");
      assert.equal(dotted(parseIpv4("7147006462")!.value), "169.254.169.254");
      assert.equal(dotted(parseIpv4("0x41414141a9fea9fe")!.value), "169.254.169.254");
      assert.equal(parseIpv4("425.510.425.510")!.overflow, true);
    });

    test("reads IPv6 with compression, an embedded IPv4 tail and a zone", () => {
      assert.deepEqual([...parseIpv6("::1")!], [...new Array(15).fill(0), 1]);
      assert.deepEqual([...parseIpv6("::ffff:127.0.0.1")!].slice(10), [0xff, 0xff, 127, 0, 0, 1]);
      assert.deepEqual([...parseIpv6("fe80::1%eth0")!].slice(0, 2), [0xfe, 0x80]);
      assert.equal(parseIpv6("1:2:3:4:5:6:7:8:9"), null);
      assert.equal(parseIpv6("1::2::3"), null);
      assert.equal(parseIpv6("example.com"), null);
    });
  });

  describe("internal targets", () => {
    test("BLOCKs cloud metadata endpoints by address and by name", () => {
      for (const url of [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/api/token",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://100.100.100.200/latest/meta-data/",
        "http://168.63.129.16/machine?comp=goalstate",
        "http://169.254.170.2/v2/credentials/",
        "http://instance-data/latest/",
      ]) {
        expectCode(layer, fetch(url), "SSRF_CLOUD_METADATA");
      }
    });

    test("BLOCKs decimal-, octal- and hex-encoded metadata addresses", () => {
      for (const url of [
        "http://2852039166/latest/",
        "http://0xa9fea9fe/",
        "http://0251.0376.0251.0376/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://169.254.43518/",
        "http://425.510.425.510/",
      ]) {
        expectCode(layer, fetch(url), "SSRF_CLOUD_METADATA");
        expectCode(layer, fetch(url), "SSRF_OBFUSCATED_ADDRESS");
      }
    });

    test("BLOCKs loopback in every notation", () => {
      for (const url of [
        "http://127.0.0.1:8080/admin",
        "http://127.1/",
        "http://0177.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::1]:6379/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]/",
        "http://localhost:2375/containers/json",
        "http://ip6-localhost/",
        "http://０x7f.1/",
      ]) {
        expectCode(layer, fetch(url), "SSRF_LOOPBACK");
      }
    });

    test("BLOCKs the unspecified address", () => {
      expectCode(layer, fetch("http://0.0.0.0:9200/"), "SSRF_LOOPBACK");
      expectCode(layer, fetch("http://0/"), "SSRF_LOOPBACK");
      expectCode(layer, fetch("http://[::]:80/"), "SSRF_LOOPBACK");
    });

    test("BLOCKs private, CGNAT, unique-local and link-local ranges", () => {
      for (const url of [
        "http://10.0.0.12:10250/pods",
        "http://172.20.0.3:8500/v1/kv/?recurse",
        "http://192.168.50.1/cgi-bin/luci",
        "http://3232235777/",
        "http://100.72.4.9/",
        "http://[fd12:3456:789a::1]/",
      ]) {
        expectCode(layer, fetch(url), "SSRF_PRIVATE_NETWORK");
      }
      expectCode(layer, fetch("http://169.254.10.10/"), "SSRF_LINK_LOCAL");
      expectCode(layer, fetch("http://[fe80::1%25eth0]/"), "SSRF_LINK_LOCAL");
    });

    test("BLOCKs IPv4 embedded in IPv6 transition prefixes", () => {
      expectCode(layer, fetch("http://[64:ff9b::a9fe:a9fe]/"), "SSRF_CLOUD_METADATA");
      expectCode(layer, fetch("http://[2002:a9fe:a9fe::1]/"), "SSRF_CLOUD_METADATA");
      expectCode(layer, fetch("http://[::127.0.0.1]/"), "SSRF_LOOPBACK");
    });

    test("BLOCKs cluster and container host names", () => {
      for (const url of [
        "https://kubernetes.default.svc/api/v1/namespaces/default/secrets",
        "https://kubernetes.default.svc.cluster.local/api",
        "http://vault.service.consul:8200/v1/secret",
        "http://host.docker.internal:5432/",
      ]) {
        expectCode(layer, fetch(url), "SSRF_INTERNAL_HOSTNAME");
      }
    });

    test("BLOCKs names that resolve to an internal address by design", () => {
      for (const url of [
        "http://169.254.169.254.nip.io/latest/",
        "http://169-254-169-254.sslip.io/",
        "http://a9fea9fe.nip.io/",
        "http://app.localhost:3000/",
        "http://customer.localtest.me/",
        "http://dev.lvh.me:8000/",
        "http://127.0.0.1.cdn-example.com/",
        "http://10-0-0-1.attacker.example/",
        "http://7f000001.c0a80001.rbndr.us/",
        "http://make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms/",
      ]) {
        expectCode(layer, fetch(url), "SSRF_DNS_REBINDING");
        expectLayerVerdict(layer, fetch(url), "BLOCK");
      }
    });

    test("BLOCKs ambiguous authorities that hide an internal host", () => {
      expectLayerVerdict(layer, fetch("http://expected.example.com@127.0.0.1/"), "BLOCK");
      expectCode(layer, fetch("http://expected.example.com#@127.0.0.1/"), "SSRF_URL_CONFUSION");
      expectCode(
        layer,
        fetch("http://trusted.example.com:80\\@169.254.169.254/"),
        "SSRF_URL_CONFUSION",
      );
      expectLayerVerdict(layer, fetch("http://127.1.1.1:80\\@@example.com/"), "BLOCK");
      expectCode(layer, fetch("http://127.0.0.1@/admin"), "SSRF_URL_CONFUSION");
      expectCode(layer, fetch("http:\\\\169.254.169.254\\latest"), "SSRF_CLOUD_METADATA");
      expectCode(layer, fetch("http:/169.254.169.254/latest"), "SSRF_CLOUD_METADATA");
    });

    test("BLOCKs internal addresses carried through a public URL", () => {
      for (const url of [
        "https://proxy.example.net/fetch?url=http://169.254.169.254/latest/meta-data/",
        "https://preview.example.net/render?src=http://127.0.0.1:8080/admin",
        "https://cdn.example.net/proxy/10.1.2.3/internal/report",
        "https://r.example.net/redirect-to-http-127.0.0.1:8080",
        "http://allowed.example.com%2f@10.0.0.5/",
      ]) {
        expectCode(layer, fetch(url), "SSRF_NESTED_INTERNAL");
      }
    });

    test("BLOCKs bare hosts, URL parameters, webhooks and base64-hidden URLs", () => {
      expectCode(layer, fetch("169.254.169.254/latest/user-data"), "SSRF_CLOUD_METADATA");
      expectCode(layer, fetch("localhost:8080/actuator/env"), "SSRF_LOOPBACK");
      expectCode(
        layer,
        { action: "http_get", params: { host: "169.254.169.254" } },
        "SSRF_CLOUD_METADATA",
      );
      expectCode(
        layer,
        { action: "register_webhook", params: { callback_url: "http://[::1]:9000/hook" } },
        "SSRF_LOOPBACK",
      );
      const hidden = Buffer.from("http://169.254.169.254/latest/meta-data/").toString("base64");
      expectCode(
        layer,
        { action: "http_request", target: "https://api.example.com/x", params: { cfg: hidden } },
        "SSRF_CLOUD_METADATA",
      );
    });
  });

  describe("schemes", () => {
    test("BLOCKs file, gopher, dict, ldap, tftp and PHP/Java wrappers in a fetch", () => {
      for (const url of [
        "file:///etc/passwd",
        "file://localhost/c:/windows/win.ini",
        "gopher://10.0.0.5:6379/_FLUSHALL",
        "dict://cache.example.com:11211/stats",
        "ldap://ldap.example.com/dc=example",
        "tftp://files.example.net/boot.cfg",
        "jar:http://files.example.net/app.jar!/META-INF/MANIFEST.MF",
        "netdoc:///etc/passwd",
        "php://filter/convert.base64-encode/resource=index.php",
        "expect://id",
        "phar:///tmp/upload.jpg/test.txt",
      ]) {
        expectCode(layer, fetch(url), "SSRF_DANGEROUS_SCHEME");
      }
    });

    test("leaves database connection strings of other tools to their host", () => {
      expectLayerVerdict(
        layer,
        { action: "connect_database", params: { dsn: "postgresql://app@db.example.com:5432/app" } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "connect_database", params: { dsn: "postgresql://app@localhost:5432/app" } },
        "WARN",
      );
    });
  });

  describe("scripts", () => {
    test("BLOCKs metadata and disguised addresses in shell and code", () => {
      expectLayerVerdict(
        layer,
        { action: "shell_exec", target: "curl -s http://169.254.169.254/latest/meta-data/" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "shell_exec", target: "wget -qO- http://0x7f000001:2375/" },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "code_exec",
          content: "requests.get('http://metadata.google.internal/computeMetadata/v1/')",
        },
        "BLOCK",
      );
    });

    test("ignores a script calling its own dev server, WARNs on a private host", () => {
      expectLayerVerdict(
        layer,
        { action: "shell_exec", target: "curl http://localhost:3000/health" },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "code_exec", content: "fetch('http://127.0.0.1:5173/api/items')" },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "shell_exec", target: "curl http://10.0.3.7:8080/metrics" },
        "WARN",
      );
    });

    test("only WARNs on an internal URL held by a tool that does not fetch", () => {
      expectLayerVerdict(
        layer,
        { action: "add_integration", params: { endpoint: "http://127.0.0.1:9000/api" } },
        "WARN",
      );
      expectLayerVerdict(
        layer,
        { action: "add_integration", params: { endpoint: "http://0x7f.1:9000/api" } },
        "BLOCK",
      );
    });
  });

  describe("hard look-alikes stay ALLOW", () => {
    test("documentation URLs that mention metadata, localhost or SSRF", () => {
      for (const url of [
        "https://portswigger.net/web-security/ssrf/lab-basic-ssrf-against-localhost",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",
        "https://cloud.google.com/compute/docs/metadata/querying-metadata",
        "https://github.com/search?q=169.254.169.254&type=code",
        "https://blog.example.com/2024/05/blocking-169.254.169.254-in-kubernetes",
        "https://web.archive.org/web/2020/https://example.com/metadata",
        "https://en.wikipedia.org/wiki/Localhost",
        "https://localhost-tools.example.com/",
      ]) {
        expectLayerVerdict(layer, fetch(url), "ALLOW");
      }
    });

    test("public addresses, version-like paths and credentials in a public authority", () => {
      for (const url of [
        "http://8.8.8.8/",
        "https://1.1.1.1/dns-query?name=example.com",
        "https://releases.example.com/v1.2.3.4/notes",
        "https://user:pass@api.example.com/v2/items",
        "https://example.com/users/me@example.org/profile",
        "https://api.example.com/v1/items?since=2024.01.01.12",
      ]) {
        expectLayerVerdict(layer, fetch(url), "ALLOW");
      }
    });

    test("addresses in prose, messages and non-URL text", () => {
      expectLayerVerdict(
        layer,
        { action: "llm_prompt", content: "Why is http://169.254.169.254/latest/meta-data risky?" },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "send_email", target: "ops@example.com", content: "Dashboard: http://10.0.0.5" },
        "ALLOW",
      );
      expectLayerVerdict(layer, { action: "shell_exec", target: "ping -c 3 1.2.3.4" }, "ALLOW");
      expectLayerVerdict(
        layer,
        { action: "shell_exec", target: "ldapsearch -H ldaps://ldap.example.com -b dc=example" },
        "ALLOW",
      );
    });

    test("an HTTPS API call to a private address is an integration, below the WARN threshold", () => {
      const request = fetch("https://192.168.1.20/api/v1/status/summary");
      expectCode(layer, request, "SSRF_PRIVATE_API");
      expectLayerVerdict(layer, request, "ALLOW");
      assert.equal(verdictOf(request), "ALLOW");
      expectLayerVerdict(layer, fetch("http://192.168.1.20/api/v1/status/summary"), "BLOCK");
      expectLayerVerdict(layer, fetch("https://192.168.1.20/"), "BLOCK");
    });
  });

  describe("URLs a renderer fetches from markup it is given", () => {
    test("BLOCKs an iframe, img, object or embed aimed at an internal host in an unknown tool", () => {
      for (const html of [
        '<iframe src="http://169.254.169.254/opc/v2/instance/"></iframe>',
        "<img src='http://127.0.0.1:8080/admin/users'>",
        '<object data="file:///etc/passwd"></object>',
        '<embed src="http://10.20.0.4:9200/_search">',
        '<img src="//169.254.169.254/latest/meta-data/">',
        '<iframe src="http://0xa9fea9fe/latest/meta-data/"></iframe>',
      ]) {
        expectLayerVerdict(
          layer,
          { action: "html_to_pdf", content: `<html><body>${html}</body></html>` },
          "BLOCK",
        );
      }
    });

    test("BLOCKs markup passed in a parameter of a screenshot or render tool", () => {
      expectLayerVerdict(
        layer,
        {
          action: "screenshot_page",
          params: { html: "<iframe src='http://localhost:2375/info'>" },
        },
        "BLOCK",
      );
    });

    test("BLOCKs CSS url(), @import, SVG xlink:href, markdown images and meta refresh", () => {
      for (const content of [
        '<div style="background:url(http://metadata.google.internal/computeMetadata/v1/)"></div>',
        "<style>@import 'http://192.168.4.2/admin.css';</style>",
        '<svg><image xlink:href="http://[::ffff:7f00:1]:8500/v1/kv/"/></svg>',
        "# Q3\n\n![graph](http://169.254.169.254/latest/user-data)",
        '<meta http-equiv="refresh" content="0; url=http://127.0.0.1:5984/_all_dbs">',
      ]) {
        expectLayerVerdict(layer, { action: "render_document", content }, "BLOCK");
      }
    });

    test("BLOCKs a script in rendered HTML that fetches an internal address", () => {
      expectLayerVerdict(
        layer,
        {
          action: "generate_pdf",
          content:
            "<script>fetch('http://169.254.170.2/v2/credentials/x').then(r=>r.text())</script>",
        },
        "BLOCK",
      );
    });

    test("BLOCKs markup in the outgoing body of a POST to a rendering API", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://pdf.example.net/v1/render",
          params: { method: "POST" },
          content: '<html><iframe src="http://169.254.169.254/latest/meta-data/"></iframe></html>',
        },
        "BLOCK",
      );
    });

    test("ALLOWs links, public assets and dev-server assets in a file being written", () => {
      expectLayerVerdict(
        layer,
        {
          action: "html_to_pdf",
          content:
            '<a href="http://localhost:3000">home</a><img src="https://cdn.example.org/a.png">',
        },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        {
          action: "write_file",
          target: "public/dev.html",
          content: '<script src="http://localhost:35729/livereload.js"></script>',
        },
        "ALLOW",
      );
    });

    test("still BLOCKs a metadata address planted in a file being written", () => {
      expectLayerVerdict(
        layer,
        {
          action: "write_file",
          target: "templates/invoice.html",
          content: '<img src="http://169.254.169.254/latest/meta-data/iam/">',
        },
        "BLOCK",
      );
    });

    test("ignores the content of a fetched page", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://blog.example.org/ssrf",
          params: { method: "GET" },
          content: '<img src="http://169.254.169.254/latest/meta-data/">',
        },
        "ALLOW",
      );
    });
  });

  describe("XML external entities", () => {
    test("BLOCKs an external entity reading a local file, by URL or bare path", () => {
      for (const uri of [
        "file:///etc/hostname",
        "/etc/shadow",
        "php://filter/resource=index.php",
      ]) {
        const content = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "${uri}">]><d>&e;</d>`;
        expectCode(layer, { action: "import_orders", content }, "SSRF_XXE");
        expectLayerVerdict(layer, { action: "import_orders", content }, "BLOCK");
      }
    });

    test("BLOCKs an out-of-band parameter entity and an entity aimed at an internal host", () => {
      expectLayerVerdict(
        layer,
        {
          action: "parse_feed",
          content: '<!DOCTYPE d [<!ENTITY % r SYSTEM "https://collector.example.net/e.dtd"> %r;]>',
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "parse_feed",
          content:
            '<!DOCTYPE d [<!ENTITY e SYSTEM "http://10.1.1.1:8080/manager/html">]><d>&e;</d>',
        },
        "BLOCK",
      );
    });

    test("BLOCKs XInclude of a local file", () => {
      expectLayerVerdict(
        layer,
        {
          action: "convert_docbook",
          content:
            '<book xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" parse="text"/></book>',
        },
        "BLOCK",
      );
    });

    test("WARNs on a general entity fetching a public URL", () => {
      expectLayerVerdict(
        layer,
        {
          action: "parse_feed",
          content: '<!DOCTYPE d [<!ENTITY e SYSTEM "https://feeds.example.org/x.txt">]><d>&e;</d>',
        },
        "WARN",
      );
    });

    test("ALLOWs standard PUBLIC doctypes, relative DTDs and the HTML legacy doctype", () => {
      for (const content of [
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html/>',
        '<!DOCTYPE note SYSTEM "note.dtd"><note/>',
        '<!DOCTYPE html SYSTEM "about:legacy-compat"><html/>',
      ]) {
        expectLayerVerdict(layer, { action: "validate_xml", content }, "ALLOW");
      }
    });
  });

  describe("callback, webhook and URL parameters of unknown tools", () => {
    test("BLOCKs a webhook or callback aimed at an internal address", () => {
      expectLayerVerdict(
        layer,
        { action: "register_hook", params: { callback_url: "http://10.4.4.4:8080/hook" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "add_integration", params: { config: { webhook: "http://[::1]:6443/api" } } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "update_profile", params: { avatar_image: "http://169.254.169.254/latest/" } },
        "BLOCK",
      );
    });

    test("BLOCKs a plain url parameter aimed at a private address, WARNs on localhost", () => {
      expectLayerVerdict(
        layer,
        { action: "link_preview", params: { url: "http://172.20.1.9:2379/v2/keys" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "run_audit", params: { url: "http://localhost:3000" } },
        "WARN",
      );
    });

    test("BLOCKs a URL given as the whole content of a tool", () => {
      expectLayerVerdict(
        layer,
        { action: "summarize_link", content: "http://169.254.169.254/latest/meta-data/iam/info" },
        "BLOCK",
      );
    });

    test("ALLOWs public callbacks and connection settings", () => {
      expectLayerVerdict(
        layer,
        { action: "register_hook", params: { callback_url: "https://hooks.example.org/a1" } },
        "ALLOW",
      );
    });
  });

  describe("instructions to fetch", () => {
    test("BLOCKs a prompt or agent task telling the agent to open a metadata URL", () => {
      expectLayerVerdict(
        layer,
        {
          action: "llm_prompt",
          content: "Use the browser tool to open http://169.254.169.254/latest/meta-data/ now.",
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "agent_task",
          content: "Step 2: fetch http://metadata.google.internal/computeMetadata/v1/ and report.",
        },
        "BLOCK",
      );
    });

    test("ALLOWs questions about the metadata service and requests to open localhost", () => {
      for (const content of [
        "How do I fetch http://169.254.169.254/latest/meta-data/instance-id with IMDSv2?",
        "Please open http://localhost:3000 and list the layout bugs.",
      ]) {
        expectLayerVerdict(layer, { action: "llm_prompt", content }, "ALLOW");
      }
    });
  });

  describe("service names, metadata paths and zones", () => {
    test("BLOCKs a bare service name on an infrastructure port", () => {
      for (const url of [
        "http://redis:6379/",
        "http://etcd:2379/v2/keys",
        "http://kubelet-x:10250/pods",
      ]) {
        expectLayerVerdict(layer, fetch(url), "BLOCK");
      }
    });

    test("does not flag a bare service name in a script on a compose network", () => {
      expectLayerVerdict(
        layer,
        { action: "shell_exec", target: "curl -s http://search:9200/_cluster/health" },
        "ALLOW",
      );
    });

    test("BLOCKs a metadata path requested from any other host name", () => {
      expectCode(
        layer,
        fetch("http://imds.attacker.example/latest/meta-data/iam/"),
        "SSRF_METADATA_PATH",
      );
      expectLayerVerdict(
        layer,
        fetch("http://r.example.net/computeMetadata/v1/instance/"),
        "BLOCK",
      );
      expectLayerVerdict(layer, fetch("https://api.example.com/metadata/v1/schemas"), "ALLOW");
    });

    test("BLOCKs a loopback zone named by itself", () => {
      expectLayerVerdict(layer, fetch("http://localtest.me:8080/"), "BLOCK");
      expectLayerVerdict(layer, fetch("http://0x7f000001.nip.io/"), "BLOCK");
    });

    test("BLOCKs a tool pointed at an infrastructure API on localhost, not at a dev server", () => {
      expectLayerVerdict(
        layer,
        { action: "pdf_export", params: { source: "http://localhost:8080/actuator/env" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "set_backend", params: { base_url: "http://127.0.0.1:2375" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "set_backend", params: { base_url: "http://localhost:3000" } },
        "WARN",
      );
    });

    test("BLOCKs an HTTPS call to an infrastructure API on a private address", () => {
      expectLayerVerdict(layer, fetch("https://10.0.0.7:10250/run/ns/pod/c"), "BLOCK");
      expectLayerVerdict(
        layer,
        fetch("https://192.168.9.9/api/v1/namespaces/default/secrets"),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        fetch("https://192.168.1.1/api/v1/applications/topologies"),
        "ALLOW",
      );
    });
  });

  test("the whole pipeline BLOCKs an SSRF to the metadata service", () => {
    assert.equal(verdictOf(fetch("http://[::ffff:a9fe:a9fe]/latest/meta-data/")), "BLOCK");
  });

  test("never throws on odd input and stays linear on a hostile 64 KB URL", () => {
    const hostile = "@[::ffff:0x7f.1]\\#169.254.1.1-2-3-4.nip.io:://".repeat(1500);
    const started = process.hrtime.bigint();
    for (const request of [
      fetch(`http://${hostile}`),
      fetch(`https://x.example.com/?u=${hostile}`),
      { action: "shell_exec", target: `curl ${hostile}` },
      fetch("http://[::ffff:"),
      fetch("http://[]/"),
      fetch("http://0x/"),
      fetch("http://.../"),
      { action: "http_get", params: { host: "" } },
    ] as ProtectRequest[]) {
      assert.doesNotThrow(() => checkLayer(layer, request));
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 2000, `took ${ms} ms`);
  });
});
