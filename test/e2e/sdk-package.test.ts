import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ROOT, type RunningServer, startServer } from "../helpers/server-process.js";
import { tempDirs } from "../helpers/temp-dir.js";

const run = promisify(execFile);
const tempDir = tempDirs("aiegis-sdk-package-");

let server: RunningServer;

before(async () => {
  server = await startServer({ AIEGIS_DATA_DIR: tempDir() });
});

after(async () => {
  await server.stop();
});

test("the SDK builds with tsc and its compiled ESM runs under plain Node against the server", async () => {
  const out = tempDir();
  const tsc = resolve(ROOT, "node_modules/.bin/tsc");
  await run(tsc, ["-p", resolve(ROOT, "sdk/tsconfig.json"), "--outDir", out], { cwd: ROOT });
  assert.ok(existsSync(join(out, "index.js")));
  assert.ok(existsSync(join(out, "index.d.ts")), "type declarations are emitted");
  // Plain node, no tsx: what a user of the published package runs.
  const script = join(out, "smoke.mjs");
  writeFileSync(
    script,
    `import { Aiegis, AuthenticationError } from ${JSON.stringify(pathToFileURL(join(out, "index.js")).href)};
const client = new Aiegis({ baseUrl: process.argv[2], maxRetries: 0 });
const health = await client.health();
let refused = "";
try { await client.protect({ action: "read_file", target: "README.md" }); }
catch (err) { refused = err instanceof AuthenticationError ? err.type + " " + err.requestId : String(err); }
console.log(JSON.stringify({ status: health.status, refused }));
`,
  );
  const { stdout } = await run(process.execPath, [script, server.url]);
  const result = JSON.parse(stdout) as { status: string; refused: string };
  assert.equal(result.status, "ok");
  assert.match(result.refused, /^UNAUTHENTICATED req_[0-9a-f]{32}$/);
});
