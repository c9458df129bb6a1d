import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type Finding,
  LAYER_NAMES,
  type Layer,
  type LayerName,
  type Severity,
} from "../../layers/types.js";
import { decide } from "../../src/pipeline/engine.js";
import { compilePolicy } from "../../src/pipeline/policy-bundle.js";
import { pipeline } from "../helpers/layer-harness.js";

const NAMES: readonly LayerName[] = LAYER_NAMES;

function layerFinding(name: LayerName, severity: Severity | null, confidence = 0.9): Layer {
  const findings: Finding[] =
    severity === null
      ? []
      : [{ layer: name, code: `${name.toUpperCase()}_HIT`, severity, confidence, message: "m" }];
  return { name, maxInputChars: 1_000_000, check: () => findings };
}

const facts = () => pipeline().factsOf({ action: "read_file", target: "a.txt" });
const policy = (extra: Record<string, unknown> = {}) => compilePolicy({ id: "t", ...extra });

describe("decision engine", () => {
  test("any BLOCK → BLOCK, else any WARN → WARN, else ALLOW, whatever the layer order (property)", () => {
    const f = facts();
    const p = policy();
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<Severity | null>("BLOCK", "WARN", null), {
          minLength: 12,
          maxLength: 12,
        }),
        fc.array(fc.double({ min: 0.5, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
        fc.infiniteStream(fc.integer()),
        (severities, confidences, _seed) => {
          const layers = NAMES.map((n, i) => layerFinding(n, severities[i]!, confidences[i]!));
          const shuffled = fc.sample(
            fc.shuffledSubarray(layers, { minLength: 12, maxLength: 12 }),
            1,
          )[0]!;
          const a = decide(layers, f, p);
          const b = decide(shuffled, f, p);
          const expected = severities.includes("BLOCK")
            ? "BLOCK"
            : severities.includes("WARN")
              ? "WARN"
              : "ALLOW";
          assert.equal(a.decision, expected);
          assert.deepEqual(b, a, "same decision, findings, score and tier in any order");
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a layer that throws is a BLOCK naming it (fail closed)", () => {
    const thrower: Layer = {
      name: "sql",
      maxInputChars: 10,
      check: () => {
        throw new TypeError("x");
      },
    };
    const d = decide(
      [layerFinding("path", null), { ...thrower, maxInputChars: 1e9 }],
      facts(),
      policy(),
    );
    assert.equal(d.decision, "BLOCK");
    assert.deepEqual(
      d.findings.map((x) => [x.layer, x.code]),
      [["sql", "LAYER_ERROR"]],
    );
  });

  test("input above a layer's bound is a BLOCK, and the layer does not run", () => {
    let ran = false;
    const bounded: Layer = {
      name: "pii",
      maxInputChars: 3,
      check: () => {
        ran = true;
        return [];
      },
    };
    const d = decide([bounded], facts(), policy());
    assert.equal(d.decision, "BLOCK");
    assert.equal(d.findings[0]?.code, "LAYER_INPUT_BOUND");
    assert.equal(ran, false);
  });

  test("monitor mode turns a layer's BLOCK into WARN; off skips it", () => {
    const layers = [layerFinding("path", "BLOCK"), layerFinding("sql", "WARN")];
    const monitor = decide(layers, facts(), policy({ layers: { path: { mode: "monitor" } } }));
    assert.equal(monitor.decision, "WARN");
    assert.deepEqual(
      monitor.findings.map((x) => x.severity),
      ["WARN", "WARN"],
    );
    const off = decide(
      layers,
      facts(),
      policy({ layers: { path: { mode: "off" }, sql: { mode: "off" } } }),
    );
    assert.equal(off.decision, "ALLOW");
    assert.equal(off.layersChecked, 0);
  });

  test("thresholds: low-confidence BLOCK counts as WARN, lower still is dropped", () => {
    const p = policy({ thresholds: { block: 0.8, warn: 0.4 } });
    assert.equal(decide([layerFinding("sql", "BLOCK", 0.7)], facts(), p).decision, "WARN");
    assert.equal(decide([layerFinding("sql", "BLOCK", 0.35)], facts(), p).decision, "ALLOW");
    assert.equal(decide([layerFinding("sql", "BLOCK", 0.8)], facts(), p).decision, "BLOCK");
  });

  test("the score is the strongest finding's confidence, with a tier", () => {
    const d = decide(
      [layerFinding("sql", "BLOCK", 0.97), layerFinding("path", "BLOCK", 0.6)],
      facts(),
      policy(),
    );
    assert.equal(d.score, 0.97);
    assert.equal(d.tier, "high");
    assert.equal(d.findings[0]?.confidence, 0.97, "strongest first");
    assert.equal(decide([], facts(), policy()).tier, "high");
  });
});

describe("policy bundle", () => {
  test("hash is stable over key order and changes with content", () => {
    const a = compilePolicy({ id: "x", actions: { allow: ["*"], deny: ["delete_*"] } });
    const b = compilePolicy({ actions: { deny: ["delete_*"], allow: ["*"] }, id: "x" });
    const c = compilePolicy({ id: "x", actions: { allow: ["*"], deny: ["drop_*"] } });
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.hash, c.hash);
  });

  test("action globs: deny wins, an unlisted action is not allowed, warn asks for review", () => {
    const p = compilePolicy({
      id: "ro",
      actions: {
        allow: ["read_*", "list_*", "send_email"],
        warn: ["send_*"],
        deny: ["read_secret*"],
      },
    });
    assert.equal(p.actionRule("read_file"), "allow");
    assert.equal(p.actionRule("read_secrets"), "deny");
    assert.equal(p.actionRule("write_file"), "unlisted");
    assert.equal(p.actionRule("send_email"), "warn");
  });

  test("the policy layer turns bundle rules into findings", () => {
    const p = compilePolicy({
      id: "ro",
      actions: { allow: ["read_*"] },
      targets: { deny: ["/srv/secret/*"] },
    });
    const layer = pipeline().layers.find((l) => l.name === "policy")!;
    const codes = (request: { action: string; target?: string }) =>
      layer.check(pipeline().factsOf(request, p)).map((f) => f.code);
    assert.deepEqual(codes({ action: "write_file", target: "a" }), ["POLICY_ACTION_NOT_ALLOWED"]);
    assert.deepEqual(codes({ action: "read_file", target: "/srv/secret/x" }), [
      "POLICY_TARGET_DENIED",
    ]);
    assert.deepEqual(codes({ action: "read_file", target: "/srv/public/x" }), []);
  });

  test("a bad bundle is refused with the field named", () => {
    assert.throws(() => compilePolicy({ id: "x", thresholds: { block: 2 } }), /block/);
    assert.throws(() => compilePolicy({ id: "x", layers: { nosuch: { mode: "off" } } }));
  });
});
