import type { KeyObject } from "node:crypto";
import { nativePublicKey, verifyEd25519Native } from "../crypto/ed25519.js";
import type { StoredAuditRow } from "../store/audit-log.js";
import {
  type AuditBody,
  type AuditCheckpoint,
  CHECKPOINT_TYP,
  canonicalJson,
  entryHash,
  GENESIS_HASH,
} from "./chain.js";

export type FirstBad = Readonly<{ seq: number; reason: string }>;

export type AuditVerdict = Readonly<{
  ok: boolean;
  /** Entries present (read). */
  entries: number;
  /** Checkpoints present. */
  checkpoints: number;
  /** The last entry present; null for an empty log. */
  head: Readonly<{ seq: number; hash: string }> | null;
  /** The earliest problem found, by seq; absent when the log verifies. */
  first_bad?: FirstBad;
}>;

export type VerifyInput = Readonly<{
  /** Every stored row, in ascending seq order (as `SELECT … ORDER BY seq` gives them). */
  rows: Iterable<StoredAuditRow>;
  /** Every stored checkpoint. */
  checkpoints: readonly AuditCheckpoint[];
  /** The raw Ed25519 public key of a kid, or undefined when the kid is unknown. */
  publicKey: (kid: string) => Uint8Array | undefined;
  /** When given, a checkpoint's `iss` must be this. */
  issuer?: string;
}>;

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(Buffer.from(segment, "base64url")));
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Why a checkpoint's JWS does not vouch for its row, or null when it does. */
function checkpointProblem(
  checkpoint: AuditCheckpoint,
  input: VerifyInput,
  keys: Map<string, KeyObject | undefined>,
): string | null {
  const parts = checkpoint.token.split(".");
  if (parts.length !== 3) return "checkpoint is not a compact JWS";
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeSegment(headerPart);
  if (header?.alg !== "EdDSA" || header.typ !== CHECKPOINT_TYP) {
    return "checkpoint header is not an audit checkpoint's";
  }
  if (header.kid !== checkpoint.kid) return "checkpoint kid differs from its signature's";
  if (!keys.has(checkpoint.kid)) {
    const raw = input.publicKey(checkpoint.kid);
    keys.set(checkpoint.kid, raw === undefined ? undefined : nativePublicKey(raw));
  }
  const key = keys.get(checkpoint.kid);
  if (key === undefined) return `checkpoint signed by unknown key ${checkpoint.kid}`;
  const signature = Buffer.from(signaturePart, "base64url");
  const signed = encoder.encode(`${headerPart}.${payloadPart}`);
  if (!verifyEd25519Native(signature, signed, key)) return "checkpoint signature is invalid";
  const claims = decodeSegment(payloadPart);
  if (claims?.size !== checkpoint.size || claims.head_hash !== checkpoint.head_hash) {
    return "checkpoint row differs from what was signed";
  }
  if (input.issuer !== undefined && claims.iss !== input.issuer) {
    return "checkpoint issued by another gateway";
  }
  return null;
}

/**
 * Verifies the audit log from its stored rows, without trusting any of them: recomputes every
 * hash in seq order, checks that seqs are contiguous and each entry links to the one before,
 * checks each checkpoint's signature and that its head hash is the hash of the entry at its
 * size, that the oldest entry is genesis or anchored by a checkpoint (after pruning), and that
 * no checkpoint covers more entries than are left (truncation). Pure: no I/O.
 */
export function verifyAuditLog(input: VerifyInput): AuditVerdict {
  const problems: FirstBad[] = [];
  const keys = new Map<string, KeyObject | undefined>();
  const signedHeads = new Map<number, string>();
  const checkpoints = [...input.checkpoints].sort((a, b) => a.size - b.size);
  for (const checkpoint of checkpoints) {
    const problem = checkpointProblem(checkpoint, input, keys);
    if (problem === null) signedHeads.set(checkpoint.size, checkpoint.head_hash);
    else problems.push({ seq: checkpoint.size, reason: problem });
  }

  let count = 0;
  let expectedSeq = 0;
  let prevHash = GENESIS_HASH;
  let last: StoredAuditRow | undefined;
  let entryProblem: FirstBad | undefined;
  for (const row of input.rows) {
    count++;
    last = row;
    if (entryProblem !== undefined) continue;
    if (count === 1) {
      if (row.seq === 1) {
        expectedSeq = 1;
      } else {
        // Pruned: only a valid checkpoint at the size just before may anchor the oldest entry.
        const anchor = signedHeads.get(row.seq - 1);
        if (anchor === undefined) {
          const below = checkpoints.filter((c) => c.size < row.seq).at(-1)?.size ?? 0;
          entryProblem = {
            seq: below + 1,
            reason: `missing: entries ${below + 1}…${row.seq - 1} are gone and no valid checkpoint anchors entry ${row.seq}`,
          };
          continue;
        }
        expectedSeq = row.seq;
        prevHash = anchor;
      }
    }
    if (row.seq !== expectedSeq) {
      entryProblem = { seq: expectedSeq, reason: "missing: the entry was deleted" };
      continue;
    }
    let data: unknown;
    try {
      data = JSON.parse(row.data);
    } catch {
      entryProblem = { seq: row.seq, reason: "data is not valid JSON" };
      continue;
    }
    let recomputed: string;
    try {
      recomputed = entryHash({ ...row, data } as unknown as AuditBody, row.prev_hash);
      // A data text that is not canonical was written by something other than the gateway.
      if (canonicalJson(data) !== row.data) recomputed = "";
    } catch {
      recomputed = "";
    }
    if (recomputed !== row.hash) {
      entryProblem = { seq: row.seq, reason: "hash mismatch: the entry was changed or moved" };
      continue;
    }
    if (row.prev_hash !== prevHash) {
      entryProblem = {
        seq: row.seq,
        reason: "prev_hash does not match the previous entry (inserted, reordered or replaced)",
      };
      continue;
    }
    const signed = signedHeads.get(row.seq);
    if (signed !== undefined && signed !== row.hash) {
      entryProblem = {
        seq: row.seq,
        reason: "differs from the signed checkpoint at this size (the chain was rewritten)",
      };
      continue;
    }
    prevHash = row.hash;
    expectedSeq++;
  }
  if (entryProblem !== undefined) problems.push(entryProblem);

  const covered = checkpoints.at(-1)?.size ?? 0;
  const end = last?.seq ?? 0;
  if (covered > end) {
    problems.push({
      seq: end + 1,
      reason: `truncated: a checkpoint covers ${covered} entries but the log ends at ${end}`,
    });
  }
  problems.sort((a, b) => a.seq - b.seq);
  const firstBad = problems[0];
  return {
    ok: firstBad === undefined,
    entries: count,
    checkpoints: checkpoints.length,
    head: last === undefined ? null : { seq: last.seq, hash: last.hash },
    ...(firstBad === undefined ? {} : { first_bad: firstBad }),
  };
}
