import type { Role } from "../scopes.js";
import type { AuditContext, AuditLog } from "./audit-log.js";
import type { Db } from "./db.js";

export type OrganizationRecord = Readonly<{
  id: string;
  name: string;
  createdBy: string;
  createdAt: number;
}>;

/** An organization as one of its members sees it. */
export type MembershipView = Readonly<{ id: string; name: string; role: Role; createdAt: number }>;

export type MemberRecord = Readonly<{
  operatorId: string;
  email: string;
  name: string;
  role: Role;
  createdAt: number;
}>;

export type AddMemberResult = "added" | "already_member";
export type RemoveMemberResult = "removed" | "not_member" | "last_owner";
export type ChangeRoleResult = "changed" | "unchanged" | "not_member" | "last_owner";

/** Organizations and who belongs to them with which role. */
export class OrganizationRepo {
  readonly #db: Db;
  readonly #audit: AuditLog | undefined;
  readonly #insertOrg;
  readonly #insertMember;
  readonly #byId;
  readonly #role;
  readonly #forOperator;
  readonly #members;
  readonly #member;
  readonly #deleteMember;
  readonly #owners;
  readonly #setRole;

  constructor(db: Db, audit?: AuditLog) {
    this.#db = db;
    this.#audit = audit;
    this.#insertOrg = db.prepare(
      `INSERT INTO organizations (id, name, created_by, created_at) VALUES (?, ?, ?, ?)`,
    );
    this.#insertMember = db.prepare(
      `INSERT INTO memberships (org_id, operator_id, role, created_at) VALUES (?, ?, ?, ?)`,
    );
    this.#byId = db.prepare(
      `SELECT id, name, created_by AS createdBy, created_at AS createdAt FROM organizations WHERE id = ?`,
    );
    this.#role = db
      .prepare(`SELECT role FROM memberships WHERE org_id = ? AND operator_id = ?`)
      .pluck();
    this.#forOperator = db.prepare(
      `SELECT o.id, o.name, m.role, o.created_at AS createdAt
         FROM memberships m JOIN organizations o ON o.id = m.org_id
        WHERE m.operator_id = ? ORDER BY o.seq`,
    );
    const memberColumns = `m.operator_id AS operatorId, p.email, p.name, m.role, m.created_at AS createdAt
         FROM memberships m JOIN operators p ON p.id = m.operator_id`;
    this.#members = db.prepare(`SELECT ${memberColumns} WHERE m.org_id = ? ORDER BY p.seq`);
    this.#member = db.prepare(`SELECT ${memberColumns} WHERE m.org_id = ? AND m.operator_id = ?`);
    this.#deleteMember = db.prepare(`DELETE FROM memberships WHERE org_id = ? AND operator_id = ?`);
    this.#setRole = db.prepare(
      `UPDATE memberships SET role = ? WHERE org_id = ? AND operator_id = ?`,
    );
    this.#owners = db
      .prepare(`SELECT count(*) FROM memberships WHERE org_id = ? AND role = 'owner'`)
      .pluck();
  }

  /** Creates an organization with `org.createdBy` as its owner, audited, in one transaction. */
  create(org: OrganizationRecord, context: AuditContext = {}): void {
    this.#db
      .transaction(() => {
        this.#insertOrg.run(org.id, org.name, org.createdBy, org.createdAt);
        this.#insertMember.run(org.id, org.createdBy, "owner", org.createdAt);
        this.#audit?.append({
          action: "organization.created",
          at: org.createdAt,
          actor: context.actor ?? org.createdBy,
          data: { org_id: org.id, request_id: context.requestId },
        });
      })
      .immediate();
  }

  byId(id: string): OrganizationRecord | undefined {
    return this.#byId.get(id) as OrganizationRecord | undefined;
  }

  /** The operator's role in the organization, or undefined when not a member. */
  roleOf(orgId: string, operatorId: string): Role | undefined {
    return this.#role.get(orgId, operatorId) as Role | undefined;
  }

  /** Every organization the operator belongs to, oldest first. */
  forOperator(operatorId: string): MembershipView[] {
    return this.#forOperator.all(operatorId) as MembershipView[];
  }

  members(orgId: string): MemberRecord[] {
    return this.#members.all(orgId) as MemberRecord[];
  }

  member(orgId: string, operatorId: string): MemberRecord | undefined {
    return this.#member.get(orgId, operatorId) as MemberRecord | undefined;
  }

  /** Adds an operator with a role, audited; an existing member is left as they are. */
  addMember(
    orgId: string,
    operatorId: string,
    role: Role,
    at: number,
    context: AuditContext = {},
  ): AddMemberResult {
    return this.#db
      .transaction((): AddMemberResult => {
        if (this.roleOf(orgId, operatorId) !== undefined) return "already_member";
        this.#insertMember.run(orgId, operatorId, role, at);
        this.#audit?.append({
          action: "member.added",
          at,
          actor: context.actor ?? null,
          data: { org_id: orgId, operator_id: operatorId, role, request_id: context.requestId },
        });
        return "added";
      })
      .immediate();
  }

  /**
   * Removes a member, audited. The count of owners is read inside the same IMMEDIATE transaction,
   * so two owners removing each other at once cannot leave the organization without one.
   */
  removeMember(
    orgId: string,
    operatorId: string,
    at: number,
    context: AuditContext = {},
  ): RemoveMemberResult {
    return this.#db
      .transaction((): RemoveMemberResult => {
        const role = this.roleOf(orgId, operatorId);
        if (role === undefined) return "not_member";
        if (role === "owner" && (this.#owners.get(orgId) as number) <= 1) return "last_owner";
        this.#deleteMember.run(orgId, operatorId);
        this.#audit?.append({
          action: "member.removed",
          at,
          actor: context.actor ?? null,
          data: { org_id: orgId, operator_id: operatorId, role, request_id: context.requestId },
        });
        return "removed";
      })
      .immediate();
  }

  /**
   * Gives a member another role, audited. As for removal, the owners are counted inside the
   * IMMEDIATE transaction: the last owner cannot be demoted.
   */
  changeRole(
    orgId: string,
    operatorId: string,
    role: Role,
    at: number,
    context: AuditContext = {},
  ): ChangeRoleResult {
    return this.#db
      .transaction((): ChangeRoleResult => {
        const current = this.roleOf(orgId, operatorId);
        if (current === undefined) return "not_member";
        if (current === role) return "unchanged";
        if (current === "owner" && (this.#owners.get(orgId) as number) <= 1) return "last_owner";
        this.#setRole.run(role, orgId, operatorId);
        this.#audit?.append({
          action: "member.role_changed",
          at,
          actor: context.actor ?? null,
          data: {
            org_id: orgId,
            operator_id: operatorId,
            from: current,
            role,
            request_id: context.requestId,
          },
        });
        return "changed";
      })
      .immediate();
  }
}
