import type { Db } from "./db.js";

/** A deep assessment as stored: the signed result JSON and the columns it is looked up by. */
export type AssessmentRecord = Readonly<{
  id: string;
  agentId: string;
  pack: string;
  inputSha256: string;
  riskTier: string;
  grade: string;
  score: number;
  complianceScore: number;
  /** The key that signed it, so a rotation never leaves an assessment unattributed. */
  kid: string;
  /** The engine's result as JSON, exactly as signed. */
  result: string;
  /** The compact JWS over the result's hash. */
  signature: string;
  createdAt: number;
}>;

/** An assessment together with the owner e-mail of the agent it was run for. */
export type OwnedAssessment = AssessmentRecord & Readonly<{ ownerEmail: string }>;

/** Stored deep assessments, behind prepared statements. */
export class AssessmentRepo {
  readonly #insert;
  readonly #byId;
  readonly #kidUsed;

  constructor(db: Db) {
    this.#insert = db.prepare(
      `INSERT INTO assessments (id, agent_id, pack, input_sha256, risk_tier, grade, score,
         compliance_score, kid, result, signature, created_at)
       VALUES (@id, @agentId, @pack, @inputSha256, @riskTier, @grade, @score,
         @complianceScore, @kid, @result, @signature, @createdAt)`,
    );
    this.#byId = db.prepare(
      `SELECT s.id, s.agent_id AS agentId, s.pack, s.input_sha256 AS inputSha256,
              s.risk_tier AS riskTier, s.grade, s.score, s.compliance_score AS complianceScore,
              s.kid, s.result, s.signature, s.created_at AS createdAt,
              a.owner_email AS ownerEmail
         FROM assessments s JOIN agents a ON a.id = s.agent_id
        WHERE s.id = ?`,
    );
    this.#kidUsed = db.prepare(`SELECT 1 FROM assessments WHERE kid = ? LIMIT 1`).pluck();
  }

  /** Stores a new assessment (durable before the response is sent). */
  insert(record: AssessmentRecord): void {
    this.#insert.run(record);
  }

  /** True when key `kid` signed an assessment: its public key must stay published. */
  kidUsed(kid: string): boolean {
    return this.#kidUsed.get(kid) !== undefined;
  }

  /** The assessment with this id and its agent's owner e-mail; undefined when there is none. */
  byId(id: string): OwnedAssessment | undefined {
    return this.#byId.get(id) as OwnedAssessment | undefined;
  }
}
