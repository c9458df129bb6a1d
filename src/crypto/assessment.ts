import { canonicalJson, sha256Hex } from "../score/canonical.js";
import type { ScoreResult } from "../score/types.js";
import { signJwt } from "./jwt.js";
import type { SigningKey } from "./signing-keys.js";

/** The JWS `typ` of a signed assessment; distinct from tags and passports so none passes for another. */
export const ASSESSMENT_TYP = "aiegis-assessment+jwt";

/** What an assessment signature asserts; `result_sha256` binds it to the exact result. */
export type AssessmentClaims = Readonly<{
  iss: string;
  /** The agent the assessment was run for. */
  sub: string;
  /** The assessment id. */
  jti: string;
  iat: number;
  pack: string;
  risk_tier: ScoreResult["risk_tier"];
  grade: ScoreResult["grade"];
  score: number;
  input_sha256: string;
  /** SHA-256 (hex) of the result's canonical JSON (RFC 8785 style: sorted keys, no spaces). */
  result_sha256: string;
}>;

/** The hash a signature binds: SHA-256 of the result's canonical JSON. */
export function resultSha256(result: ScoreResult): string {
  return sha256Hex(canonicalJson(result));
}

/** Signs a deep result as a compact JWS (EdDSA) verifiable with /.well-known/jwks.json. */
export function signAssessment(
  result: ScoreResult,
  ids: Readonly<{ issuer: string; agentId: string; assessmentId: string; at: number }>,
  key: SigningKey,
): string {
  const claims: AssessmentClaims = {
    iss: ids.issuer,
    sub: ids.agentId,
    jti: ids.assessmentId,
    iat: Math.floor(ids.at / 1000),
    pack: result.pack,
    risk_tier: result.risk_tier,
    grade: result.grade,
    score: result.score,
    input_sha256: result.input_sha256,
    result_sha256: resultSha256(result),
  };
  return signJwt(ASSESSMENT_TYP, claims, key);
}
