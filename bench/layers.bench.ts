// Per-layer and whole-pipeline cost on a typical request, a 1 KB and a 64 KB input, plus a
// 64 KB adversarial input. Run: npm run bench:layers [-- --layer name]
import { parseArgs } from "node:util";
import type { ProtectRequest } from "../src/pipeline/facts.js";
import { createPipeline } from "../src/pipeline/pipeline.js";

const { values } = parseArgs({
  options: { layer: { type: "string" }, json: { type: "boolean", default: false } },
});

function filler(bytes: number): string {
  const words =
    "the agent reads the quarterly report and summarises revenue by region for the finance team ".split(
      " ",
    );
  let out = "";
  for (let i = 0; out.length < bytes; i++) out += `${words[i % words.length]} `;
  return out.slice(0, bytes);
}

/** Many near-misses for every family of rule: quotes, dots, percent signs, keywords, zero-width. */
function adversarial(bytes: number): string {
  const pieces = [
    "..%2",
    "%%3",
    "' or ",
    "ignore prev",
    "\u200b",
    "&#",
    "\\x2",
    "sel",
    "union",
    "ak_",
    "-----BEGIN",
    "169.254.",
    "$(",
    "`",
    "| sh",
    "aaaaaaaaaaaaaaaaaaaa",
    "==",
  ];
  let out = "";
  for (let i = 0; out.length < bytes; i++) out += pieces[i % pieces.length];
  return out.slice(0, bytes);
}

export const CASES: Record<string, ProtectRequest> = {
  typical: {
    action: "http_request",
    target: "https://api.example.com/v1/orders?customer=4821&status=open",
    content:
      "Fetch the open orders for customer 4821 so the agent can draft a status update email.",
    params: { method: "GET", headers: { accept: "application/json" }, timeout_ms: 5000 },
  },
  "1kb": { action: "llm_prompt", content: filler(1024) },
  "64kb": { action: "tool_output", content: filler(65_536) },
  "64kb-adversarial": { action: "tool_output", content: adversarial(65_536) },
};

function timeIt(fn: () => void, minMs: number): { medianUs: number; p99Us: number } {
  for (let i = 0; i < 200; i++) fn();
  const samples: number[] = [];
  const deadline = performance.now() + minMs;
  while (performance.now() < deadline || samples.length < 50) {
    const t = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  samples.sort((a, b) => a - b);
  return {
    medianUs: samples[Math.floor(samples.length / 2)]!,
    p99Us: samples[Math.floor(samples.length * 0.99)]!,
  };
}

const pipeline = createPipeline();
const rows: { name: string; input: string; medianUs: number; p99Us: number }[] = [];
for (const [input, request] of Object.entries(CASES)) {
  const minMs = input.startsWith("64kb") ? 1500 : 700;
  const facts = pipeline.factsOf(request);
  if (values.layer === undefined) {
    rows.push({
      name: "pipeline (facts + 12 layers)",
      input,
      ...timeIt(() => pipeline.evaluate(request), minMs),
    });
    rows.push({
      name: "facts (normalise, decode)",
      input,
      ...timeIt(() => pipeline.factsOf(request), minMs),
    });
  }
  for (const layer of pipeline.layers) {
    if (values.layer !== undefined && layer.name !== values.layer) continue;
    rows.push({
      name: `layer ${layer.name}`,
      input,
      // A fresh object per call: a layer may memoise on the facts object (secrets does, for
      // exfiltration) and must not look free here because of it.
      ...timeIt(() => layer.check({ ...facts }), minMs / 3),
    });
  }
}

if (values.json) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(
    `${"what".padEnd(32)}${"input".padEnd(18)}${"median µs".padStart(11)}${"p99 µs".padStart(11)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(32)}${r.input.padEnd(18)}${r.medianUs.toFixed(1).padStart(11)}${r.p99Us.toFixed(1).padStart(11)}`,
    );
  }
}
